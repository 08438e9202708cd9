/**
 * The error hierarchy. Every error the client throws is a `VideoTranslationError` that says
 * whether trying again can help (`retryable`). Guards check a brand registered with `Symbol.for`
 * and the error's `name` rather than using `instanceof`, so they hold across realms (iframes) and
 * duplicated bundles, and never take another library's error of the same name (the platform's
 * `TimeoutError` or `NetworkError` DOMException) for one of ours.
 */
import type { Job, Problem } from './types.js'

/** The brand every error of this SDK carries (on its prototype), whichever copy made it. */
const BRAND = Symbol.for('@video-translation/client/error')

/** Base class of every error this SDK throws. */
export class VideoTranslationError extends Error {
  override name = 'VideoTranslationError'
  /** Whether the same call may succeed if made again. */
  readonly retryable: boolean

  constructor(message: string, options: { retryable?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.retryable = options.retryable ?? false
  }
}
Object.defineProperty(VideoTranslationError.prototype, BRAND, { value: true })

/** What the client knows of the request an error came from. The API key is never part of it. */
export interface RequestInfo {
  method: string
  /** Path and query, without the base URL. */
  path: string
  /**
   * Where the server redirected it, when it did (the answer's origin and path, without its
   * query): an error's message then says what a redirect does to a request.
   */
  redirectedTo?: string | undefined
}

/** The server answered with a non-2xx status. */
export class ApiError extends VideoTranslationError {
  override name = 'ApiError'
  /** The HTTP status code. */
  readonly status: number
  /**
   * The RFC 9457 problem body, when the server sent one; else one made of what another body said
   * (a JSON `message` or `error`, a plain text, an HTML page's title) as its `detail`.
   */
  readonly problem: Problem | undefined
  /** The server's `X-Request-Id`, to quote when asking for support. */
  readonly requestId: string | undefined
  /** The response headers (hints such as `Retry-After` live here). */
  readonly headers: Headers
  readonly request: RequestInfo
  /**
   * How long the server asked not to be asked again, in ms from when its answer came: its
   * `Retry-After` (an HTTP date read against its `Date`), or for a 429 that has none, when its
   * rate limit's window resets (`RateLimit`'s `t`, `RateLimit-Reset`). Undefined when it said neither.
   */
  readonly retryAfterMs: number | undefined

  constructor(init: {
    status: number
    problem: Problem | undefined
    requestId: string | undefined
    headers: Headers
    request: RequestInfo
    retryAfterMs?: number | undefined
  }) {
    super(apiErrorMessage(init), { retryable: isRetryableStatus(init.status) })
    this.status = init.status
    this.problem = init.problem
    this.requestId = init.requestId
    this.headers = init.headers
    this.request = init.request
    this.retryAfterMs = init.retryAfterMs
  }
}

/** 401 or 403: the API key is missing, wrong or not allowed to do this. */
export class AuthenticationError extends ApiError {
  override name = 'AuthenticationError'
}

/** 404: no such job for this API key (jobs of other keys are invisible too). */
export class NotFoundError extends ApiError {
  override name = 'NotFoundError'
}

/** 429: too many requests; `Retry-After` says when to come back. */
export class RateLimitError extends ApiError {
  override name = 'RateLimitError'
}

/** 5xx: the server failed; usually worth another try. */
export class ServerError extends ApiError {
  override name = 'ServerError'
}

/** The cause of a `NetworkError` for a request not sent: the browser stayed offline (request/offline.ts). */
export const OFFLINE = 'the browser is offline'

/**
 * The request got no whole HTTP response: DNS, refused or reset connection, CORS, offline, or
 * the connection lost while the answer was read (`midAnswer`).
 */
export class NetworkError extends VideoTranslationError {
  override name = 'NetworkError'
  readonly request: RequestInfo
  /** Whether the answer had begun (its status and headers came) when the connection failed. */
  readonly midAnswer: boolean

