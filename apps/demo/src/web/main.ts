/**
 * The demo page: submits jobs with @video-translation/client (in the browser, across origins),
 * waits for each, and draws every request it cost; the simulator panel changes the mock server's
 * settings through its admin API.
 */
import {
  createClient,
  exponentialBackoff,
  fixedInterval,
  hintAware,
  isCircuitOpenError,
  isJobFailedError,
  isNetworkError,
  isVideoTranslationError,
  type PollingStrategy,
  type WaitState,
} from '@video-translation/client'
import { type JobState, plural, renderJob } from './job-card.js'
import { isUnreachable, plainFetch } from './plain-fetch.js'
import { race, type Side } from './race.js'
import { renderSummary } from './summary.js'

declare const __DEMO_CONFIG__: { apiUrl: string; apiKey: string; adminKey: string }
const config = __DEMO_CONFIG__

// A demo recovers in seconds: the breaker probes again after 5 s rather than the default 30 s.
const client = createClient({
  baseUrl: config.apiUrl,
  apiKey: config.apiKey,
  circuitBreaker: { failureThreshold: 5, resetTimeoutMs: 5_000 },
  // The page shows polling strategies at work, check by check: no push transport.
  transport: 'poll',
})
const states = new Map<string, JobState>()
const list = document.querySelector<HTMLOListElement>('#jobs')
const status = document.querySelector<HTMLParagraphElement>('#status')
const totals = document.querySelector<HTMLSpanElement>('#totals')
const summary = document.querySelector<HTMLElement>('#summary')
const empty = document.querySelector<HTMLParagraphElement>('#empty')

const withHints = hintAware(exponentialBackoff())
const STRATEGIES: Record<string, PollingStrategy> = {
  hints: withHints,
  // The same schedule, blind to what the server says.
  backoff: { nextDelay: (context) => withHints.nextDelay({ ...context, hints: {} }) },
  fixed: fixedInterval(1_000),
}

/** A sentence a person can act on. */
function explain(error: unknown): string {
  if (isJobFailedError(error)) {
    return error.job.status === 'canceled'
      ? 'Canceled.'
      : `The job failed: ${error.job.error?.message ?? 'no details'}`
  }
  if (isNetworkError(error) || isUnreachable(error))
    return `Cannot reach the mock server at ${config.apiUrl}: is \`pnpm dev\` still running?`
  if (isCircuitOpenError(error)) {
    return `The mock server at ${config.apiUrl} keeps failing or cannot be reached: the client pauses its requests a few seconds (circuit open).`
  }
  return error instanceof Error ? error.message : String(error)
}

function say(message: string, isError = false): void {
  if (!status) return
  status.textContent = message
  status.classList.toggle('error', isError)
}

function render(): void {
  if (!list) return
  const now = Date.now()
  // Cards are drawn anew, but for one holding the focus while its job's status stays (a new card
  // would lose the focus, and a Space press half made on its Cancel button): it stays as it is.
  // Once the status changes (its Cancel button gone, say), the new card takes the focus.
  const focused = document.activeElement?.closest<HTMLElement>('li.job') ?? undefined
  const focusedState = focused ? states.get(focused.dataset.jobId ?? '') : undefined
  const keep = focused?.dataset.status === focusedState?.job.status ? focused : undefined
  const cards = [...states.values()]
    .reverse()
    .map((state) => (keep && state === focusedState ? keep : renderJob(state, now)))
  if (keep) {
    // Never taken out of the page, even for a moment: that would take the focus from it.
    for (const child of [...list.children]) if (child !== keep) child.remove()
    const at = cards.indexOf(keep)
    keep.before(...cards.slice(0, at))
    keep.after(...cards.slice(at + 1))
  } else list.replaceChildren(...cards)
  if (focusedState && !keep) {
    const card = [...list.querySelectorAll<HTMLElement>('li.job')].find(
      (c) => c.dataset.jobId === focusedState.job.id,
    )
    card?.setAttribute('tabindex', '-1')
    card?.focus()
  }
  // Many jobs: one line each (status, progress, requests), so the page stays a page.
  list.classList.toggle('compact', states.size > 8)
  const all = [...states.values()]
  const requests = all.reduce((sum, s) => sum + s.history.length + s.retried.length, 0)
  if (totals)
    totals.textContent = all.length ? `(${all.length}, ${plural(requests, 'request')})` : ''
  if (summary) renderSummary(summary, all)
  if (empty) empty.hidden = all.length > 0
}

async function follow(id: string, strategyName: string): Promise<void> {
  const state = states.get(id)
  if (!state) return
  state.cancel = () => {
    // The cancel's answer is the canceled job: shown at once, not at the wait's next check.
    client.jobs.cancel(id).then(
      (job) => {
        state.job = job
        render()
      },
      (error: unknown) => say(explain(error), true),
    )
  }
  const options = {
    timeoutMs: 15 * 60_000,
    onProgress: (job: JobState['job'], wait: WaitState) => {
      state.job = job
      state.history = client.jobs.history(id)
      state.estimate = () => wait.estimate()
      render()
    },
  }
  try {
    state.job = await client.jobs.wait(id, {
      ...options,
      polling: STRATEGIES[strategyName] ?? withHints,
    })
  } catch (error) {
    if (isJobFailedError(error)) state.job = error.job
    state.problem = explain(error)
    // Said where a screen reader hears it (the card is drawn again and again: no alert there).
    if (state.job.status !== 'canceled') say(`${state.job.title ?? id}: ${state.problem}`, true)
  }
  // The wait is over: no estimate moves on from its last answer (a wait that failed leaves the
  // job as last seen).
  delete state.estimate
  state.detectedAt = Date.now()
  state.history = client.jobs.history(id)
  render()
}

