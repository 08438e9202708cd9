/**
 * Building responses. Middleware add the headers every response carries (request id, security,
 * rate limit) to a plain object, and handlers build each response once from it with `send`.
 * Hono's `c.header` keeps a WHATWG `Headers` and its security and request-id middleware mutate
 * the finished response; either costs @hono/node-server its fast path and, here, most of the
 * throughput (docs/mock-server-benchmarks.md).
 */
import type { Context, MiddlewareHandler, TypedResponse } from 'hono'
import type { AppEnv } from '../env.js'

/**
 * A response built by hand that zod-openapi accepts for any status a route declares: `never`
 * phantom types fit every typed response.
 */
export type HandBuiltResponse = Response & TypedResponse<never, never, never>

/** Security headers for a JSON API (OWASP REST guidance). */
const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'cross-origin-resource-policy': 'cross-origin',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
}

const CLIENT_REQUEST_ID = /^[\w\-=.:]{1,128}$/

/** Responses built by `send`, which already carry this request's headers. */
const SENT = new WeakSet<Response>()

/**
 * Gives each request its id (the caller's `X-Request-Id` when it is a sane one, else the next of
 * a counter, so runs are reproducible) and starts its headers with the id and security headers.
 */
export function responseHeaders(): MiddlewareHandler<AppEnv> {
  let requests = 0
  return async function responseHeaders(c, next) {
    const given = c.req.header('x-request-id')
    const id =
      given !== undefined && CLIENT_REQUEST_ID.test(given)
        ? given
        : `req_${(++requests).toString(36).padStart(8, '0')}`
    c.set('requestId', id)
    c.set('headers', { ...SECURITY_HEADERS, 'x-request-id': id })
    await next()
    // Responses made elsewhere (the OpenAPI document, CORS preflights) get the headers too.
    if (!SENT.has(c.res)) {
      for (const [name, value] of Object.entries(c.get('headers'))) c.res.headers.set(name, value)
    }
  }
}

/** Adds a header to every response of this request. */
export function setHeader(c: Context<AppEnv>, name: string, value: string): void {
  c.get('headers')[name] = value
}

/** A response with this request's headers plus `extra`. */
export function send(
  c: Context<AppEnv>,
  body: string | null,
  status: number,
  extra?: Record<string, string>,
): HandBuiltResponse {
  const headers = extra === undefined ? c.get('headers') : { ...c.get('headers'), ...extra }
  const response = new Response(body, { status, headers })
  SENT.add(response)
  return response as HandBuiltResponse
}

/** A JSON response with this request's headers. */
export function sendJson(
  c: Context<AppEnv>,
  value: unknown,
  status: number,
  extra?: Record<string, string>,
): HandBuiltResponse {
  return send(c, JSON.stringify(value), status, { 'content-type': 'application/json', ...extra })
}
