/**
 * One HTTP request: URL and headers, a per-request timeout tied to the caller's signal, and the
 * mapping of every way it can fail to a typed error. Retries and polling live above this layer.
 */
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
  requestTimeoutMs: number
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
  const timeoutMs = Math.min(config.requestTimeoutMs, request.timeoutMs ?? Number.POSITIVE_INFINITY)
  const deadline = linkTimeout(request.signal, timeoutMs)
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
  if (json === undefined) {
    const type = headers.get('content-type') ?? 'none'
    throw new InvalidResponseError({
      request: info,
      status,
      requestId,
      reason: `expected JSON, got content type ${type}`,
    })
  }
  if ('error' in json) {
    throw new InvalidResponseError({
      request: info,
      status,
      requestId,
      reason: 'malformed JSON',
      cause: json.error,
    })
  }
  return { status, headers, data: json.value, requestId }
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

/**
 * A signal that aborts when the caller's does or when `timeoutMs` passes. Written by hand because
 * `AbortSignal.any` is missing on Node 18; `dispose` clears the timer and the listener so nothing
 * outlives the request.
 */
function linkTimeout(parent: AbortSignal | undefined, timeoutMs: number) {
  const controller = new AbortController()
  let timedOut = false
  const onAbort = () => controller.abort(parent?.reason)
  parent?.addEventListener('abort', onAbort, { once: true })
  if (parent?.aborted) onAbort()
  const timer = setTimeout(() => {
    timedOut = true
    controller.abort()
  }, timeoutMs)
  return {
    signal: controller.signal,
    timedOut: () => timedOut,
    dispose: () => {
      clearTimeout(timer)
      parent?.removeEventListener('abort', onAbort)
    },
  }
}
