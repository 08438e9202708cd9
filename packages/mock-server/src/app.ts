/**
 * `createApp`: the mock server as a Hono app. Each request goes through, in order: the preamble
 * (request id, CORS), the content type and body limit of a body, a gate (API key or admin key,
 * rate limit), fault injection, then its route. It imports nothing Node-only, so it serves from
 * Node, Bun, Deno, a worker, or in-process through `app.request()`.
 */
import { OpenAPIHono, z } from '@hono/zod-openapi'
import { bodyLimit } from 'hono/body-limit'
import type { AppEnv } from './env.js'
import { adminAuth, apiKeyAuth } from './middleware/auth.js'
import { closeUnreadBody } from './middleware/close-unread.js'
import { faults } from './middleware/faults.js'
import { preamble } from './middleware/preamble.js'
import {
  errorProblem,
  methodNotAllowed,
  notFoundProblem,
  problem,
  validationHook,
} from './middleware/problem.js'
import { rateLimit } from './middleware/rate-limit.js'
import { requireJson, requireUtf8 } from './middleware/require-json.js'
import { send, sendJson, stampHeaders } from './middleware/response.js'
import { asMiddleware, gate } from './middleware/steps.js'
import { registerEventRoutes } from './routes/events.js'
import { registerJobRoutes } from './routes/jobs.js'
import { registerLegacyRoutes } from './routes/legacy.js'
import { registerSimulationRoutes } from './routes/simulation.js'
import type { SimulationPatch } from './schemas/simulation.js'
import type { Clock } from './simulator/clock.js'
import { createSimulator, type Simulator } from './simulator/simulator.js'
import type { WebhookFetch } from './simulator/webhooks.js'

/** The API key a server accepts when none are configured. */
export const DEV_API_KEY = 'vt_dev_key'
/** The admin key a server accepts when none is configured. */
export const DEV_ADMIN_KEY = 'vt_admin_key'
/** The webhook signing secret when none is configured. */
export const DEV_WEBHOOK_SECRET = 'whsec_dev_secret'

/** Options of `createApp`. */
export interface AppOptions {
  /** Simulator settings over the defaults (the body of `PUT /v1/simulation`). */
  simulation?: SimulationPatch
  /** Where time comes from. @default the system clock */
  clock?: Clock
  /** Accepted API keys, each its own tenant. @default [DEV_API_KEY] */
  apiKeys?: readonly string[]
  /** The key for `/v1/simulation`. @default DEV_ADMIN_KEY */
  adminKey?: string
  /** Signs webhooks. @default DEV_WEBHOOK_SECRET */
  webhookSecret?: string
  /** Delivers webhooks. @default globalThis.fetch */
  webhookFetch?: WebhookFetch
  /** Origins allowed by CORS. @default any http(s) origin on localhost, 127.0.0.1 or [::1] */
  corsOrigins?: '*' | readonly string[]
  /** Largest accepted body. @default 65_536 */
  maxBodyBytes?: number
  /**
   * The longest the server makes a request wait (injected latency, a hang) before answering 504.
   * Long-polls wait at most their `wait` (60 s); event streams last as long as their job.
   * @default 30_000
   */
  requestTimeoutMs?: number
  /** Serve this simulator (shared state) instead of making one from the options above. */
  simulator?: Simulator
}

/** The longest the server makes a request wait, unless `requestTimeoutMs` says. */
export const REQUEST_TIMEOUT_MS = 30_000

/** The mock server: its Hono app and the simulator behind it. */
export interface MockServer {
  app: OpenAPIHono<AppEnv>
  simulator: Simulator
}

/**
 * Throws a `TypeError` for keys a server cannot serve with: none, or one under 8 characters (a
 * short key is found inside other words: redacted there, it would garble every answer), or the
 * admin key among the API keys (a tenant's key would change the simulation for every tenant).
 */
export function checkKeys(apiKeys: readonly string[], adminKey: string): void {
  if (apiKeys.length === 0 || apiKeys.some((key) => key.length < 8)) {
    throw new TypeError('apiKeys must hold at least one key, each of at least 8 characters')
  }
  if (adminKey.length < 8) throw new TypeError('adminKey must be at least 8 characters')
  if (apiKeys.includes(adminKey)) throw new TypeError('adminKey must not be one of the apiKeys')
}

/**
 * Creates the mock server app and its simulator.
 * @example
 * const { app, simulator } = createMockServer({ simulation: { seed: 42 } })
 */