  constructor(request: RequestInfo, cause: unknown, midAnswer = false) {
    const what = requestLine(request)
    const said = sentence(describeCause(cause))
    // Deno refusing the request (no `--allow-net` for the host), or Node's fetch (undici)
    // refusing a port it never connects to (the Fetch standard's bad ports: 1, 6000…): no retry
    // makes it pass (one took 8 s of retries to fail). A browser says only "Failed to fetch".
    const error = cause as { name?: unknown; cause?: { message?: unknown } } | undefined
    const refused =
      error?.cause?.message === 'bad port' ||
      ['NotCapable', 'PermissionDenied'].includes(String(error?.name))
    // Redirected in a loop (undici's word, past 20 redirects): a wrong address, which no retry
    // mends (a createAndWait sent 126 requests in 9.5 s before it failed).
    const looped = error?.cause?.message === 'redirect count exceeded'
    super(
      refused
        ? `${what} was not allowed by the runtime: ${said}`
        : looped
          ? `${what} was redirected in a loop: ${said} Check the base URL.`
          : cause === OFFLINE
            ? `${what} was not sent: the browser stayed offline until its time limit.`
            : midAnswer
              ? `${what} lost its connection while the answer was read: ${said}`
              : `${what} failed before a response arrived: ${said} Check that the server is reachable from here (base URL, network, CORS).`,
      { retryable: !refused && !looped, cause },
    )
    this.request = request
    this.midAnswer = midAnswer
  }
}

/** A 2xx response whose body is not what protocol v1 promises (not JSON, or not a Job). */
export class InvalidResponseError extends VideoTranslationError {
  override name = 'InvalidResponseError'
  readonly status: number
  readonly requestId: string | undefined
  readonly request: RequestInfo
  /** Why the body is not what was asked for. */
  readonly reason: string

  constructor(init: {
    request: RequestInfo
    status: number
    requestId: string | undefined
    reason: string
    cause?: unknown
    /** @default true: a body cut short or garbled on the way may read on another try */
    retryable?: boolean
  }) {
    super(
      `${requestLine(init.request)} returned ${init.status} with an invalid body: ${init.reason}${redirectNote(init.request, init.status)}${requestIdSuffix(init.requestId)}`,
      { retryable: init.retryable ?? true, cause: init.cause },
    )
    this.reason = init.reason
    this.status = init.status
    this.requestId = init.requestId
    this.request = init.request
  }
}

/** A time limit ran out: one request's (`scope: 'request'`) or a whole wait's (`scope: 'wait'`). */
export class TimeoutError extends VideoTranslationError {
  override name = 'TimeoutError'
  readonly scope: 'request' | 'wait'
  /**
   * Which limit ran out: one request's time limit (`requestTimeoutMs`, a held request's), a
   * wait's deadline (`timeoutMs`), or its status checks (`maxAttempts`).
   */
  readonly reason: 'request' | 'deadline' | 'attempts'
  /**
   * The time limit that ran out, in ms; for a wait given none (out of checks, or at a resume
   * token's deadline), how long it waited.
   */
  readonly timeoutMs: number
  /** For a wait: the last Job seen before the time ran out. */
  readonly job: Job | undefined
  /**
   * For a wait on a job: a token to go on with it later, in this process or another
   * (`wait(id, { resume, timeoutMs })`: the schedule where it was, its last ETag).
   */
  readonly resumeToken: string | undefined

  constructor(init: {
    scope: 'request' | 'wait'
    /** @default 'request' for a request, 'deadline' for a wait */
    reason?: 'deadline' | 'attempts' | undefined
    timeoutMs: number
    what: string
    job?: Job | undefined
    resumeToken?: string | undefined
    message?: string | undefined
    /** For a wait: why its last status check failed, when it did (a wait with no answer). */
    cause?: unknown
  }) {
    const { cause } = init
    // Quoted only when it is one of ours (already free of the key).
    const last = isVideoTranslationError(cause) ? `; its last request failed: ${cause.message}` : ''
    // (A message of the caller's says what it knows of the job: the legacy API's, "still pending".)
    const seen = init.message === undefined ? lastSeen(init.job) : ''
    super(`${init.message ?? `${init.what} timed out after ${init.timeoutMs} ms`}${last}${seen}`, {
      retryable: init.scope === 'request',
      cause,
    })
    this.scope = init.scope
    this.reason = init.scope === 'request' ? 'request' : (init.reason ?? 'deadline')
    this.timeoutMs = init.timeoutMs
    this.job = init.job
    this.resumeToken = init.resumeToken
  }
}

/**
 * The circuit breaker is open: the server failed too often lately, so the call was not sent. Its
 * `cause` is the failure that opened the circuit.
 */
export class CircuitOpenError extends VideoTranslationError {
  override name = 'CircuitOpenError'
  /** When the breaker lets a probe through, in ms from now (0 while a probe is in flight). */
  readonly retryAfterMs: number
  /** Which opening of the circuit refused the call (1 for the first): one outage, one number. */
  readonly opening: number

