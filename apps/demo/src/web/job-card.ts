/**
 * One job as a card: status, progress, ETA, what it cost (requests, detection latency) and a
 * timeline of every status request against the moment the job really ended.
 */
import type { HistoryEntry, Job, ProgressEstimate } from '@video-translation/client'

/** What the page knows about one job. */
export interface JobState {
  job: Job
  /** The polling strategy's name. */
  strategy: string
  /** When this page learned the job was terminal (ms since the epoch). */
  detectedAt?: number
  /** An error to show, written for a person. */
  problem?: string
  history: HistoryEntry[]
  /** Attempts that failed and were retried inside one status check (time, what happened). */
  retried: { at: number; what: string }[]
  cancel: () => void
  /** Progress and time left now, interpolated by the client between its checks. */
  estimate?: () => ProgressEstimate
}

const TERMINAL = new Set(['completed', 'error', 'canceled'])
const SVG = 'http://www.w3.org/2000/svg'

/** The card of `state` at `now`. */
export function renderJob(state: JobState, now: number): HTMLLIElement {
  const { job } = state
  const card = element('li', { class: 'job', 'data-job-id': job.id, 'data-status': job.status })
  const header = element('header')
  header.append(
    element('strong', {}, job.title ?? 'Untitled'),
    element('span', { class: 'id' }, job.id),
    element('span', { class: `badge ${job.status}`, 'data-testid': 'status' }, job.status),
    element('span', { class: 'metrics' }, `${job.target_language} · ${state.strategy}`),
  )
  if (!TERMINAL.has(job.status)) {
    const cancel = element('button', { type: 'button', class: 'secondary' }, 'Cancel')
    cancel.setAttribute('aria-label', `Cancel job ${job.id}`)
    cancel.addEventListener('click', state.cancel)
    header.append(cancel)
  }
  // Between checks, the client's estimate moves on (never to 100 % before the server says so).
  const estimate = TERMINAL.has(job.status) ? undefined : state.estimate?.()
  const done = estimate?.progress ?? job.progress
  // Once the wait is over (a job ended, or the wait failed), no time left is shown.
  const over = state.detectedAt !== undefined
  const etaMs = over ? undefined : estimate ? estimate.etaMs : (job.eta_ms ?? undefined)
  const progress = element('progress', {
    max: '1',
    value: String(done),
    class: `progress ${job.status}`,
  })
  progress.setAttribute('aria-label', `Progress of job ${job.id}`)
  const finishedAt = TERMINAL.has(job.status) ? Date.parse(job.updated_at) : undefined
  // A job canceled from this page was not detected: it was ended here.
  const detection =
    finishedAt !== undefined && state.detectedAt !== undefined && job.status !== 'canceled'
      ? `detected ${Math.max(0, state.detectedAt - finishedAt)} ms after it ended`
      : ''
  const metrics = element('div', { class: 'metrics' })
  metrics.append(
    element('span', {}, `${Math.round(done * 100)} %`),
    element('span', {}, etaMs === undefined ? '' : `ETA ${(etaMs / 1000).toFixed(1)} s`),
    element(
      'span',
      { 'data-testid': 'requests' },
      plural(state.history.length + state.retried.length, 'request'),
    ),
    element('span', {}, detection),
  )
  card.append(
    header,
    progress,
    metrics,
    timeline(state, now, finishedAt),
    axis(state, now, finishedAt),
  )
  // Failed attempts, readable without hovering over their dots: the last three.
  if (state.retried.length > 0) {
    const failures = element('ul', { class: 'failures', 'data-testid': 'failures' })
    for (const retry of state.retried.slice(-3)) {
      const at = ((retry.at - Date.parse(job.created_at)) / 1000).toFixed(1)
      failures.append(element('li', {}, `+${at} s: ${retry.what}`))
    }
    card.append(failures)
  }
  // The result, as a link only when it is one (a server could send a javascript: URL).
  if (job.result) {
    const { url } = job.result
    const result = element('p', { class: 'metrics result', 'data-testid': 'result' }, 'Result: ')
    result.append(
      /^https?:\/\//i.test(url)
        ? element('a', { href: url, target: '_blank', rel: 'noopener noreferrer' }, url)
        : document.createTextNode(url),
    )
    card.append(result)
  }
  // Not an alert: the card is drawn again twice a second, and an alert would be read out again.
  if (state.problem) card.append(element('p', { class: 'problem' }, state.problem))
  return card
}

