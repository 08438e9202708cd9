/**
 * Bad input from the server to the client: a hostile server answering every status check the
 * same wrong way (the cases, in hostile-server-cases.ts: broken bodies, wrong field types,
 * unknown statuses, statuses going backwards, redirects, 204/304 without cause, hints out of
 * range, broken event streams and batches), and a look at how each wait ended. Virtual time: the figures are the same on every machine.
 *
 * A wait must end by its deadline with its true job or a typed error (never an untyped one, never
 * a job the server did not complete), without an unhandled rejection and without a request loop.
 */
import { createRandom, sleep } from '@video-translation/mock-server'
import { createClient, type FetchLike, isVideoTranslationError, type Job } from '../src/index.js'
import { drive, virtualClock } from './drive.js'
import { type BadCase, ID } from './hostile-server-cases.js'

/** Each wait's deadline. */
const DEADLINE_MS = 10 * 60_000

/** How one hostile server's wait ended. */
export interface BadCaseResult {
  name: string
  /** `job`: resolved with a job; `typed`: a typed error; `untyped`, `hung`: defects. */
  outcome: 'job' | 'typed' | 'untyped' | 'hung'
  /** The error's name, or the job's status. */
  detail: string
  /** A job the server never completed, reported as completed: a defect. */
  wrong: boolean
  requests: number
  /** The most requests sent within one second of virtual time. */
  busiestSecond: number
  unhandled: number
}

/**
 * A way of waiting for `ids` through `fetch` on a virtual clock: the SDK's (the default), or a
 * deliberately naive loop to show the checks catch one (a test of the test).
 */
export type Waiter = (
  fetch: FetchLike,
  ids: string[],
  via: NonNullable<BadCase['via']>,
  clock: ReturnType<typeof virtualClock>['clock'],
  deadlineMs: number,
) => Promise<Job[]>

const sdkWaiter: Waiter = async (fetch, ids, via, clock, deadlineMs) => {
  const client = createClient({
    baseUrl: 'http://hostile.test',
    apiKey: 'vt_bad_input_key',
    fetch,
    clock,
    // Seeded: the figures are the same on every run.
    random: createRandom(7),
    transport: via === 'sse' || via === 'long-poll' ? via : 'poll',
  })
  if (via !== 'waitAll') return [await client.jobs.wait(ids[0] ?? ID, { timeoutMs: deadlineMs })]
  const outcomes = await client.jobs.waitAll(ids, { timeoutMs: deadlineMs })
  return outcomes.map((outcome) => {
    if (outcome.status === 'rejected') throw outcome.reason
    return outcome.job
  })
}

/** Runs one hostile server against a waiter, whose waits must end within `deadlineMs`. */
export async function runBadCase(
  bad: BadCase,
  waiter: Waiter = sdkWaiter,
  deadlineMs = DEADLINE_MS,
): Promise<BadCaseResult> {
  const { manual, clock } = virtualClock()
  const times: number[] = []
  /** Ids the server sent as completed with a result, valid as far as the wire goes. */
  const completedSent = new Set<string>()
  const fetch: FetchLike = async (input, init) => {
    const url = new URL(input)
    const response = bad.answer(times.length, url)
    times.push(manual.now())
    if (bad.cut && (bad.cut.all || url.searchParams.has('wait'))) {
      await sleep(manual, bad.cut.afterMs, init.signal ?? undefined)
      throw new TypeError('terminated')
    }
    const text = await response.clone().text()
    if (/"status":"completed"/.test(text) && /"result":\{"url"/.test(text)) {
      const completed: string[] = text.match(/"id":"(job_\w+)"/g) ?? []
      for (const id of completed) completedSent.add(id.slice(6, -1))
    }
    return response
  }
  let unhandled = 0
  const onUnhandled = () => {
    unhandled++
  }
  process.on('unhandledRejection', onUnhandled)
  const via = bad.via ?? 'wait'
  const ids = via === 'waitAll' ? [ID, 'job_bad2'] : [ID]
  let jobs: Job[] | undefined
  let error: unknown
  const waiting = waiter(fetch, ids, via, clock, deadlineMs).then(
    (value) => {
      jobs = value
    },
    (reason) => {
      error = reason
    },
  )
  const settled = await drive(manual, waiting, deadlineMs + 60_000)
  // One more turn for a rejection nobody handled to be reported.
  await new Promise((resolve) => setTimeout(resolve, 0))
  process.off('unhandledRejection', onUnhandled)
  let busiestSecond = 0
  for (let i = 0, j = 0; i < times.length; i++) {
    while ((times[i] ?? 0) - (times[j] ?? 0) >= 1_000) j++
    busiestSecond = Math.max(busiestSecond, i - j + 1)
  }
  const result = {
    name: bad.name,
    requests: times.length,
    busiestSecond,
    unhandled,
    wrong: false,
  }
  if (!settled) return { ...result, outcome: 'hung', detail: 'no end by the deadline' }
  if (jobs) {
    const wrong = jobs.some(
      (job, i) =>
        job.id !== ids[i] ||
        job.status !== 'completed' ||
        job.result === null ||
        !completedSent.has(job.id),
    )
    return { ...result, outcome: 'job', detail: jobs.map((j) => j.status).join(', '), wrong }
  }
  const typed = isVideoTranslationError(error)
  return {
    ...result,
    outcome: typed ? 'typed' : 'untyped',
    detail: error instanceof Error ? error.name : String(error),
  }
}

/** Whether a case's result breaks no promise: see the module's comment. */
export function heldUp(r: BadCaseResult): boolean {
  return (
    (r.outcome === 'job' || r.outcome === 'typed') &&
    !r.wrong &&
    r.unhandled === 0 &&
    // The client never checks more often than every 100 ms: ten in a second is a request loop.
    r.busiestSecond < 10
  )
}

/**
 * A loop many users write first (fetch, a quick retry when the answer is not ok, `json()`, check
 * the status, sleep a second): the checks must flag it on the cases it does not survive.
 */
export const naiveWaiter: Waiter = async (fetch, ids, _via, clock) => {
  const jobs: Job[] = []
  for (const id of ids) {
    for (;;) {
      const response = await fetch(`http://hostile.test/v1/jobs/${id}`, {})
      if (response.status >= 500 || response.status === 429) {
        await clock.sleep(50)
        continue
      }
      const job = (await response.json()) as Job
      if (job.status === 'completed' || job.status === 'error') {
        jobs.push(job)
        break
      }
      await clock.sleep(1_000)
    }
  }
  return jobs
}
