/**
 * One HTTP request: URL and headers (a key function's key: key.ts), a per-request timeout (see
 * deadlines.ts), the body read within a bound (body.ts), and the mapping of every way it can
 * fail to a typed error. Retries and polling live above this layer.
 */
import type { Clock } from '../clock.js'
import {
  createApiError,
  InvalidResponseError,
  isVideoTranslationError,
  NetworkError,
  type RequestInfo,
  requestLine,
  TimeoutError,
} from '../errors.js'
import { NO_RESULT, parseProblem, textProblem } from '../parse.js'
import { parseClean, type Redactor, redactError } from '../redact.js'
import { type Body, bodyOf, MAX_BODY_BYTES, tooSlow } from './body.js'
import { settleBy, startDeadline } from './deadlines.js'
import { keyed } from './key.js'
import { askedDelay } from './rate-limit-headers.js'

/**
 * Any function with the shape of the standard `fetch` (undici, ky, a test double, …); one that
 * answers at once with a `Response` (Hono's `app.request`) is taken too.
 */
export type FetchLike = (input: string, init: RequestInit) => Response | Promise<Response>

/** What every request of one client shares. */
export interface HttpConfig {
  /** Without a trailing slash; paths start with one. */
  baseUrl: string
  /** What every request sends (accept, and the API key when it is fixed); never mutated. */
  headers: Readonly<Record<string, string>>
  /** Gives the API key each request sends, when a function gives it (`apiKey: () => key`). */
  key?: (() => Promise<string>) | undefined
  fetch: FetchLike
  /** The client's `requestTimeoutMs` (`Infinity`: no limit). */
  timeoutMs: number
  /** The client's clock, which times requests. */
  clock: Clock
  /** Takes the API key out of text the client did not write. */
  redact: Redactor
  /** Whether plain checks may send `If-None-Match` (see `conditionalChecks`). */
  conditional: boolean
}

/**
 * Whether plain checks may send `If-None-Match`: not from a web page (or a page's web worker)
 * to another origin. A request with a conditional header is not cached (the Fetch standard),
 * and Chromium then sends a CORS preflight before each one, whatever `Access-Control-Max-Age`
 * said: every check cost two requests. The browser's own cache revalidates a plain GET with the
 * answer's `ETag` instead. (A held request still sends it: sources/long-poll.ts.)
 */
export function conditionalChecks(baseUrl: string): boolean {
  const scope = globalThis as {
    document?: unknown
    importScripts?: unknown
    location?: { origin?: unknown }
  }
  const web = scope.document !== undefined || typeof scope.importScripts === 'function'
  const origin = scope.location?.origin
  if (!web || typeof origin !== 'string') return true
  return new URL(baseUrl).origin === origin
}

/** One request to make. */
export interface HttpRequest {
  method: 'GET' | 'POST'
  /** Path and query, starting with `/`. */
  path: string
  body?: unknown
  headers?: Record<string, string>
  signal?: AbortSignal | undefined
  /** This request's time limit when shorter than the client's (a wait's deadline is near). */
  timeoutMs?: number | undefined
  /** How long the server may hold it before answering (a long-poll): added to the limit. */
  holdMs?: number | undefined
  /**
   * No retry starts after this time (client clock), though the attempt out is not cut short: a
   * create's job would be lost. A create that `createAndWait` times: its retries, not its answer.
   * Until then, refusals the server paces (`Retry-After`) are waited out however many there are.
   */
  retryUntil?: number | undefined
  /**
   * A wait's last look at its deadline: while the circuit breaker is open it goes at once as the
   * breaker's probe (the job may have ended; the server may be back), one probe at a time.
   */
  lastLook?: boolean | undefined
  /**
   * A create of `createBatch` or `createAndWait`: it waits in the creates' queue, which takes
   * seven turns in eight while other requests wait (pacing.ts, turns.ts).
   */
  background?: boolean | undefined
  /**
   * Its turn under the rate limit, given before it was made (the monitor's checks, gathered
   * while they waited for it): its first attempt goes at once, a retry waits for a turn.
   */
  turn?: number | undefined
}