// Told again, with the same number, while one opening goes on (a probe that learned nothing).
let lastOpening = 0
client.on('circuit:open', ({ state }) => {
  if (state.state !== 'open' || state.opening === lastOpening) return
  lastOpening = state.opening
  say('The server keeps failing: requests pause a few seconds (circuit open).', true)
})
client.on('circuit:close', () => say('The server answers again (circuit closed).'))

// Attempts retried inside one status check never reach the history: draw them from the events.
client.on('request:retry', ({ path, error }) => {
  const id = /^\/v1\/jobs\/([^/]+)$/.exec(path)?.[1]
  const state = id === undefined ? undefined : states.get(decodeURIComponent(id))
  state?.retried.push({
    at: Date.now(),
    what: isVideoTranslationError(error) ? error.message : String(error),
  })
})

/** Jobs submitted from this page so far: their titles' numbers. */
let numbered = 0

document
  .querySelector<HTMLFormElement>('#submit-form')
  ?.addEventListener('submit', async (event) => {
    event.preventDefault()
    const form = new FormData(event.currentTarget as HTMLFormElement)
    const count = Math.min(20, Math.max(1, Number(form.get('count')) || 1))
    const strategy = String(form.get('strategy'))
    say(`Submitting ${count} job${count > 1 ? 's' : ''}…`)
    let created = 0
    try {
      for (let i = 0; i < count; i++) {
        const job = await client.jobs.create({
          video_url: String(form.get('video_url')),
          target_language: String(form.get('target_language')),
          // Numbered in the order submitted, whatever else is on the page.
          title: `Job ${++numbered}`,
          simulate: {
            duration_ms: Math.round(Number(form.get('duration')) * 1000),
            // `random`: as the simulator's error rate decides.
            ...(form.get('outcome') !== 'random' && {
              outcome: form.get('outcome') === 'error' ? 'error' : 'completed',
            }),
          },
        })
        states.set(job.id, { job, strategy, history: [], retried: [], cancel: () => undefined })
        created++
        void follow(job.id, strategy)
      }
      say(`Submitted ${created} job${created > 1 ? 's' : ''}.`)
    } catch (error) {
      say(`Submitted ${created} of ${count}: ${explain(error)}`, true)
    }
    render()
  })

document.querySelector<HTMLFormElement>('#sim-form')?.addEventListener('submit', async (event) => {
  event.preventDefault()
  const form = new FormData(event.currentTarget as HTMLFormElement)
  const latency = Number(form.get('latency'))
  const patch = {
    hints: { mode: String(form.get('hints')) },
    error_rate: Number(form.get('error_rate')),
    faults: { rate_503: Number(form.get('rate_503')), retry_after_s: 1 },
    latency_ms: { min: latency, max: latency },
  }
  try {
    const response = await plainFetch(`${config.apiUrl}/v1/simulation`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${config.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(patch),
    })
    const body = (await response.json()) as { detail?: string }
    if (!response.ok) throw new Error(body.detail ?? `HTTP ${response.status}`)
    say(`Simulator settings applied (503 rate ${patch.faults.rate_503}).`)
  } catch (error) {
    say(`Could not change the simulator: ${explain(error)}`, true)
  }
})

const raceTable = document.querySelector<HTMLTableElement>('#race')
const raceButton = document.querySelector<HTMLButtonElement>('#race-start')

/** Draws the race's two rows. */
function drawRace(sides: readonly Side[]): void {
  const body = raceTable?.tBodies[0]
  if (!raceTable || !body) return
  raceTable.hidden = false
  body.replaceChildren(
    ...sides.map((side, i) => {
      const row = document.createElement('tr')
      row.dataset.testid = i === 0 ? 'race-sdk' : 'race-loop'
      const mean = side.lateness.length
        ? `${Math.round(side.lateness.reduce((a, b) => a + b, 0) / side.lateness.length)} ms`
        : '–'
      for (const text of [
        side.label,
        String(side.requests),
        `${side.lateness.length} of 5`,
        mean,
      ]) {
        const cell = document.createElement(row.children.length === 0 ? 'th' : 'td')
        cell.textContent = text
        row.append(cell)
      }
      return row
    }),
  )
}

raceButton?.addEventListener('click', async () => {
  raceButton.disabled = true
  say('Racing five jobs…')
  try {
    const [sdk, loop] = await race(config, 5, drawRace)
    say(`Race over: ${sdk.requests} requests against ${loop.requests}.`)
  } catch (error) {
    say(explain(error), true)
  } finally {
    raceButton.disabled = false
  }
})

// Time moves on the cards of unfinished jobs (their timelines, and progress and time left as the
// client estimates them between its checks): redrawn twice a second.
setInterval(() => {
  if ([...states.values()].some((s) => s.detectedAt === undefined)) render()
}, 500)
render()
