/**
 * A fake `fetch` for unit tests: answers from a handler and records every call, so tests assert
 * on what was sent without any network.
 */
import type { FetchLike } from '../src/request/http.js'

/** One recorded call. */
export interface FetchCall {
  url: string
  method: string
  headers: Headers
  body: string | undefined
  signal: AbortSignal | undefined
}

/** A fake fetch with its recorded calls; it accepts every input the standard fetch does. */
export interface FakeFetch extends FetchLike {
  (input: string | URL | Request, init?: RequestInit): Promise<Response>
  calls: FetchCall[]
}

/** Builds a fake fetch around `handler`. */
export function fakeFetch(handler: (call: FetchCall) => Response | Promise<Response>): FakeFetch {
  const calls: FetchCall[] = []
  const fetch = (async (input: string | URL | Request, init: RequestInit = {}) => {
    const request = new Request(input, init)
    const call: FetchCall = {
      url: request.url,
      method: request.method,
      headers: request.headers,
      body: request.body === null ? undefined : await request.text(),
      signal: init.signal ?? (input instanceof Request ? input.signal : undefined),
    }
    calls.push(call)
    return handler(call)
  }) as FakeFetch
  fetch.calls = calls
  return fetch
}

/** A JSON response with the given status and headers. */
export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  })
}

/** A problem+json response. */
export function problemResponse(status: number, title: string, requestId = 'req_test'): Response {
  return new Response(JSON.stringify({ type: 'about:blank', title, status, detail: `${title}!` }), {
    status,
    headers: { 'content-type': 'application/problem+json', 'x-request-id': requestId },
  })
}

/** A fetch that never answers until its signal aborts, then rejects as real fetch does. */
export function hangingFetch(): FakeFetch {
  return fakeFetch(hangUntilAborted)
}

/** An answer to `call` that never comes: rejected when its signal aborts, as real fetch does. */
export function hangUntilAborted(call: FetchCall): Promise<Response> {
  return new Promise<Response>((_, reject) => {
    call.signal?.addEventListener('abort', () => reject(call.signal?.reason), { once: true })
  })
}

/** A well-formed Job body with overrides. */
export function jobBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'job_1',
    status: 'running',
    progress: 0.5,
    eta_ms: 1000,
    created_at: '2026-01-01T00:00:00.000Z',
    updated_at: '2026-01-01T00:00:01.000Z',
    video_url: 'https://example.com/a.mp4',
    target_language: 'es',
    title: null,
    result: overrides.status === 'completed' ? { url: 'https://cdn.example.com/a.es.mp4' } : null,
    error: null,
    ...overrides,
  }
}