/** A 2xx (or 304) response with its body parsed. */
export interface HttpResponse {
  /** The request it answers, for errors. */
  request: RequestInfo
  status: number
  headers: Headers
  /** Parsed JSON body; `undefined` for an empty body. */
  data: unknown
  /** When the attempt that got this answer was sent, on the client's clock (set by `request`). */
  sentAt?: number
  /** The client's redactor, for an error built from this answer later (`readBody`). */
  redact: Redactor
}

/** The longest a body may take to come, in request limits, its bytes coming all the while. */
const BODY_LIMITS = 6

/** Sends one request and returns its parsed 2xx body, or throws a typed error. */
export async function send(config: HttpConfig, request: HttpRequest): Promise<HttpResponse> {
  request.signal?.throwIfAborted()
  const info: RequestInfo = { method: request.method, path: request.path }
  const timeoutMs =
    Math.min(config.timeoutMs, request.timeoutMs ?? Infinity) + (request.holdMs ?? 0)
  const caller = request.timeoutMs
  // (Read only for a limit of the caller's own: a clock read is a guarded benchmark's CPU.)
  const startedAt = caller === undefined ? 0 : config.clock.now()
  const deadline = startDeadline(request.signal, timeoutMs, config.clock)
  try {
    let response: Response | undefined
    let body: Body
    /** When its headers came, and its body began. */
    let bodyFrom: number | undefined
    try {
      // A fixed key's headers without an await: a request's CPU is a guarded benchmark.
      const headers = config.key
        ? await keyed(config.key, config.headers, deadline, timeoutMs)
        : config.headers
      // Bounded by the deadline even where the fetch ignores its abort.
      const answer = answerOf(
        config.fetch,
        config.baseUrl + request.path,
        initOf(headers, request, deadline.signal),
      )
      response = await settleBy(answer, deadline.signal)
      // The limit was for the headers; the body's is on its silence, over again at each chunk,
      // for BODY_LIMITS limits at most (a body trickling a byte now and then ends, too), and
      // within a limit of the caller's own on the whole (a wait's time left: a body sending a
      // byte every 2 s held a wait of 15 s for 70 s).
      bodyFrom = config.clock.now()
      const own = caller === undefined ? Infinity : startedAt + caller + (request.holdMs ?? 0)
      const until = Math.min(bodyFrom + BODY_LIMITS * timeoutMs, own)
      const silence = () => deadline.restart(Math.min(timeoutMs, until - config.clock.now()))
      deadline.restart(Math.min(timeoutMs, until - bodyFrom))
      body = await settleBy(bodyOf(response, silence), deadline.signal)
    } catch (cause) {
      request.signal?.throwIfAborted()
      // The key's function failed (or gave none in time): said so, not as the network's failure.
      if (isVideoTranslationError(cause)) throw cause
      if (deadline.timedOut()) {
        // Its body still coming (or silent) past its limit: said so, with the time it took.
        const readingMs = bodyFrom === undefined ? undefined : config.clock.now() - bodyFrom
        throw timeoutOf(info, timeoutMs, readingMs && Math.round(readingMs))
      }
      throw new NetworkError(info, redactError(cause, config.redact), response !== undefined)
    }
    // A fetch that answers after its signal aborted (an in-process app: its server saw the
    // client leave, 499) is the timeout it would have been over a network.
    const failed = response.status < 200 || (response.status >= 300 && response.status !== 304)
    if (failed && deadline.timedOut()) throw timeoutOf(info, timeoutMs)
    return interpret(info, response, body, config)
  } finally {
    deadline.dispose()
  }
}

/**
 * The server's answer. A custom fetch that throws on HTTP errors (ky does by default) throws the
 * answer inside its error, as `error.response`: it is read like any other, so a 404 stays a
 * NotFoundError rather than a network failure.
 */
