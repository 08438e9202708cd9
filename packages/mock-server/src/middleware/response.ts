/**
 * Building responses. Each request gets an id; middleware may add headers (rate limit) for every
 * response of the request, and handlers build each response once, with all of them, by `send`.
 * Hono's `c.header` keeps a WHATWG `Headers` and its security and request-id middleware mutate
 * the finished response; either costs @hono/node-server its fast path and, here, most of the
 * throughput (docs/mock-server-benchmarks.md).
 */
import type { Context, TypedResponse } from 'hono'
import type { AppEnv } from '../env.js'

/**
 * A response built by hand that zod-openapi accepts for any status a route declares: `never`
 * phantom types fit every typed response.
 */
export type HandBuiltResponse = Response & TypedResponse<never, never, never>

/**
 * The headers every response carries: the request id, security headers for a JSON API (OWASP
 * REST guidance), and `Vary: Origin` (an answer to a browser carries CORS headers that one to
 * another client lacks: a cache must not hand one for the other). An object literal on purpose: V8 builds it many times faster than it copies a
 * shared object with spread, and this runs once a response.
 */
function baseHeaders(requestId: string, date: string): Record<string, string> {
  return {
    'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
    'cross-origin-resource-policy': 'cross-origin',
    date,
    'referrer-policy': 'no-referrer',
    vary: 'Origin',
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'x-request-id': requestId,
  }
}

/** The last `Date` made: answers in the same second share it. */
let lastDate = { second: Number.NaN, text: '' }

/** `ms` as an HTTP-date (RFC 9110 IMF-fixdate), e.g. `Sat, 05 Dec 2026 08:21:21 GMT`. */
export function httpDate(ms: number): string {
  const second = Math.floor(ms / 1000)
  if (second !== lastDate.second) {
    lastDate = { second, text: new Date(second * 1000).toUTCString() }
  }
  return lastDate.text
}

/** Adds a header to every response of this request (after the base headers). */
export function setHeader(c: Context<AppEnv>, name: string, value: string): void {
  const added = c.get('headers')
  if (added === undefined) c.set('headers', { [name]: value })
  else added[name] = value
}

/** Every header this request's responses carry: the base headers and those middleware added. */
export function responseHeaders(c: Context<AppEnv>): Record<string, string> {
  // Set by the preamble, which every request meets first; the system clock should one not have.
  const now = (c.get('now') as (() => number) | undefined) ?? Date.now
  const headers = baseHeaders(c.get('requestId'), httpDate(now()))
  const added = c.get('headers')
  return added === undefined ? headers : Object.assign(headers, added)
}

/** Adds this request's headers to a response that hono made (a preflight, the OpenAPI document). */
export function stampHeaders(c: Context<AppEnv>, response: Response): void {
  if (response.headers.has('x-request-id')) return
  for (const [name, value] of Object.entries(responseHeaders(c))) response.headers.set(name, value)
}

/** A response with this request's headers plus `extra`. */
export function send(
  c: Context<AppEnv>,
  body: string | null,
  status: number,
  extra?: Record<string, string>,
): HandBuiltResponse {
  const headers = responseHeaders(c)
  if (extra !== undefined) Object.assign(headers, extra)
  return new Response(body, { status, headers }) as HandBuiltResponse
}

/** A JSON response with this request's headers. */
export function sendJson(
  c: Context<AppEnv>,
  value: unknown,
  status: number,
  extra?: Record<string, string>,
): HandBuiltResponse {
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  return send(c, JSON.stringify(value), status, extra ? Object.assign(headers, extra) : headers)
}
