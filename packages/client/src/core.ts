/**
 * What every resource of one client shares, and `request`: one call with retries, the retry
 * budget, the circuit breaker and events around a single HTTP attempt.
 */
import { whenAborted } from './abort.js'
import type { CircuitBreaker } from './breaker.js'
import type { Clock } from './clock.js'
import type { Emitter } from './emitter.js'
import { isApiError, isNetworkError, isTimeoutError, TimeoutError } from './errors.js'
import type { ClientEvents } from './events.js'
import type { History } from './history.js'
import {
  type HttpConfig,
  type HttpRequest,
  type HttpResponse,
  type HttpStream,
  openStream,
  send as sendRequest,
} from './http.js'
import type { Pacer, Ticket } from './pacing.js'
import type { ServerDates } from './polling/hints.js'
import type { PollingStrategy } from './polling/strategy.js'
import { refusalDelay } from './rate-limit-headers.js'
import { PACED_FOR_MS, type RetryBudget, type RetrySettings, retryDelay } from './retry.js'
import type { RoundTrips } from './round-trips.js'

/** Where the client reports what it does; every method is optional. */
export interface Logger {
  /** Retries, with the attempt and the delay. */
  debug?(message: string, data?: Record<string, unknown>): void
  /** A transport that does not work with this server, and the one used instead. */
  warn?(message: string, data?: Record<string, unknown>): void
  /** A listener, `onProgress` or another callback of yours that threw (the wait goes on). */
  error?(message: string, data?: Record<string, unknown>): void
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
}

/**
 * Sends `request` through the breaker, retrying transient failures (see retry.ts) unless `retry`
 * is false; a final failure is reported and thrown.
 */
export async function request(
  core: ClientCore,
  request: HttpRequest,
  retry = true,
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
  for (;;) {
    // Whether the breaker let this attempt through as its probe; undefined when it refused it.
    let probe: boolean | undefined
    let sentAt = Infinity
    try {
      // A wait's last look probes at once while the circuit is open: one at a time, the others
      // refused meanwhile.
      const early = request.lastLook === true && failures + pacedRetries === 0
      probe = breaker ? breaker.admit(mayProbe, early) : false
      const now = clock.now()
      // Its turn under the rate limit may not come after `retryUntil` either (nothing sent yet).
      const turnMs = deadline === Infinity ? undefined : Math.max(1, deadline - now)
      const answer = await paced(
        core,
        request,
        turnMs,
        () => {
          sentAt = clock.now()
          const leftMs = limit === Infinity ? undefined : Math.max(1, limit - sentAt)
          return attempt(leftMs === undefined ? request : { ...request, timeoutMs: leftMs })
        },
        headersOf,
      )
      breaker?.succeeded(sentAt)
      core.budget.earn()
      return { answer, sentAt }
    } catch (error) {
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
      // An attempt never sent (its turn under the rate limit came too late) says nothing of the
      // server's health either.
      if (probe !== undefined) {
        if (sentAt === Infinity || !judges) breaker?.released(probe)
        else breaker?.failed(error, probe, sentAt)
      }
      if (refusal !== undefined && sentAt === Infinity && isTimeoutError(error)) {
        events.emit('request:error', { method, path, error: refusal })
        throw refusal
      }
      const retried = retry === true || (retry !== false && retry(error))
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
      core.logger.debug?.(`retrying ${method} ${path}`, {
        attempt: count,
        delayMs,
        error: String(error),
      })
      events.emit('request:retry', { method, path, attempt: count, delayMs, error })
      await clock.sleep(delayMs, signal)
    }
  }
}

/** A held request lasting at least this long before the network cut it was held on the way. */
const HELD_MS = 1_000

/** Whether `error`, after `lastedMs`, is a held request (long-poll) cut on the way. */
function isCutHold(request: HttpRequest, error: unknown, lastedMs: number): boolean {
  return request.holdMs !== undefined && isNetworkError(error) && lastedMs >= HELD_MS
}

/**
 * The errors `request` threw for held requests cut on the way (not retried), with how long the
 * attempt lasted in ms, for their source.
 */
