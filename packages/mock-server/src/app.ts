/**
 * `createApp`: the mock server as a Hono app. It imports nothing Node-only, so it serves from
 * Node, Bun, Deno, a worker, or in-process through `app.request()` with no network at all.
 */
import { Hono } from 'hono'
import { cors } from 'hono/cors'
import { requestId } from 'hono/request-id'
import type { AppEnv } from './env.js'
import { errorProblem, notFoundProblem } from './middleware/problem.js'
import { jobRoutes } from './routes/jobs.js'
import { createSimulator, type SimulatorOptions } from './simulator/simulator.js'

/** Options of `createApp`. */
export interface AppOptions extends SimulatorOptions {}

/** Headers a browser client must be able to read. */
const EXPOSED_HEADERS = [
  'Retry-After',
  'RateLimit',
  'RateLimit-Policy',
  'ETag',
  'Location',
  'X-Request-Id',
]

/**
 * Creates the mock server app.
 * @example
 * const app = createApp({ seed: 42 })
 * const res = await app.request('/v1/jobs/job_123')
 */
export function createApp(options: AppOptions = {}): Hono<AppEnv> {
  const simulator = createSimulator(options)
  let requests = 0
  const app = new Hono<AppEnv>()
  app.use(requestId({ generator: () => `req_${(++requests).toString(36).padStart(8, '0')}` }))
  app.use(cors({ origin: '*', exposeHeaders: EXPOSED_HEADERS, maxAge: 600 }))
  app.get('/healthz', (c) => c.json({ status: 'ok' }))
  app.route('/v1/jobs', jobRoutes(simulator))
  app.notFound(notFoundProblem)
  app.onError(errorProblem)
  return app
}
