/**
 * What every resource of one client shares, and `request`: one call with retries, the retry
 * budget, the circuit breaker and events around a single HTTP attempt.
 */
import { eitherSignal } from './abort.js'
import { type Clock, sleepWaking } from './clock.js'
import type { Emitter } from './emitter.js'
import { isApiError, isNetworkError, isTimeoutError, NetworkError, OFFLINE } from './errors.js'
import type { ClientEvents } from './events.js'
import type { History } from './history.js'
import type { FreshJobs } from './observe/fresh-jobs.js'
import type { ServerDates } from './polling/hints.js'
import type { PollingStrategy } from './polling/strategy.js'
import type { CircuitBreaker } from './request/breaker.js'
import {
  type HttpConfig,
  type HttpRequest,
  type HttpResponse,
  type HttpStream,
  openStream,
  send as sendRequest,
} from './request/http.js'
import { notSent } from './request/key.js'
import { offline, whenOnline } from './request/offline.js'
import type { Pacer } from './request/pacing.js'
import { PACED_FOR_MS, type RetryBudget, type RetrySettings, retryDelay } from './request/retry.js'
import type { RoundTrips } from './request/round-trips.js'
import { paced } from './request/turns.js'

/** Where the client reports what it does; every method is optional. */
export interface Logger {
  /** Retries, with the attempt and the delay. */
  debug?: ((message: string, data?: Record<string, unknown>) => void) | undefined
  /** A transport that does not work with this server, and the one used instead. */
  warn?: ((message: string, data?: Record<string, unknown>) => void) | undefined
  /** A listener, `onProgress` or another callback of yours that threw (the wait goes on). */
  error?: ((message: string, data?: Record<string, unknown>) => void) | undefined
}

/** The shared parts of one client. */
export interface ClientCore {
  http: HttpConfig
  clock: Clock
  random: () => number
  events: Emitter<ClientEvents>
  breaker: CircuitBreaker | undefined
  budget: RetryBudget
  retry: RetrySettings
  polling: PollingStrategy
  history: History
  logger: Logger
  /** Spaces requests to the server's rate limit; undefined with `pacing: false`. */
  pacer: Pacer | undefined
  /** Whether the server's `Date` tells its jobs' ages. */
  dates: ServerDates
  /** How long requests take to reach the server. */
  trips: RoundTrips
  /** The jobs this client created lately (a read may not find one yet). */
  fresh: FreshJobs
  /**
   * Aborted when the client is closed (calls.ts): no retry of a request starts after it, and a
   * pause before one ends at once with the close's reason.
   */
  closing?: AbortSignal | undefined
}

/**
 * Sends `request` through the breaker, retrying transient failures (see retry.ts) unless `retry`
 * is false; a final failure is reported and thrown.
 */
export async function request(
  core: ClientCore,
  request: HttpRequest,
  /** Whether a failure is tried again (when transient): all, none, or those it says. */
  retry: boolean | ((error: unknown) => boolean) = true,
): Promise<HttpResponse> {
  const send = (attempt: HttpRequest) => sendRequest(core.http, attempt)
  const { answer, sentAt } = await attempts(core, request, retry, send, (r) => r.headers)
  answer.sentAt = sentAt
  if (request.holdMs === undefined) core.trips.add(core.clock.now() - sentAt)
  return answer
}

/**
 * Opens an event stream as `request` would send a request: through the breaker, with retries
 * (`retry`: none when the source has another way to ask), events and the rate limit; the stream
 * itself is then the caller's to read. An open that times out is not retried: a stream whose
 * headers do not come is more often held back by a proxy than late, and its source decides
 * (sources/sse.ts). An open is never the breaker's probe: a route a proxy breaks would keep
 * the circuit open for every call; a plain request probes. One not tried again (`retry` false)
 * counts for nothing against the server's health: what its source asks next tells (eight waits
 * behind a proxy failing streams alone opened the circuit for every call).
 */
export async function requestStream(
  core: ClientCore,
  request: HttpRequest,
  retry = true,
): Promise<HttpStream> {
  const open = (attempt: HttpRequest) => openStream(core.http, attempt)
  const retried = (error: unknown) => retry && !isTimeoutError(error)
  const headersOf = (stream: HttpStream) => stream.response.headers
  const { answer } = await attempts(core, request, retried, open, headersOf, {
    mayProbe: false,
    // Not tried again, it is not the last word either: the job's own address is asked next.
    judges: retry,
  })
  return answer
}