/** The time a card's timeline spans, from the job's creation, in ms. */
function spanOf(state: JobState, now: number, finishedAt: number | undefined): number {
  const seen = [...state.history.map((h) => h.at), ...state.retried.map((r) => r.at)]
  const last = Math.max(state.detectedAt ?? now, finishedAt ?? 0, ...seen)
  return Math.max(1_000, last - Date.parse(state.job.created_at))
}

/** Under the timeline: its time axis and what its marks mean. */
function axis(state: JobState, now: number, finishedAt: number | undefined): HTMLElement {
  const row = element('div', { class: 'axis', 'data-testid': 'axis' })
  row.append(
    element('span', {}, '0 s'),
    legend(),
    element('span', {}, `${(spanOf(state, now, finishedAt) / 1000).toFixed(1)} s`),
  )
  return row
}

/** What the timeline's marks mean, in their colours. */
function legend(): HTMLElement {
  const row = element('span', { class: 'legend' })
  row.append(
    element('span', { class: 'ok' }, '●'),
    ' answered   ',
    element('span', { class: 'failed' }, '●'),
    ' failed, retried   ┆ the job’s real end',
  )
  return row
}

/** Every status request as a dot (green: answered, red: failed) and the real end as a line. */
function timeline(state: JobState, now: number, finishedAt: number | undefined): SVGSVGElement {
  const start = Date.parse(state.job.created_at)
  const span = spanOf(state, now, finishedAt)
  const x = (t: number) => 8 + ((t - start) / span) * 984
  const svg = document.createElementNS(SVG, 'svg')
  svg.setAttribute('class', 'timeline')
  svg.setAttribute('viewBox', '0 0 1000 44')
  svg.setAttribute('preserveAspectRatio', 'none')
  svg.setAttribute('role', 'img')
  svg.setAttribute('data-testid', 'timeline')
  svg.setAttribute(
    'aria-label',
    `${plural(state.history.length + state.retried.length, 'status request')} over ${(span / 1000).toFixed(1)} s`,
  )
  svg.append(
    shape('line', {
      x1: '8',
      x2: '992',
      y1: '22',
      y2: '22',
      stroke: '#c4cad6',
      'stroke-width': '2',
      'vector-effect': 'non-scaling-stroke',
    }),
  )
  if (finishedAt !== undefined) {
    svg.append(
      shape('line', {
        x1: String(x(finishedAt)),
        x2: String(x(finishedAt)),
        y1: '4',
        y2: '40',
        stroke: '#1d2330',
        'stroke-dasharray': '4 3',
        'stroke-width': '2',
        'vector-effect': 'non-scaling-stroke',
      }),
    )
  }
  for (const retry of state.retried) {
    const dot = mark(x(retry.at), 10, '#d93025', 'request retried')
    const title = document.createElementNS(SVG, 'title')
    title.textContent = `${new Date(retry.at).toISOString().slice(11, 23)} poll failed, retried: ${retry.what}`
    dot.append(title)
    svg.append(dot)
  }
  for (const entry of state.history) {
    const ok = entry.httpStatus !== null && entry.httpStatus < 400
    const dot = mark(x(entry.at), 12, ok ? '#1f9d55' : '#d93025', 'request')
    const title = document.createElementNS(SVG, 'title')
    title.textContent = `${new Date(entry.at).toISOString().slice(11, 23)} poll → ${entry.httpStatus ?? 'no response'} ${entry.status ?? entry.error ?? ''} (${entry.latencyMs} ms)`
    dot.append(title)
    svg.append(dot)
  }
  return svg
}

function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string> = {},
  text?: string,
) {
  const node = document.createElement(tag)
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value)
  if (text !== undefined) node.textContent = text
  return node
}

/**
 * A round dot of `size` screen pixels at `x` on the timeline's line: a line of (almost) no
 * length with round caps, its stroke unscaled, stays round however wide the card stretches the
 * drawing (a circle would flatten into an ellipse on a narrow screen). Not quite no length: an
 * element with an empty box counts as unseen (to tools and tests).
 */
function mark(x: number, size: number, colour: string, className: string): SVGElement {
  return shape('line', {
    x1: String(x - 0.05),
    x2: String(x + 0.05),
    y1: '21.95',
    y2: '22.05',
    stroke: colour,
    'stroke-width': String(size),
    'stroke-linecap': 'round',
    'vector-effect': 'non-scaling-stroke',
    class: className,
  })
}

function shape(tag: string, attributes: Record<string, string>): SVGElement {
  const node = document.createElementNS(SVG, tag)
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value)
  return node
}

/** `1 request`, `2 requests`. */
export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`
}