async function answerOf(fetch: FetchLike, url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init)
  } catch (error) {
    const carried = (error as { response?: unknown } | null)?.response
    if (typeof Response !== 'undefined' && carried instanceof Response) return carried
    throw error
  }
}

/** A response whose body is read as it comes (a stream of events). */
export interface HttpStream {
  response: Response
  /** Ends the stream: the request is aborted, nothing is left open. */
  close(): void
}

/**
 * Opens a request whose body is a stream: the time limit covers the answer's headers only;
 * after them the stream lasts until `close()` or the caller's signal. A non-2xx answer is read
 * and thrown as `send` would.
 */
export async function openStream(config: HttpConfig, request: HttpRequest): Promise<HttpStream> {
  request.signal?.throwIfAborted()
  const info: RequestInfo = { method: request.method, path: request.path }
  const timeoutMs = Math.min(config.timeoutMs, request.timeoutMs ?? Infinity)
  const deadline = startDeadline(request.signal, timeoutMs, config.clock)
  let response: Response
  try {
    const headers = config.key
      ? await keyed(config.key, config.headers, deadline, timeoutMs)
      : config.headers
    const answer = answerOf(config.fetch, config.baseUrl + request.path, {
      headers: { ...headers, accept: 'text/event-stream', ...request.headers },
      signal: deadline.signal,
    })
    response = await settleBy(answer, deadline.signal)
    if (response.status < 200 || response.status >= 300) {
      interpret(info, response, await settleBy(bodyOf(response), deadline.signal), config)
    }
  } catch (cause) {
    deadline.dispose()
    request.signal?.throwIfAborted()
    if (isVideoTranslationError(cause)) throw cause
    if (deadline.timedOut()) throw timeoutOf(info, timeoutMs)
    throw new NetworkError(info, redactError(cause, config.redact))
  }
  // The limit was for the headers: the stream lasts until it is closed, or the caller aborts.
  deadline.stopTimer()
  const close = () => {
    deadline.dispose()
    deadline.cancel()
  }
  return { response, close }
}

function interpret(
  info: RequestInfo,
  response: Response,
  { text, cut }: Body,
  { redact, clock }: HttpConfig,
): HttpResponse {
  const { status, headers } = response
  const failed = status < 200 || (status >= 300 && status !== 304)
  // Redirected: its errors say so, and what it did to the request (errors.ts, `redirectNote`).
  if (response.redirected) info = { ...info, redirectedTo: redirectTarget(response.url, redact) }
  if (cut && !failed) {
    // An error's body cut short still says what it can; a job's cannot be read in part.
    throw new InvalidResponseError({
      request: info,
      status,
      requestId: requestIdOf(headers, redact),
      reason: `its body is over ${MAX_BODY_BYTES} bytes, not read past them`,
      retryable: false,
    })
  }
  // A body becomes messages, events, logs and the job itself (its error's message, its title):
  // whatever it echoes, not the key.
  const clean = failed ? redact : redact.data
  const body = clean(text)
  if (failed) {
    const json = body === '' ? undefined : tryParseJson(body, clean)
    const problem =
      json && !('error' in json) ? parseProblem(json.value, status) : textProblem(body, status)
    throw createApiError({
      status,
      problem,
      requestId: requestIdOf(headers, redact),
      headers: redactHeaders(headers, redact),
      request: info,
      retryAfterMs: askedDelay(status, headers, clock.now()),
    })
  }
  // Parsed before the content type is read: reading a response header costs undici about as
  // much as the rest of this function, and a valid body needs no look at it.
  const json = body === '' ? undefined : tryParseJson(body, clean)
  if (json === undefined) return { request: info, status, headers, data: undefined, redact }
  if ('error' in json) {
    const type = redact(headers.get('content-type') ?? 'none')
    throw new InvalidResponseError({
      request: info,
      status,
      requestId: requestIdOf(headers, redact),
      reason: JSON_TYPE.test(type) ? 'malformed JSON' : `expected JSON, got content type ${type}`,
      cause: json.error,
    })
  }
  return { request: info, status, headers, data: json.value, redact }
}