/**
 * The attempts of one request (`attempt` makes one): through the breaker and the pacer, each
 * transient failure retried, the last reported and thrown; each attempt has what is left of the
 * request's time limit, not the whole of it again. Resolves with the answer and when the attempt
 * that got it was sent.
 */
async function attempts<T>(
  core: ClientCore,
  request: HttpRequest,
  retry: boolean | ((error: unknown) => boolean),
  attempt: (request: HttpRequest) => Promise<T>,
  headersOf: (answer: T) => Headers,
  {
    mayProbe = request.holdMs === undefined,
    judges = true,
  }: {
    /** Whether it may be the breaker's probe: a held request never is (its verdict may be a hold away). */
    mayProbe?: boolean
    /** Whether its failure counts against the server's health (the breaker's tally). */
    judges?: boolean
  } = {},
): Promise<{ answer: T; sentAt: number }> {
  const { breaker, clock, events } = core
  const { method, path, signal } = request
  // A retry that would start after the request's time limit (or `retryUntil`) is not made.
  const limit = request.timeoutMs === undefined ? Infinity : clock.now() + request.timeoutMs
  const deadline = Math.min(limit, request.retryUntil ?? Infinity)
  let failures = 0
  let pacedRetries = 0
  /** The last refusal the server paced: what failed, if its retry's turn does not come in time. */
  let refusal: unknown
  /**
   * Without a time of its own, a request the server keeps refusing gives up PACED_FOR_MS after
   * its first refusal, however far apart the pacer puts its tries by then (its share of a limit
   * halved at each refusal); the time it waits for its turn behind other requests counts too.
   */
  let refusedUntil = Infinity
  /** The turn given before the request was made, for its first attempt (see `HttpRequest.turn`). */
  let turn = request.turn
  for (;;) {
    // While the browser is offline nothing is sent: the attempt waits for the network, within
    // the request's time (its deadline, else the client's request time limit).
    if (offline()) {
      const withinMs = deadline === Infinity ? core.http.timeoutMs : deadline - clock.now()
      let back = false
      try {
        back = await whenOnline(clock, withinMs, signal)
      } finally {
        // A turn given for it goes back unless it is sent (its caller left, or it was not).
        if (!back && turn !== undefined) core.pacer?.release(turn)
      }
      if (!back) {
        const error = new NetworkError({ method, path }, OFFLINE)
        events.emit('request:error', { method, path, error })
        throw error
      }
    }
    // Whether the breaker let this attempt through as its probe; undefined when it refused it.
    let probe: boolean | undefined
    let sentAt = Infinity
    /** The attempt's time limit, when it has one. */
    let limitMs: number | undefined
    const given = turn
    turn = undefined
    let paces = false
    try {
      // A wait's last look probes at once while the circuit is open: one at a time, the others
      // refused meanwhile.
      const early = request.lastLook === true && failures + pacedRetries === 0
      probe = breaker ? breaker.admit(mayProbe, early) : false
      const now = clock.now()
      // Its turn under the rate limit may not come after `retryUntil` either (nothing sent yet).
      const turnMs = deadline === Infinity ? undefined : Math.max(1, deadline - now)
      paces = true
      const answer = await paced(
        core,
        request,
        turnMs,
        given,
        () => {
          sentAt = clock.now()
          limitMs = limit === Infinity ? undefined : Math.max(1, limit - sentAt)
          return attempt(limitMs === undefined ? request : { ...request, timeoutMs: limitMs })
        },
        headersOf,
        // Not a held request nor a stream's open: one that may probe the breaker.
        mayProbe,
      )
      breaker?.succeeded(sentAt)
      core.budget.earn()
      core.trips.answered = true
      return { answer, sentAt }
    } catch (error) {
      // The breaker refused the attempt its turn was given for: the turn goes back.
      if (given !== undefined && !paces) core.pacer?.release(given)
      // The server answered, if with an error or a body cut short.
      if (isApiError(error) || (isNetworkError(error) && error.midAnswer))
        core.trips.answered = true
      const lastedMs = clock.now() - sentAt
      if (isCutHold(request, error, lastedMs)) {
        // Something on the way held the request a while, then cut it: nothing against the
        // server's health, nor a failure to retry here. The long-poll source decides what it
        // means (sources/long-poll.ts), knowing how long this attempt lasted.
        if (probe !== undefined) breaker?.released(probe)
        cutHolds.set(error as object, lastedMs)
        events.emit('request:error', { method, path, error })
        throw error
      }
      if (signal?.aborted) {
        // The caller left: nothing learned of the server (an aborted probe must not close it).
        if (probe !== undefined) breaker?.released(probe)
        signal.throwIfAborted()
      }
      // An attempt never sent (its turn under the rate limit came too late, its key's function
      // failed), or cut as the browser went offline, says nothing of the server's health either.
      const cutOffline = isNetworkError(error) && offline()
      // Nor does a time limit cut short by a wait's deadline (a last look's second) running out:
      // the server was not given its time (300 waits with deadlines apart, each batch answered
      // in 3 s: their last looks opened the breaker 27 times, failing the others' checks).
      const short = isTimeoutError(error) && (limitMs ?? Infinity) < core.http.timeoutMs / 2
      if (probe !== undefined) {
        const unjudged = sentAt === Infinity || !judges || notSent.has(error as object)
        if (unjudged || cutOffline || short) breaker?.released(probe)
        else breaker?.failed(error, probe, sentAt)
      }
      if (refusal !== undefined && sentAt === Infinity && isTimeoutError(error)) {
        events.emit('request:error', { method, path, error: refusal })
        throw refusal
      }
      const retried = retry === true || (retry !== false && retry(error))
      // Sent again once the browser is back online (at the top), no retry spent: where retries
      // are made at all (not `retry: false`), and the failure may pass (not a runtime's refusal).
      const again = core.retry.maxRetries > 0 && (error as NetworkError).retryable
      if (retried && cutOffline && again) continue
      const until = request.retryUntil
      const next = retried ? retryDelay(core, failures, pacedRetries, error, until) : undefined
      const giveUpAt = next?.paced ? Math.min(deadline, refusedUntil) : deadline
      if (next === undefined || clock.now() + next.delayMs >= giveUpAt) {
        events.emit('request:error', { method, path, error })
        throw error
      }
      const { delayMs } = next
      if (next.paced) {
        if (refusal === undefined && !Number.isFinite(until)) {
          refusedUntil = clock.now() + PACED_FOR_MS
        }
        refusal = error
        pacedRetries++
      } else {
        // A newer failure of another kind is what failed, not an older refusal.
        refusal = undefined
        failures++
      }
      const count = failures + pacedRetries
      // When it is likely to go: after its backoff, or its turn under the rate limit if later (a
      // 429 without Retry-After told 144 ms, and the turn came 2 s on).
      const untilTurnMs = core.pacer?.untilFree() ?? 0
      const goesInMs = Number.isFinite(untilTurnMs) ? Math.max(delayMs, untilTurnMs) : delayMs
      core.logger.debug?.(`retrying ${method} ${path}`, {
        attempt: count,
        delayMs: goesInMs,
        error: String(error),
      })
      events.emit('request:retry', { method, path, attempt: count, delayMs: goesInMs, error })
      // A client closed meanwhile, or while it pauses: no retry (a get out at the close was let
      // finish, and waited out minutes of a server's `Retry-After`, sending more).
      const pause = core.closing ? eitherSignal(signal, core.closing) : { signal, unlink() {} }
      try {
        await sleepWaking(clock, delayMs, pause.signal)
      } finally {
        pause.unlink()
      }
    }
  }
}

