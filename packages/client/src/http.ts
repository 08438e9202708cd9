/**
 * One HTTP request: URL and headers, a per-request timeout (see deadlines.ts), and the
 * mapping of every way it can fail to a typed error. Retries and polling live above this layer.
 */

import { ownDeadline, type SharedDeadlines } from './deadlines.js'
import {
  createApiError,
  InvalidResponseError,
  NetworkError,
  type RequestInfo,
  TimeoutError,
} from './errors.js'
import { parseProblem } from './parse.js'

/** Any function with the shape of the standard `fetch` (undici, ky, a test double, …). */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>

/** What every request of one client shares. */
export interface HttpConfig {
  baseUrl: string
  apiKey: string | undefined
  fetch: FetchLike
  /** Deadlines of the client's `requestTimeoutMs`. */
  deadlines: SharedDeadlines
}

/** One request to make. */
export interface HttpRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE'
  /** Path and query, starting with `/`. */
  path: string
  body?: unknown
  headers?: Record<string, string>
  signal?: AbortSignal | undefined
  /** This request's time limit when shorter than the client's (a wait's deadline is near). */
  timeoutMs?: number | undefined
}

/** A 2xx (or 304) response with its body parsed. */
export interface HttpResponse {
  status: number
  headers: Headers
  /** Parsed JSON body; `undefined` for an empty body. */
  data: unknown
  requestId: string | undefined
}

/** Sends one request and returns its parsed 2xx body, or throws a typed error. */
export async function send(config: HttpConfig, request: HttpRequest): Promise<HttpResponse> {
  request.signal?.throwIfAborted()
  const info: RequestInfo = { method: request.method, path: request.path }
  const { deadlines } = config
  const timeoutMs = Math.min(deadlines.timeoutMs, request.timeoutMs ?? Number.POSITIVE_INFINITY)
  const deadline =
    request.signal === undefined && timeoutMs === deadlines.timeoutMs
      ? deadlines.start()
      : ownDeadline(request.signal, timeoutMs)
  try {
    let response: Response
    let text: string
    try {
      response = await config.fetch(joinUrl(config.baseUrl, request.path), {
        method: request.method,
        headers: buildHeaders(config.apiKey, request),
        ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
        signal: deadline.signal,
      })
      text = await response.text()
    } catch (cause) {
      request.signal?.throwIfAborted()
      if (deadline.timedOut()) {
        throw new TimeoutError({
          scope: 'request',
          timeoutMs,
          what: `${info.method} ${info.path}`,
        })
      }
      throw new NetworkError(info, cause)
    }
    return interpret(info, response, text)
  } finally {
    deadline.dispose()
  }
}

function interpret(info: RequestInfo, response: Response, text: string): HttpResponse {
  const { status, headers } = response
  const requestId = headers.get('x-request-id') ?? undefined
  const json = isJson(headers) ? tryParseJson(text) : undefined
  if (status < 200 || (status >= 300 && status !== 304)) {
    const problem = parseProblem(json?.value)
    throw createApiError({ status, problem, requestId, headers, request: info })
  }
  if (text === '') return { status, headers, data: undefined, requestId }
  if (json === undefined || 'error' in json) {
    throw new InvalidResponseError({
      request: info,
      status,
      requestId,
      reason: json
        ? 'malformed JSON'
        : `expected JSON, got content type ${headers.get('content-type') ?? 'none'}`,
      cause: json?.error,
    })
  }
  return { status, headers, data: json.value, requestId }
}

/** What `parse` makes of a response's body (an object), or an `InvalidResponseError` with the reason it gives. */
export function readBody<T extends object>(
  request: RequestInfo,
  response: HttpResponse,
  parse: (data: unknown) => T | string,
): T {
  const value = parse(response.data)
  if (typeof value !== 'string') return value
  throw new InvalidResponseError({
    request,
    status: response.status,
    requestId: response.requestId,
    reason: value,
  })
}

function isJson(headers: Headers): boolean {
  const type = headers.get('content-type') ?? ''
  return /^application\/(?:[\w.+-]+\+)?json\b/i.test(type)
}

function tryParseJson(text: string): { value: unknown } | { value?: undefined; error: unknown } {
  try {
    return { value: JSON.parse(text) as unknown }
  } catch (error) {
    return { error }
  }
}

/** A plain object: fetch builds its own Headers from it, so building one here would be twice. */
function buildHeaders(apiKey: string | undefined, request: HttpRequest): Record<string, string> {
  const headers: Record<string, string> = { accept: 'application/json' }
  if (apiKey !== undefined) headers.authorization = `Bearer ${apiKey}`
  if (request.body !== undefined) headers['content-type'] = 'application/json'
  return request.headers ? Object.assign(headers, request.headers) : headers
}

/** Joins without `new URL(path, base)`, which would drop a path prefix such as `/api`. */
function joinUrl(baseUrl: string, path: string): string {
  return baseUrl.replace(/\/+$/, '') + path
}
