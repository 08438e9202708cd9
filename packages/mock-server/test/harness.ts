/**
 * The mock server in-process, in virtual time: `app.request()` with a manual clock, fixed job
 * durations and no randomness unless a test asks for it.
 */
import { type AppOptions, createMockServer, DEV_ADMIN_KEY, DEV_API_KEY } from '../src/app.js'
import type { SimulationPatch } from '../src/schemas/simulation.js'
import { createManualClock } from '../src/simulator/clock.js'
import type { JobView } from '../src/simulator/lifecycle.js'

/** A valid create body. */
export const VALID_BODY = { video_url: 'https://example.com/a.mp4', target_language: 'es' }

/** Settings that make jobs predictable: 10 s each, no errors, exact hints, 1 s progress steps. */
export const PREDICTABLE: SimulationPatch = {
  seed: 7,
  durations: { distribution: 'fixed', ms: 10_000 },
  error_rate: 0,
  hints: { mode: 'eta', eta_noise: 0 },
  progress_interval_ms: 1_000,
  rate_limit: { capacity: 100_000, refill_per_s: 100_000 },
}

/** Options of one call. */
export interface CallOptions {
  body?: unknown
  headers?: Record<string, string>
  /** The API key to send as a bearer token; `null` sends none. */
  key?: string | null
  signal?: AbortSignal
}

/** Builds an in-process server; `simulation` patches `PREDICTABLE`. */
export function harness(options: Omit<AppOptions, 'clock'> = {}) {
  const clock = createManualClock()
  const { app, simulator } = createMockServer({
    ...options,
    clock,
    simulation: { ...PREDICTABLE, ...options.simulation },
  })

  async function call(method: string, path: string, init: CallOptions = {}): Promise<Response> {
    const headers: Record<string, string> = { ...init.headers }
    const key = init.key === undefined ? DEV_API_KEY : init.key
    if (key !== null) headers.authorization ??= `Bearer ${key}`
    let body: string | undefined
    if (init.body !== undefined) {
      body = typeof init.body === 'string' ? init.body : JSON.stringify(init.body)
      headers['content-type'] ??= 'application/json'
    }
    return app.request(path, {
      method,
      headers,
      ...(body === undefined ? {} : { body }),
      ...(init.signal ? { signal: init.signal } : {}),
    })
  }

  async function createJob(
    body: Record<string, unknown> = {},
    init: CallOptions = {},
  ): Promise<JobView> {
    const response = await call('POST', '/v1/jobs', { ...init, body: { ...VALID_BODY, ...body } })
    if (response.status !== 202)
      throw new Error(`create failed: ${response.status} ${await response.text()}`)
    return (await response.json()) as JobView
  }

  async function getJob(id: string, init: CallOptions = {}): Promise<JobView> {
    const response = await call('GET', `/v1/jobs/${id}`, init)
    if (response.status !== 200)
      throw new Error(`get failed: ${response.status} ${await response.text()}`)
    return (await response.json()) as JobView
  }

  const admin = (method: string, path: string, body?: unknown) =>
    call(method, path, { key: DEV_ADMIN_KEY, ...(body === undefined ? {} : { body }) })

  return { app, simulator, clock, call, createJob, getJob, admin }
}

/** Asserts a problem+json response and returns its body. */
export async function problemOf(response: Response): Promise<Record<string, unknown>> {
  const type = response.headers.get('content-type')
  if (type !== 'application/problem+json') {
    throw new Error(
      `expected problem+json, got ${type} (${response.status}): ${await response.text()}`,
    )
  }
  const body = (await response.json()) as Record<string, unknown>
  if (body.status !== response.status) throw new Error('problem status differs from HTTP status')
  if (body.request_id !== response.headers.get('x-request-id'))
    throw new Error('request ids differ')
  return body
}

/** Starts a request and reports whether it has answered yet. */
export function track(response: Promise<Response>) {
  const state: { done: boolean; response: Promise<Response> } = { done: false, response }
  void response.then(() => {
    state.done = true
  })
  return state
}