export function createMockServer(options: AppOptions = {}): MockServer {
  const simulator =
    options.simulator ??
    createSimulator(options.simulation, {
      webhookSecret: options.webhookSecret ?? DEV_WEBHOOK_SECRET,
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.webhookFetch ? { webhookFetch: options.webhookFetch } : {}),
    })
  const keys = options.apiKeys ?? [DEV_API_KEY]
  const adminKey = options.adminKey ?? DEV_ADMIN_KEY
  checkKeys(keys, adminKey)
  const requestTimeoutMs = options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS

  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook })
  const pre = preamble({
    corsOrigins: options.corsOrigins,
    secrets: [...keys, adminKey],
    now: () => simulator.clock.now(),
  })
  const injectFaults = faults({ simulator, timeoutMs: requestTimeoutMs })
  const jobsGate = gate([apiKeyAuth({ keys }), rateLimit({ simulator })])

  // Every request runs the preamble first (it is idempotent, so running it twice is harmless).
  // The hot route, GET /v1/jobs/:id, runs it, its gate and faults inline (middleware/steps.ts),
  // so no middleware may match that route: hence paths spelled out below rather than
  // `app.use('*')` or `/v1/jobs/:id/*`, and no `/v1/jobs/:id/:action` either (beside
  // `/v1/jobs/:id/cancel`, it makes hono fall back from its RegExpRouter to the slower
  // TrieRouter). A request no route takes gets the preamble in `notFound`.
  const preambleOnly = asMiddleware(pre)
  app.on(['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'], '*', preambleOnly)
  const maxBodyBytes = options.maxBodyBytes ?? 65_536
  app.on(['POST', 'PUT', 'PATCH', 'DELETE'], '*', closeUnreadBody())
  // Bodies checked on the routes that take one alone: elsewhere a method a path does not serve
  // is a 405, a path that does not exist a 404, not a 415 or 413 about a body no route reads.
  const checkJson = requireJson()
  const limitBody = bodyLimit({
    maxSize: maxBodyBytes,
    onError: (c) =>
      problem(c, {
        status: 413,
        kind: 'body-too-large',
        title: 'Payload Too Large',
        detail: `Bodies are limited to ${maxBodyBytes} bytes.`,
      }),
  })
  const withBodies = ['/v1/jobs', '/v1/jobs/:id/cancel', '/set_completion_time']
  app.on('POST', withBodies, checkJson, limitBody)
  app.on('PUT', '/v1/simulation', checkJson, limitBody)
  // Each gate covers the methods its path serves: another method is answered 405 (or 204 to a
  // plain OPTIONS) without a key, as a path that does not exist is answered 404.
  const jobsMiddleware = asMiddleware(pre, jobsGate, injectFaults)
  app.on(['GET', 'POST'], '/v1/jobs', jobsMiddleware)
  app.on('POST', '/v1/jobs/:id/cancel', jobsMiddleware)
  app.on('GET', '/v1/jobs/:id/events', jobsMiddleware)
  app.on(['GET', 'PUT'], '/v1/simulation', asMiddleware(pre, gate([adminAuth({ adminKey, keys })])))
  // Bodies read as JSON: UTF-8, checked once the key is (a refused caller's body is not read).
  app.on('POST', '/v1/jobs', requireUtf8())
  app.on('PUT', '/v1/simulation', requireUtf8())
  app.get('/status', asMiddleware(pre, injectFaults))
  app.use('/healthz', preambleOnly)
  app.use('/openapi.json', preambleOnly, async (c, next) => {
    await next()
    stampHeaders(c, c.res)
  })

  app.get('/healthz', (c) => sendJson(c, { status: 'ok' }, 200))
  app.openAPIRegistry.registerPath({
    method: 'get',
    path: '/healthz',
    summary: 'Whether the server is up (no key, no rate limit, no faults)',
    responses: {
      200: {
        description: 'Up.',
        content: { 'application/json': { schema: z.object({ status: z.literal('ok') }) } },
      },
    },
  })
  registerJobRoutes(app, simulator, [pre, jobsGate, injectFaults])
  registerEventRoutes(app, simulator)
  registerSimulationRoutes(app, simulator)
  registerLegacyRoutes(app, simulator)
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
  })
  app.openAPIRegistry.registerComponent('securitySchemes', 'apiKey', {
    type: 'apiKey',
    in: 'header',
    name: 'X-Api-Key',
  })
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'Video translation API (mock server)',
      version: '1.0.0',
      description: 'Wire protocol v1: jobs, long-poll, Server-Sent Events, batch status, webhooks.',
    },
  })
  // A path that exists under another method gets 405 with `Allow`, from the routes themselves;
  // a plain OPTIONS (not a CORS preflight, which the preamble answers) gets 204 with `Allow`.
  let methodsByPath: ((path: string) => string[]) | undefined
  app.notFound((c) => {
    methodsByPath ??= routeMethods(app.routes)
    const allowed = methodsByPath(c.req.path)
    if (allowed.length === 0) return pre(c, notFoundProblem)
    if (c.req.method === 'OPTIONS') {
      return pre(c, (c) => send(c, null, 204, { allow: allowed.join(', ') }))
    }
    return pre(c, (c) => methodNotAllowed(c, allowed))
  })
  app.onError((error, c) => pre(c, (c) => errorProblem(error, c)))
  return { app, simulator }
}

/**
 * Creates the mock server app.
 * @example
 * const app = createApp({ simulation: { seed: 42 } })
 * const res = await app.request('/v1/jobs/job_123', { headers: { authorization: `Bearer ${DEV_API_KEY}` } })
 */
export function createApp(options: AppOptions = {}): OpenAPIHono<AppEnv> {
  return createMockServer(options).app
}

/** For a path, the methods the app's routes take on it (middleware's wildcard paths aside). */
function routeMethods(routes: readonly { method: string; path: string }[]) {
  const patterns = routes
    .filter((route) => route.method !== 'ALL' && !route.path.includes('*'))
    .map((route) => ({
      method: route.method,
      // Literal parts escaped (`/openapi.json`'s dot), each `:param` one segment.
      pattern: new RegExp(
        `^${route.path
          .split(/(:[^/]+)/)
          .map((part) =>
            part.startsWith(':') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
          )
          .join('')}$`,
      ),
    }))
  return (path: string): string[] => {
    const methods = new Set(patterns.filter((p) => p.pattern.test(path)).map((p) => p.method))
    if (methods.has('GET')) methods.add('HEAD')
    return methods.size === 0 ? [] : [...methods, 'OPTIONS'].sort()
  }
}
