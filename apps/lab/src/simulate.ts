/**
 * One run: the real client waiting for a workload's jobs with one strategy, against the real
 * mock server. `simulate` runs both in this process on one manual clock: virtual time moves from
 * timer to timer once everything in flight has settled, so a run of hours takes seconds and is
 * the same on every run and every machine. `simulateRealTime` serves the mock over a loopback
 * port on a sped-up system clock, to check that the virtual figures hold over real HTTP.
 */
import {
  type Client,
  type ClientOptions,
  createClient,
  type FetchLike,
  type PollingStrategy,
} from '@video-translation/client'
import {
  type Clock,
  createManualClock,
  createMockServer,
  createRandom,
  createSystemClock,
  DEV_API_KEY,
  sleep,
} from '@video-translation/mock-server'
import { startServer } from '@video-translation/mock-server/node'
import { BASE_SIMULATION, drawJobs, type Workload } from './workloads.js'

/** What happened to one job. */
export interface JobOutcome {
  durationMs: number
  /** Status requests sent for it (retries included; the create not; a batch request of k jobs counts 1/k). */
  requests: number
  /** From the job's end to the moment its wait resolved; NaN when the wait failed. */
  latencyMs: number
  /** Why the wait did not resolve with the completed job, if it did not. */
  failure?: string
}

/** What a run waits for. */
export interface RunPlan {
  workload: Workload
  strategy: PollingStrategy
  count: number
  seed: number
  /** Mean time between arrivals. @default 30_000 */
  meanGapMs?: number
  /** How the client learns of changes. @default 'poll' (the lab compares polling schedules) */
  transport?: 'auto' | 'poll'
  /** Whether waits share requests (`shareRequests`). @default false (each job's checks its own) */
  shareRequests?: boolean
}

/** Runs the plan in virtual time. */
export async function simulate(plan: RunPlan): Promise<JobOutcome[]> {
  const clock = createManualClock(Date.UTC(2026, 0, 1))
  const { app } = createMockServer({ clock, simulation: simulationOf(plan.workload) })
  let inflight = 0
  // The server answers in no virtual time; the whole body is read here (but for event streams),
  // so a reset surfaces as the failed fetch it is over a network.
  const fetch: FetchLike = async (input, init) => {
    inflight++
    try {
      const response = await app.request(input, init)
      // An event stream (W3) lasts as long as its job: handed over as it comes, not awaited.
      if (response.headers.get('content-type')?.startsWith('text/event-stream')) return response
      let body: string
      try {
        body = await response.text()
      } catch (cause) {
        throw new TypeError('fetch failed', { cause })
      }
      return new Response(body === '' ? null : body, response)
    } finally {
      inflight--
    }
  }
  let done = false
  const run = waitForJobs(plan, clock, 'http://lab.test', fetch).finally(() => {
    done = true
  })
  while (!done) {
    // Let everything started settle: in-flight requests, and what their answers start.
    do await new Promise((resolve) => setImmediate(resolve))
    while (inflight > 0)
    await new Promise((resolve) => setImmediate(resolve))
    if (done) break
    const next = clock.nextDueAt()
    if (next === undefined)
      throw new Error(`${plan.workload.id}: nothing to wait for, yet waits remain`)
    clock.advance(Math.max(0, next - clock.now()))
  }
  return run
}

/** Runs the plan over a loopback port, with time running `scale` times faster than real. */
export async function simulateRealTime(plan: RunPlan, scale: number): Promise<JobOutcome[]> {
  const clock = createSystemClock(scale)
  const server = await startServer({ clock, simulation: simulationOf(plan.workload) })
  try {
    return await waitForJobs(plan, clock, server.url, (input, init) => fetch(input, init))
  } finally {
    await server.close()
  }
}

function simulationOf(workload: Workload) {
  return { ...BASE_SIMULATION, ...workload.simulation }
}

/** Creates and waits for the plan's jobs as they arrive, with one client on `clock`. */
async function waitForJobs(
  plan: RunPlan,
  clock: Clock,
  baseUrl: string,
  fetch: FetchLike,
): Promise<JobOutcome[]> {
  const requests = new Map<string, number>()
  const options: ClientOptions = {
    baseUrl,
    apiKey: DEV_API_KEY,
    clock: { now: () => clock.now(), sleep: (ms, signal) => sleep(clock, ms, signal) },
    random: createRandom(plan.seed ^ 0x2545f491),
    polling: plan.strategy,
    // The lab compares polling schedules: push (the server offers it) would take their place.
    transport: plan.transport ?? 'poll',
    shareRequests: plan.shareRequests ?? false,
    fetch: (input, init) => {
      if ((init.method ?? 'GET') === 'GET') {
        // A batch request of k jobs (several due in the same tick) counts 1/k for each.
        const url = new URL(input)
        const ids = url.searchParams.get('ids')?.split(',')
        // A job's event stream is one of its requests too.
        const path = url.pathname.replace(/\/events$/, '')
        const paths = ids ? ids.map((id) => `/v1/jobs/${id}`) : [path]
        for (const path of paths) requests.set(path, (requests.get(path) ?? 0) + 1 / paths.length)
      }
      return fetch(input, init)
    },
  }
  const client: Client = createClient(options)
  const start = clock.now()
  const jobs = drawJobs(plan.workload, plan.count, plan.seed, plan.meanGapMs)
  return Promise.all(
    jobs.map(async ({ arrivesAt, durationMs }): Promise<JobOutcome> => {
      await sleep(clock, arrivesAt - (clock.now() - start))
      const params = {
        video_url: 'https://example.com/lab.mp4',
        target_language: 'es',
        simulate: { duration_ms: durationMs, outcome: 'completed' as const },
      }
      const sent = clock.now()
      const count = (id: string | undefined) =>
        id === undefined ? 0 : (requests.get(`/v1/jobs/${id}`) ?? 0)
      try {
        const job = await client.jobs.createAndWait(params)
        // The job ended `durationMs` after the server created it.
        const latencyMs = clock.now() - (Date.parse(job.created_at) + durationMs)
        return { durationMs, requests: count(job.id), latencyMs }
      } catch (error) {
        const id = (error as { job?: { id: string } }).job?.id
        const failure = `${String(error)} (created ${clock.now() - sent} ms ago)`
        return { durationMs, requests: count(id), latencyMs: Number.NaN, failure }
      }
    }),
  )
}
