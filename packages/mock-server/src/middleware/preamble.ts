/**
 * The preamble every request goes through first: it gets an id, and a browser's request (one
 * with an `Origin`) gets CORS headers from hono's cors middleware, which also answers preflights.
 */
import { cors } from 'hono/cors'
import { stampHeaders } from './response.js'
import type { Step } from './steps.js'

/** Headers a browser client must be able to read. */
const EXPOSED_HEADERS = [
  'Retry-After',
  'RateLimit',
  'RateLimit-Policy',
  'ETag',
  'Location',
  'X-Request-Id',
  'Idempotent-Replayed',
  'Preference-Applied',
  'Date',
]

const ALLOWED_HEADERS = [
  'Authorization',
  'X-Api-Key',
  'Content-Type',
  'Idempotency-Key',
  'Prefer',
  'If-None-Match',
  'Last-Event-ID',
  'X-Request-Id',
]

const LOCAL_ORIGIN = /^https?:\/\/(?:localhost|127\.0\.0\.1|\[::1\])(?::\d{1,5})?$/

const CLIENT_REQUEST_ID = /^[\w\-=.:]{1,128}$/

/** The headers hono's cors sets on an actual (not preflight) request. */
const CORS_HEADER = /^(?:access-control-|vary$)/i

/** Options of `preamble`. */
export interface PreambleOptions {
  /** Origins allowed by CORS. @default any http(s) origin on localhost, 127.0.0.1 or [::1] */
  corsOrigins?: '*' | readonly string[] | undefined
  /** The keys the server accepts: never sent back, wherever a caller put one. */
  secrets?: readonly string[] | undefined
  /** The simulation's clock, for every answer's `Date`. @default Date.now */
  now?: (() => number) | undefined
}

/**
 * The preamble step. A request keeps the caller's `X-Request-Id` when it is a sane one (and holds
 * no key), else gets the next of a counter, so runs are reproducible. Running it again on the same request (the
 * not-found and error handlers do, for requests no route took) changes nothing.
 */
export function preamble(options: PreambleOptions = {}): Step {
  let requests = 0
  const allowCors = cors({
    origin: corsOrigin(options.corsOrigins),
    // The methods the routes take (hono's default lists DELETE and PATCH, answered 405).
    allowMethods: ['GET', 'HEAD', 'POST', 'PUT'],
    allowHeaders: ALLOWED_HEADERS,
    exposeHeaders: EXPOSED_HEADERS,
    maxAge: 600,
  })

  const redact = redactor(options.secrets ?? [])
  const now = options.now ?? Date.now

  return function preamble(c, route) {
    if (c.get('requestId') !== undefined) return route(c)
    const given = c.req.header('x-request-id')
    const id =
      given !== undefined && CLIENT_REQUEST_ID.test(given) && redact(given) === given
        ? given
        : `req_${(++requests).toString(36).padStart(8, '0')}`
    c.set('requestId', id)
    c.set('redact', redact)
    c.set('now', now)
    // Only browsers send Origin, and only they need CORS: hono's cors middleware mutates the
    // response, which costs @hono/node-server its fast path, so other clients skip it.
    if (c.req.header('origin') === undefined) return route(c)
    return forBrowser(c, route)
  }

  async function forBrowser(c: Parameters<Step>[0], route: Parameters<Step>[1]) {
    const preflight = await allowCors(c, async () => {
      // hono's cors has put its headers on the context's response by now. A later step may
      // replace that response outright (an auth or fault answer does), so they are carried
      // onto whatever the route answers: every answer to an allowed origin, whatever its status.
      const corsHeaders = [...c.res.headers].filter(([name]) => CORS_HEADER.test(name))
      let response = await route(c)
      if (corsHeaders.some(([name]) => !response.headers.has(name))) {
        response = new Response(response.body, response)
        for (const [name, value] of corsHeaders) {
          if (!response.headers.has(name)) response.headers.set(name, value)
        }
      }
      if (response !== c.res) c.res = response
    })
    const response = preflight ?? c.res
    // hono's cors appends `Vary: Origin` to what the route answered, which carried it already
    // (a 404 or 405 answered through the preamble twice): each token once.
    const vary = response.headers.get('vary')
    if (vary) response.headers.set('vary', [...new Set(vary.split(/\s*,\s*/))].join(', '))
    stampHeaders(c, response)
    return response
  }
}

/** Replaces each of `secrets` in a text (as written, or escaped in a JSON string) with `[redacted]`. */
export function redactor(secrets: readonly string[]): (text: string) => string {
  const forms = secrets.flatMap((secret) => [secret, JSON.stringify(secret).slice(1, -1)])
  // The longest first: a key holding another is hidden whole, not cut into.
  forms.sort((a, b) => b.length - a.length)
  return (text) => {
    let result = text
    for (const form of forms)
      if (result.includes(form)) result = result.replaceAll(form, '[redacted]')
    return result
  }
}

function corsOrigin(origins: PreambleOptions['corsOrigins']) {
  if (origins === '*') return '*'
  if (origins !== undefined) return [...origins]
  return (origin: string) => (LOCAL_ORIGIN.test(origin) ? origin : null)
}