/** A redirected answer's origin and path, for messages: no query (it may carry a token). */
function redirectTarget(url: string, redact: Redactor): string | undefined {
  try {
    const { origin, pathname } = new URL(url)
    return redact(origin + pathname)
  } catch {
    return undefined
  }
}

/**
 * `headers`, or a copy without the key where a value echoes it, or a name (an error's, for the
 * user: the header goes).
 */
function redactHeaders(headers: Headers, redact: Redactor): Headers {
  let clean: Headers | undefined
  headers.forEach((value, name) => {
    const redacted = redact(value)
    const named = redact(name) !== name
    if (redacted === value && !named) return
    clean ??= new Headers(headers)
    if (named) clean.delete(name)
    else clean.set(name, redacted)
  })
  return clean ?? headers
}

/**
 * A request's `TimeoutError`; `readingMs`: its headers came, its body had not ended so long after.
 * One cut at BODY_LIMITS limits, its bytes coming all the while, is not tried again by the
 * request (`tooSlow`); a wait's next check may find the link faster.
 */
function timeoutOf(info: RequestInfo, timeoutMs: number, readingMs?: number): TimeoutError {
  const what = requestLine(info)
  if (readingMs === undefined) return new TimeoutError({ scope: 'request', timeoutMs, what })
  const slow = readingMs >= BODY_LIMITS * timeoutMs
  const why = slow ? ', its bytes coming all the while: a link too slow for it' : ''
  const message = `${what} timed out: its body had not ended after ${readingMs} ms${why}`
  const error = new TimeoutError({ scope: 'request', timeoutMs, what, message })
  if (slow) tooSlow.add(error)
  return error
}

/**
 * The server's id of the request, for errors (read only when one is thrown), without the key
 * (a server may echo any header into it).
 */
export function requestIdOf(headers: Headers, redact: Redactor): string | undefined {
  const id = headers.get('x-request-id')
  return id === null ? undefined : redact(id)
}

/** What `parse` makes of a response's body (an object), or an `InvalidResponseError` with the reason it gives. */
export function readBody<T extends object>(
  response: HttpResponse,
  parse: (data: unknown) => T | string,
): T {
  const value = parse(response.data)
  if (typeof value !== 'string') return value
  throw new InvalidResponseError({
    request: response.request,
    status: response.status,
    requestId: requestIdOf(response.headers, response.redact),
    // Quoting the body: a key too short to be looked for in a job's fields is, in a message.
    reason: response.redact(value),
    // A completed job without its result: asking again will hardly bring it.
    retryable: value !== NO_RESULT,
  })
}

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\b/i

function tryParseJson(
  text: string,
  clean: (text: string) => string,
): { value: unknown } | { value?: undefined; error: unknown } {
  try {
    return { value: parseClean(text, clean) }
  } catch (error) {
    // Said without the engine's message, which quotes the body (and so perhaps part of a key cut
    // short): where the parser stopped is what helps.
    const at = /position \d+/.exec(String(error))
    return { error: new SyntaxError(`not valid JSON${at ? ` (at ${at[0]})` : ''}`) }
  }
}

/**
 * The fetch options of `request`. Headers are a plain object: fetch builds its own Headers from
 * it, so building one here would be twice. A plain GET sends what a bare fetch would, the
 * client's shared headers and the signal: fetch has less to read and check.
 */
function initOf(
  base: Readonly<Record<string, string>>,
  request: HttpRequest,
  signal: AbortSignal,
): RequestInit {
  const { method, body } = request
  if (method === 'GET' && body === undefined && request.headers === undefined)
    return { headers: base, signal }
  const headers: Record<string, string> = { ...base, ...request.headers }
  if (body !== undefined) headers['content-type'] = 'application/json'
  return { method, headers, body: body === undefined ? null : JSON.stringify(body), signal }
}
