/**
 * One run: the real client against the real mock server in this process, both on one manual
 * clock, waiting for a workload's jobs with one strategy. Virtual time moves from timer to timer
 * once everything in flight has settled, so a run of hours takes seconds and is the same on
 * every run and every machine.
 */
import { createClient, type PollingStrategy } from '@video-translation/client'
import {
  createManualClock,
  createMockServer,
  createRandom,
  DEV_API_KEY,
  sleep,
} from '@video-translation/mock-server'
import { BASE_SIMULATION, drawJobs, type Workload } from './workloads.js'

/** What happened to one job. */
export interface JobOutcome {
  durationMs: number
  /** Status requests sent for it (retries included; the create not). */
  requests: number
  /** From the job's end to the moment its wait resolved; NaN when the wait failed. */
  latencyMs: number
  /** Why the wait did not resolve with the completed job, if it did not. */
  failure?: string
}

/** Runs `count` jobs of `workload`, waited with `strategy`. */
export async function simulate(
  workload: Workload,
  strategy: PollingStrategy,
  count: number,
  seed: number,
): Promise<JobOutcome[]> {
  const clock = createManualClock(Date.UTC(2026, 0, 1))
  const start = clock.now()
  const { app } = createMockServer({
    clock,
    simulation: { ...BASE_SIMULATION, ...workload.simulation },
  })
  const requests = new Map<string, number>()
  let inflight = 0
  const client = createClient({
    baseUrl: 'http://lab.test',
    apiKey: DEV_API_KEY,
    clock: { now: () => clock.now(), sleep: (ms, signal) => sleep(clock, ms, signal) },
    random: createRandom(seed ^ 0x2545f491),
    polling: strategy,
    // The server answers in no virtual time; the whole body is read here, so a reset surfaces
    // as the failed fetch it is over a network.
    fetch: async (input, init) => {
      inflight++
      try {
        const path = new URL(input).pathname
        if ((init.method ?? 'GET') === 'GET') requests.set(path, (requests.get(path) ?? 0) + 1)
        const response = await app.request(input, init)
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
    },
  })

  const outcomes: JobOutcome[] = []
  const waits = drawJobs(workload, count, seed).map(async ({ arrivesAt, durationMs }, i) => {
    await sleep(clock, arrivesAt - (clock.now() - start))
    const params = {
      video_url: 'https://example.com/lab.mp4',
      target_language: 'es',
      simulate: { duration_ms: durationMs, outcome: 'completed' as const },
    }
    const created = clock.now()
    try {
      const job = await client.jobs.createAndWait(params)
      outcomes[i] = outcome(durationMs, job.id, clock.now() - (created + durationMs))
    } catch (error) {
      const id = (error as { job?: { id: string } }).job?.id
      outcomes[i] = { ...outcome(durationMs, id, Number.NaN), failure: String(error) }
    }
  })
  const outcome = (durationMs: number, id: string | undefined, latencyMs: number) => ({
    durationMs,
    requests: id === undefined ? 0 : (requests.get(`/v1/jobs/${id}`) ?? 0),
    latencyMs,
  })

  let done = false
  const all = Promise.all(waits).then(() => {
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
      throw new Error(`${workload.id}: nothing left to wait for, yet waits remain`)
    clock.advance(Math.max(0, next - clock.now()))
  }
  await all
  return outcomes
}
