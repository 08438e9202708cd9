/**
 * Bad input from the server to the client: a hostile server answering every status check the
 * same wrong way (broken bodies, wrong field types, unknown statuses, statuses going backwards,
 * redirects, 204/304 without cause, hints out of range, broken event streams and batches), and a
 * look at how each wait ended. Virtual time: the figures are the same on every machine.
 *
 * A wait must end by its deadline with its true job or a typed error (never an untyped one, never
 * a job the server did not complete), without an unhandled rejection and without a request loop.
 */
import { createRandom, sleep } from '@video-translation/mock-server'
import {
  createClient,
  type FetchLike,
  isVideoTranslationError,
  type Job,
  type JobStatus,
} from '../src/index.js'
import { jobBody } from '../test/fake-fetch.js'
import { drive, virtualClock } from './drive.js'

const ID = 'job_bad'
const OTHER = 'job_other'
/** Each wait's deadline. */
const DEADLINE_MS = 10 * 60_000

/** A job's wire body: running, with no ETA, unless `patch` says otherwise. */
const body = (patch: Record<string, unknown> = {}) =>
  jobBody({ id: ID, eta_ms: null, result: null, ...patch })

const COMPLETED = { status: 'completed', progress: 1, result: { url: 'https://cdn.test/a.mp4' } }

const json = (body: unknown, init: ResponseInit = {}) =>
  new Response(typeof body === 'string' ? body : JSON.stringify(body), {
    ...init,
    headers: { 'content-type': 'application/json', ...init.headers },
  })
const stream = (text: string) =>
  new Response(text, { headers: { 'content-type': 'text/event-stream' } })

/** One hostile server: what it answers to the `n`-th status request (from 0). */
export interface BadCase {
  name: string
  answer: (n: number, url: URL) => Response
  /** How the client waits: one job polled (the default), two in a batch, or pushed. */
  via?: 'wait' | 'waitAll' | 'sse' | 'long-poll'
  /** The connection dropped `afterMs` into each held request (`all`: into every request). */
  cut?: { afterMs: number; all?: boolean }
}

/** The hostile servers, one way of being wrong each. */
export const BAD_CASES: BadCase[] = [
  { name: 'a truncated JSON body', answer: () => json('{"id":"job_bad","status":"runn') },
  {
    name: 'an HTML page with 200',
    answer: () => new Response('<html>hi</html>', { headers: { 'content-type': 'text/html' } }),
  },
  { name: 'an empty body', answer: () => json('') },
  { name: 'JSON null', answer: () => json('null') },
  { name: 'a JSON array', answer: () => json([body()]) },
  { name: 'a status of the wrong type', answer: () => json(body({ status: 42 })) },
  { name: 'an unknown status', answer: () => json(body({ status: 'paused' })) },
  { name: 'progress out of range', answer: () => json(body({ progress: 7 })) },
  { name: 'eta_ms beyond any number', answer: () => json('{"eta_ms":1e400,"id":"job_bad"}') },
  { name: 'a negative eta_ms', answer: () => json(body({ eta_ms: -5_000 })) },
  { name: 'completed without a result', answer: () => json(body({ status: 'completed' })) },
  {
    name: "another job's body, completed",
    answer: () => json(body({ ...COMPLETED, id: OTHER })),
  },
  {
    name: 'prototype keys in the body',
    answer: () =>
      json(
        `{"__proto__":{"status":"completed","result":{"url":"x"}},${JSON.stringify(body()).slice(1)}`,
      ),
  },
  { name: 'deeply nested JSON', answer: () => json(`${'['.repeat(5_000)}${']'.repeat(5_000)}`) },
  {
    name: 'a 4 MB body',
    answer: () => json(body({ title: 'x'.repeat(4_000_000) })),
  },
  {
    name: 'a redirect to another host',
    answer: () =>
      new Response(null, { status: 302, headers: { location: 'http://elsewhere.test/' } }),
  },
  { name: '204 without cause', answer: () => new Response(null, { status: 204 }) },
  { name: '304 with no ETag asked', answer: () => new Response(null, { status: 304 }) },
  {
    name: 'Retry-After beyond the timer range',
    answer: () =>
      json(
        { title: 'busy', status: 503 },
        { status: 503, headers: { 'retry-after': '99999999999' } },
      ),
  },
  {
    name: 'Retry-After in the year 9999',
    answer: () =>
      json(
        { title: 'busy', status: 503 },
        { status: 503, headers: { 'retry-after': 'Fri, 31 Dec 9999 23:59:59 GMT' } },
      ),
  },
  {
    name: 'Retry-After negative',
    answer: () =>
      json({ title: 'slow down', status: 429 }, { status: 429, headers: { 'retry-after': '-1' } }),
  },
  {
    name: 'Retry-After: 0 on every 429',
    answer: () =>
      json({ title: 'slow down', status: 429 }, { status: 429, headers: { 'retry-after': '0' } }),
  },
  {
    name: 'rate-limit headers of zero',
    answer: () =>
      json(body(), {
        headers: { ratelimit: 'limit=0, remaining=0, reset=0', 'ratelimit-policy': '0;w=0' },
      }),
  },
  {
    name: 'a 500 forever',
    answer: () => json({ title: 'oops', status: 500 }, { status: 500 }),
  },
  {
    name: 'a status going backwards after completing',
    answer: (n) => json(body(n === 2 ? COMPLETED : { status: n > 2 ? 'pending' : 'running' })),
  },
  {
    name: 'a batch answer missing the ids asked',
    via: 'waitAll',
    answer: (_n, url) =>
      url.searchParams.has('ids')
        ? json({ jobs: [], missing: [] })
        : json(body({ ...COMPLETED, id: url.pathname.split('/')[3] })),
  },
  {
    name: 'a batch answer of jobs not asked for',
    via: 'waitAll',
    answer: (_n, url) =>
      url.searchParams.has('ids')
        ? json({ jobs: [body({ ...COMPLETED, id: OTHER })], missing: [] })
        : json(body()),
  },
  {
    name: 'a status flipping between pending and running (long-poll)',
    via: 'long-poll',
    answer: (n) =>
      json(body({ status: n % 2 === 0 ? 'pending' : 'running' }), {
        headers: { etag: `"e${n}"` },
      }),
  },
  {
    name: 'held requests dropped after 2 s (long-poll)',
    via: 'long-poll',
    answer: () => json(body()),
    cut: { afterMs: 2_000 },
  },
  {
    name: 'every request dropped after 2 s (long-poll)',
    via: 'long-poll',
    answer: () => json(body()),
    cut: { afterMs: 2_000, all: true },
  },
  {
    name: 'an event stream of garbage',
    via: 'sse',
    answer: () => stream('retry: -5\nevent: status\ndata: {not json\n\ndata: \u0000\n\n'),
  },
  {
    name: "an event stream of another job's end",
    via: 'sse',
    answer: () =>
      stream(
        `event: status\nid: 1\ndata: ${JSON.stringify(body({ ...COMPLETED, id: OTHER }))}\n\n`,
      ),
  },
]

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