/** A held request lasting at least this long before the network cut it was held on the way. */
const HELD_MS = 1_000

/**
 * A proxy's answer to a request it held too long for its upstream's answer: 504 (nginx's
 * `proxy_read_timeout`), 502 and 503 (routers that give up after 30 s), 524 (a CDN's).
 */
const GATEWAY_GAVE_UP = new Set([502, 503, 504, 524])

/**
 * A held request a proxy answered so after at least this long was held on the way (a read
 * timeout of a few seconds at least): sooner, it is more likely the server's failure passed on.
 */
const GATEWAY_HELD_MS = 3_000

/**
 * Whether `error`, after `lastedMs`, is a held request (long-poll) cut on the way: closed,
 * unanswered by the end of its hold and its time limit after it (dropped without a word), or
 * answered by a proxy that would not wait as long (not a refusal saying when to come back).
 */
function isCutHold(request: HttpRequest, error: unknown, lastedMs: number): boolean {
  if (request.holdMs === undefined) return false
  if (isApiError(error)) {
    const gaveUp = GATEWAY_GAVE_UP.has(error.status) && error.retryAfterMs === undefined
    return gaveUp && lastedMs >= GATEWAY_HELD_MS
  }
  const cut = isNetworkError(error) || (isTimeoutError(error) && error.scope === 'request')
  return cut && lastedMs >= HELD_MS
}

/**
 * The errors `request` threw for held requests cut on the way (not retried), with how long the
 * attempt lasted in ms, for their source.
 */
export const cutHolds = new WeakMap<object, number>()