  constructor(retryAfterMs: number, cause?: unknown, opening = 0) {
    const when =
      retryAfterMs > 0 ? `in ${Math.ceil(retryAfterMs)} ms` : 'once the current probe answers'
    // The cause's message is quoted only when it is one of ours (already free of the key).
    const last = isVideoTranslationError(cause) ? ` (last: ${cause.message})` : ''
    super(
      `Not sent: the circuit breaker is open after repeated failures to get the server's answer${last}; it lets a probe through ${when}.`,
      { retryable: true, cause },
    )
    this.retryAfterMs = retryAfterMs
    this.opening = opening
  }
}

/** The job ended in `error` (or was canceled) while being waited for; the Job is attached. */
export class JobFailedError extends VideoTranslationError {
  override name = 'JobFailedError'
  readonly job: Job

  /**
   * `redact`: the client's redactor; the server's words are quoted in the message, where a key
   * too short to be looked for in a job's fields is looked for too.
   */
  constructor(job: Job, redact: (text: string) => string = (text) => text) {
    const why = job.error ? `${job.error.code}: ${job.error.message}` : 'no error details'
    const ended = job.status === 'canceled' ? 'canceled' : `in error (${why})`
    super(redact(`Job ${job.id} ended ${ended}.`))
    this.job = job
  }
}

/** What a wait's timeout says of the job as last seen: its status, progress and ETA. */
function lastSeen(job: Job | undefined): string {
  if (!job) return ''
  const { status, progress, eta_ms: etaMs } = job
  const done =
    typeof progress === 'number' && progress > 0 ? `, ${Math.floor(progress * 100)} %` : ''
  const eta = typeof etaMs === 'number' ? `, its ETA ${Math.ceil(etaMs / 1_000)} s` : ''
  return `; the job was last seen ${status}${done}${eta}`
}

/** Picks the `ApiError` subclass for a status code. */
export function createApiError(init: ConstructorParameters<typeof ApiError>[0]): ApiError {
  const { status } = init
  if (status === 401 || status === 403) return new AuthenticationError(init)
  if (status === 404) return new NotFoundError(init)
  if (status === 429) return new RateLimitError(init)
  if (status >= 500) return new ServerError(init)
  return new ApiError(init)
}

/** 408, 425, 429 and 5xx may succeed on another try; other 4xx will not. */
function isRetryableStatus(status: number): boolean {
  // 501 Not Implemented and 505 HTTP Version Not Supported do not pass with time; 425 Too Early
  // asks for the request again later (RFC 8470).
  if (status === 408 || status === 425 || status === 429) return true
  return status >= 500 && status !== 501 && status !== 505
}

/** Every `ApiError`'s name (a test fails for a subclass left out). */
const API_ERROR_NAMES = [
  'ApiError',
  'AuthenticationError',
  'NotFoundError',
  'RateLimitError',
  'ServerError',
] as const

/** Builds a guard for errors of this SDK named one of `names` (any name when none is given). */
export function guardFor<T extends VideoTranslationError>(...names: readonly string[]) {
  const accepted = new Set(names)
  return (error: unknown): error is T =>
    typeof error === 'object' &&
    error !== null &&
    (error as { [BRAND]?: unknown })[BRAND] === true &&
    (accepted.size === 0 || accepted.has(String((error as { name?: unknown }).name)))
}

/** Whether `error` is any error of this SDK. */
export const isVideoTranslationError = guardFor<VideoTranslationError>()
/** Whether `error` is an `ApiError` (any HTTP status). */
export const isApiError = guardFor<ApiError>(...API_ERROR_NAMES)
/** Whether `error` is an `AuthenticationError`. */
export const isAuthenticationError = guardFor<AuthenticationError>('AuthenticationError')
/** Whether `error` is a `NotFoundError`. */
export const isNotFoundError = guardFor<NotFoundError>('NotFoundError')
/** Whether `error` is a `RateLimitError`. */
export const isRateLimitError = guardFor<RateLimitError>('RateLimitError')
/** Whether `error` is a `ServerError`. */
export const isServerError = guardFor<ServerError>('ServerError')
/** Whether `error` is a `NetworkError`. */
export const isNetworkError = guardFor<NetworkError>('NetworkError')
/** Whether `error` is an `InvalidResponseError`. */
export const isInvalidResponseError = guardFor<InvalidResponseError>('InvalidResponseError')
/** Whether `error` is a `CircuitOpenError`. */
export const isCircuitOpenError = guardFor<CircuitOpenError>('CircuitOpenError')
/** Whether `error` is a `JobFailedError`. */
export const isJobFailedError = guardFor<JobFailedError>('JobFailedError')
/** Whether `error` is a `TimeoutError`. */
export const isTimeoutError = guardFor<TimeoutError>('TimeoutError')

function apiErrorMessage(init: {
  status: number
  problem: Problem | undefined
  requestId: string | undefined
  request: RequestInfo
}): string {
  const { problem } = init
  const said = problem?.detail ?? problem?.title ?? 'no problem details in the response'
  // A server's text, kept to a sentence's length in the message (the whole is on `problem`):
  // an 8 MB detail made an 8 MB message, and each failed check's history entry held one.
  const what = said.length > 500 ? `${said.slice(0, 500)}…` : said
  const note = redirectNote(init.request, init.status)
  return `${requestLine(init.request)} failed with HTTP ${init.status}: ${what}${note}${requestIdSuffix(init.requestId)}`
}

/**
 * What a message adds for a request the server redirected: fetch follows redirects, but sends no
 * `Authorization` to another origin (an `http://` base URL redirected to `https://` answered 401,
 * "invalid API key"), and sends a POST redirected with 301, 302 or 303 on as a GET (a create
 * answered 404 or 405 from the list of jobs).
 */
function redirectNote({ method, redirectedTo }: RequestInfo, status: number): string {
  if (redirectedTo === undefined) return ''
  const where = `; it was redirected to ${shown(redirectedTo)}`
  // Fetch tells neither the redirect's status nor its hops: said as what may have happened.
  const advice = 'if so, use that address in baseUrl'
  if (status === 401) {
    return `${where} (fetch sends no Authorization header to another origin: ${advice})`
  }
  if (method !== 'GET') {
    return `${where} (after a 301, 302 or 303, fetch sends the ${method} on as a GET: ${advice})`
  }
  return where
}

/** The longest id or path a message quotes whole: a longer one (an id of 10,000 characters) is cut. */
const MAX_SHOWN = 200

/**
 * `text` (an id, a path, a value) as a message quotes it: cut after `max` characters, saying how
 * long it was (the error's fields keep it whole).
 */
export function shown(text: string, max = MAX_SHOWN): string {
  return text.length > max ? `${text.slice(0, max)}… (${text.length} characters)` : text
}

/** `GET /v1/jobs/…` as messages say it, a long path cut short. */
export function requestLine(request: RequestInfo): string {
  return `${request.method} ${shown(request.path)}`
}

function requestIdSuffix(requestId: string | undefined): string {
  return requestId === undefined ? '' : ` (request id ${requestId})`
}

/**
 * A runtime's error and what it says was underneath: `fetch failed (connect ECONNREFUSED
 * 127.0.0.1:8787)` rather than the bare `fetch failed` Node gives at the top.
 */
function describeCause(cause: unknown): string {
  const said: string[] = []
  for (let at = cause, depth = 0; at !== undefined && depth < 4; depth++) {
    const error = at as { message?: unknown; code?: unknown; name?: unknown; cause?: unknown }
    const text = at instanceof Error ? error.message || error.code || error.name : at
    if (text !== undefined && text !== '' && !said.includes(String(text))) said.push(String(text))
    at = at instanceof Error ? error.cause : undefined
  }
  const [top = String(cause), ...under] = said
  return under.length === 0 ? top : `${top} (${under.join(': ')})`
}

/** `text` ended as a sentence: a full stop, unless it has an end of its own (`?`, `!`, `.`). */
function sentence(text: string): string {
  return /[.?!]$/.test(text) ? text : `${text}.`
}