export const cutHolds = new WeakMap<object, number>()

/**
 * Where in the pacer's queue a create of `createBatch` or `createAndWait` goes (a minute on: the
 * checks of jobs already made go first), and any request at the latest.
 */
const BACKGROUND_MS = 60_000
/**
 * A request whose time limit ends this soon (a wait's last look, 1 s) is urgent: it goes ahead
 * of every turn that is not, as if due a day sooner (no turn waits that long).
 */
const URGENT_MS = 2_000
const URGENT_LEAD_MS = 86_400_000

/**
 * Makes `attempt` (one request, `request`) when the pacer gives it a turn, within `turnMs`, and
 * tells the pacer what the answer (`headersOf` it) or the error said of the rate limit.
 */
async function paced<T>(
  core: ClientCore,
  request: HttpRequest,
  turnMs: number | undefined,
  attempt: () => Promise<T>,
  headersOf: (answer: T) => Headers,
): Promise<T> {
  const { pacer, clock } = core
  if (!pacer) return attempt()
  // Turns go soonest limit first: the request's, or the client's when shorter (a create that may
  // retry for an hour is still one request of `requestTimeoutMs`), and a minute at most: behind
  // those due sooner, never for ever (a place once taken only ages). A create of a batch or of
  // a wait goes a minute on: behind every create, 300 jobs that ended while 300 creates waited
  // their turn were known 22 s after their end, now under a second. One that fails within
  // URGENT_MS (a wait's last look) goes before all of those: behind a backlog older than its
  // place, it would fail (waits on jobs ended 26 s before their deadline timed out behind 2,500
  // creates with an hour each).
  const base = request.background ? BACKGROUND_MS : Math.min(core.http.timeoutMs, BACKGROUND_MS)
  const orderMs = Math.min(turnMs ?? Infinity, base)
  const urgent = turnMs !== undefined && turnMs <= URGENT_MS
  const by = clock.now() + orderMs - (urgent ? URGENT_LEAD_MS : 0)
  const ticket = await waitForTurn(pacer, clock, request, turnMs, by)
  const held = request.holdMs !== undefined
  try {
    const answer = await attempt()
    pacer.answered(ticket, headersOf(answer), 'ok', held)
    return answer
  } catch (error) {
    const refused = isApiError(error) && error.status === 429
    pacer.answered(
      ticket,
      isApiError(error) ? error.headers : undefined,
      // No longer than a call waits out inside itself: the calls after it fail with the
      // server's word instead of queueing silently for an hour.
      refused
        ? { refused: capped(refusalDelay(error.headers, clock.now()), core.retry.maxRetryAfterMs) }
        : 'failed',
      held,
    )
    throw error
  }
}

function capped(ms: number | undefined, max: number): number | undefined {
  return ms === undefined ? undefined : Math.min(ms, max)
}

/**
 * Waits for the pacer's turn within `timeoutMs` (what is left of the request's own time limit: a
 * wait's deadline, say): a turn that would come later fails the request with a `TimeoutError`
 * instead of holding it. `by`: when its turn must come, its place in the queue.
 */
async function waitForTurn(
  pacer: Pacer,
  clock: Clock,
  request: HttpRequest,
  timeoutMs: number | undefined,
  by: number,
): Promise<Ticket> {
  const { signal } = request
  const held = request.holdMs !== undefined
  if (timeoutMs === undefined) return pacer.take(signal, held, by)
  // An aborted signal fires no more 'abort': the gate below would wait for the turn.
  signal?.throwIfAborted()
  const gate = new AbortController()
  const unlink = signal ? whenAborted(signal, () => gate.abort(signal.reason)) : () => {}
  const timer = new AbortController()
  const what = `${request.method} ${request.path} (waiting for its turn under the rate limit)`
  clock.sleep(timeoutMs, timer.signal).then(
    () => gate.abort(new TimeoutError({ scope: 'request', timeoutMs, what })),
    () => {},
  )
  try {
    return await pacer.take(gate.signal, held, by)
  } finally {
    timer.abort()
    unlink()
  }
}
