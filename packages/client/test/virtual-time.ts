/**
 * The client against the real mock server in-process, both on one virtual clock: hours of
 * polling run in milliseconds, with every request the client sent recorded.
 */
import {
  createManualClock,
  createMockServer,
  createRandom,
  DEV_ADMIN_KEY,
  DEV_API_KEY,
  type ManualClock,
  type SimulationPatch,
  sleep,
} from '@video-translation/mock-server'
import { type ClientOptions, createClient } from '../src/client.js'
import type { Clock } from '../src/clock.js'
import { createLegacyClient } from '../src/legacy/index.js'

/** A client clock driven by a mock-server manual clock. */
export function virtualClock(start?: number): { manual: ManualClock; clock: Clock } {
  const manual = createManualClock(start)
  return {
    manual,
    clock: { now: () => manual.now(), sleep: (ms, signal) => sleep(manual, ms, signal) },
  }
}

/**
 * Settles `promise`, moving the manual clock `stepMs` at a time, at most `steps` times (a unit
 * test's bounded drive; `virtualSetup`'s `settle` jumps from timer to timer instead).
 */
export async function drive<T>(
  manual: ManualClock,
  promise: Promise<T>,
  stepMs = 1_000,
  steps = 100,
): Promise<T> {
  const done = settledFlag(promise)
  for (let i = 0; i < steps && !done(); i++) await manual.tickAsync(stepMs)
  return promise
}

/** Whether `promise` has settled yet, as a function to ask. */
function settledFlag(promise: Promise<unknown>): () => boolean {
  let done = false
  const settled = () => {
    done = true
  }
  promise.then(settled, settled)
  return () => done
}

/** Builds the pair; `simulation` patches exact-hint, error-free, 10 s jobs. */
export function virtualSetup(
  options: { simulation?: SimulationPatch; client?: Partial<ClientOptions> } = {},
) {
  const { manual, clock } = virtualClock()
  const { app, simulator } = createMockServer({
    clock: manual,
    simulation: {
      durations: { distribution: 'fixed', ms: 10_000 },
      error_rate: 0,
      hints: { mode: 'eta', eta_noise: 0 },
      rate_limit: { capacity: 1_000_000, refill_per_s: 1_000_000 },
      ...options.simulation,
    },
  })
  const requests: { at: number; method: string; path: string; status?: number }[] = []
  const clientOptions: ClientOptions = {
    baseUrl: 'http://mock.test',
    apiKey: DEV_API_KEY,
    clock,
    random: createRandom(1),
    // These tests are about polling; push transports have tests of their own.
    transport: 'poll',
    fetch: async (input, init) => {
      const url = new URL(input)
      const entry: (typeof requests)[number] = {
        at: manual.now(),
        method: init.method ?? 'GET',
        path: url.pathname + url.search,
      }
      requests.push(entry)
      const response = await app.request(input, init)
      entry.status = response.status
      return response
    },
    ...options.client,
  }
  const client = createClient(clientOptions)
  const legacy = createLegacyClient(clientOptions)

  /** Moves virtual time from timer to timer until `promise` settles (at most `maxMs`). */
  async function settle<T>(promise: Promise<T>, maxMs = 24 * 3_600_000): Promise<T> {
    const settled = settledFlag(promise)
    const until = manual.now() + maxMs
    for (let idle = 0; !settled() && idle < 50; ) {
      await manual.tickAsync(0)
      const next = manual.nextDueAt()
      if (settled()) break
      if (next === undefined || next > until) {
        idle++
        continue
      }
      idle = 0
      await manual.tickAsync(next - manual.now())
    }
    return promise
  }

  /** Changes the simulation settings with the admin key. */
  async function simulate(patch: SimulationPatch): Promise<void> {
    const response = await app.request('/v1/simulation', {
      method: 'PUT',
      headers: { authorization: `Bearer ${DEV_ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify(patch),
    })
    if (response.status !== 200)
      throw new Error(`simulation update failed: ${await response.text()}`)
  }

  const polls = (id: string) =>
    requests.filter((r) => r.method === 'GET' && r.path === `/v1/jobs/${id}`)
  /** Another client of the same server, as another process would have. */
  const newClient = () => createClient(clientOptions)
  return { app, client, legacy, newClient, manual, simulator, requests, polls, settle, simulate }
}

/**
 * `virtualSetup` with the mock server's default rate limit (a burst of 100, then 50 a second),
 * behind `gateway` (its own answer to a URL, or undefined to pass the request on); `refused()`
 * counts the mock's 429s, `made(n, ms)` makes n jobs of ms on the server without a request.
 */
export function limitedSetup(
  client: Partial<ClientOptions> = {},
  gateway: (url: URL) => Response | undefined = () => undefined,
) {
  let refused = 0
  const setup = virtualSetup({
    simulation: { rate_limit: { capacity: 100, refill_per_s: 50 } },
    client: {
      ...client,
      fetch: async (input, init) => {
        const own = gateway(new URL(input))
        if (own) return own
        const response = await setup.app.request(input, init)
        if (response.status === 429) refused++
        return response
      },
    },
  })
  const made = (count: number, durationMs: number) =>
    Array.from({ length: count }, () => {
      const job = setup.simulator.createJob(DEV_API_KEY, jobParams(durationMs) as never)
      return (job as { snapshot: { view: { id: string } } }).snapshot.view.id
    })
  return { ...setup, refused: () => refused, made }
}

/** A valid create body with a fixed duration and outcome. */
export function jobParams(duration_ms = 10_000, outcome: 'completed' | 'error' = 'completed') {
  return {
    video_url: 'https://example.com/a.mp4',
    target_language: 'es',
    simulate: { duration_ms, outcome },
  }
}
