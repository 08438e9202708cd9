/**
 * One wait's (or watch's) part of a shared observation: its own deadline, attempt and error
 * limits and signal, what it is told, and what it can tell between checks (a resume token, an
 * estimate).
 */
import { whenAborted } from '../abort.js'
import { DEFAULTS } from '../defaults.js'
import { shown, TimeoutError } from '../errors.js'
import type { PollingStrategy } from '../polling/strategy.js'
import type { Job } from '../types.js'
import { MAX_TIMER_MS } from '../validate.js'
import { encodeToken } from './cursor.js'
import { estimateProgress, type ProgressEstimate } from './estimate.js'
import type { Observation } from './observation.js'

/** How long the check at a deadline may take: a wait overruns its timeout by at most this. */
export const LAST_LOOK_MS = 1_000

/** Limits of one wait. */
export interface WaitLimits {
  /** Abort the wait: it rejects at once with the signal's reason and sends nothing more. */
  signal?: AbortSignal | undefined
  /**
   * Give up after this long, in ms, with a `TimeoutError` carrying the last Job. For
   * `createAndWait`, counted from the call; the create itself is never cut short (bounded by
   * `requestTimeoutMs` and its retries), so its job is never lost.
   */
  timeoutMs?: number | undefined
  /**
   * Give up after this many status checks, with a `TimeoutError`. An event stream makes none:
   * with SSE, `timeoutMs` is what bounds a wait.
   */
  maxAttempts?: number | undefined
  /**
   * Give up after this many failed checks in a row (each already retried by the request layer),
   * rethrowing the last error. While the circuit breaker is open, the wait waits for its probe:
   * each opening counts as one failed check (a `CircuitOpenError` whose `cause` is the server's
   * failure); a check refused while the probe is out does not count.
   * @default 10
   */
  maxConsecutiveErrors?: number | undefined
  /**
   * The polling strategy of this wait: it places the status checks of `transport: 'poll'` (and
   * long-poll's after answers not held); an event stream has none to place. @default the client's
   */
  polling?: PollingStrategy | undefined
}

/** What a subscription is told. */
export interface Subscriber {
  /**
   * Whether it wants every change (a watch, a wait with `onProgress`), not just the end: held
   * requests then end at every status change rather than at the end alone.
   */
  readonly everyChange: boolean
  /** Every answer: the job, and whether its status or progress moved since the last one. */
  next(job: Job, changed: boolean, subscription: Subscription): void
  /** The subscription ended without a terminal job: a limit, a failure or its signal. */
  end(error: unknown): void
}

/** What a wait or a watch can tell between checks. */
export interface WaitState {
  /**
   * A token (a short string) holding this wait's state: its job, deadline, schedule and last
   * ETag. Pass it as `resume` to `jobs.wait` or `jobs.watch` in another process or tab to go
   * on where this one stands.
   */
  resumeToken(): string
  /** Progress and time left now, interpolated from the last answer; below 1 until it ends. */
  estimate(): ProgressEstimate
}

/** One wait's (or watch's) part of an observation. */
export class Subscription implements WaitState {
  readonly deadline: number
  readonly #timeoutMs: number | undefined
  readonly #maxAttempts: number
  readonly #maxErrors: number
  readonly #joinedAt: number
  readonly strategy: PollingStrategy
  /** Part of a wait for many jobs: its checks may move to share a tick (see monitor.ts). */
  readonly align: boolean
  attempts = 0
  failures = 0
  /** Why the last check failed, until one is answered: a timeout's cause. */
  lastFailure: unknown
  /** The breaker's opening this wait last counted as a failed check. */
  #opening = 0
  /** The most progress `estimate` has said so far. */
  #shownProgress = 0
  /** Stops listening to the wait's signal. */
  #stopListening: (() => void) | undefined
  /** Ends this wait `lastLookMs` after its deadline if a check is still out then. */
  #guard: (AbortController & { lastLookMs: number }) | undefined
  /** Its last look beside a check out since before it joined (`#lookBeside`), if one is out. */
  #looking: AbortController | undefined

  constructor(
    readonly observation: Observation,
    limits: WaitLimits,
    readonly subscriber: Subscriber,
    now: number,
    /**
     * `deadline`: set, it wins over `limits.timeoutMs` (see `Start.deadline`); `resumed`: a resume
     * token's, used when neither is given.
     */
    options: { deadline?: number | undefined; resumed?: number | undefined; align?: boolean } = {},
  ) {
    this.#timeoutMs = limits.timeoutMs
    const { timeoutMs } = limits
    this.deadline =
      options.deadline ??
      (timeoutMs === undefined ? (options.resumed ?? Infinity) : now + timeoutMs)
    this.align = options.align === true
    this.#maxAttempts = limits.maxAttempts ?? Infinity
    this.#maxErrors = limits.maxConsecutiveErrors ?? DEFAULTS.maxConsecutiveErrors
    this.#joinedAt = now
    this.strategy = limits.polling ?? observation.core.polling
    const { signal } = limits
    this.#stopListening = signal
      ? whenAborted(signal, () => {
          this.close()
          subscriber.end(signal.reason)
        })
      : undefined
  }

  /** Whether its checks are counted against a limit (`maxAttempts`). */
  get countsChecks(): boolean {
    return this.#maxAttempts < Infinity
  }

  /** Leaves the observation (the last one leaving ends it); sends nothing more for this wait. */
  close(): void {
    this.#stopListening?.()
    this.#stopListening = undefined
    this.#guard?.abort()
    this.#looking?.abort()
    this.observation.leave(this)
  }

  /**
   * A check is out that may outlast this wait's deadline (a stream, a held request, or one that
   * began before this wait joined, with a time limit set for the others): if it is still out
   * `lastLookMs` after the deadline, the wait ends then; a stream or a held request still out
   * then is interrupted instead, and the job asked plainly: the wait's last look.
   */
  guardDeadline(lastLookMs = LAST_LOOK_MS): void {
    const { clock } = this.observation.core
    if (!Number.isFinite(this.deadline) || this.#guard?.lastLookMs === lastLookMs) return
    // Set again when the look changes (a tab that followed another starts a stream, say).
    this.#guard?.abort()
    const guard = Object.assign(new AbortController(), { lastLookMs })
    this.#guard = guard
    const end = this.#lastLookFrom()
    const delay = Math.min(MAX_TIMER_MS, end + lastLookMs - clock.now())
    clock.sleep(Math.max(0, delay), guard.signal).then(
      () => {
        this.#guard = undefined
        const { observation } = this
        if (!observation.inFlight || !observation.subscriptions.has(this)) return
        const now = clock.now()
        // A real timer may fire a moment before its time (by the clock's reading): again then.
        if (now < this.deadline) return this.guardDeadline(lastLookMs)
        if (lastLookMs === 0) {
          // The plain look that follows has its second, whatever the interrupted request does
          // (a fetch may ignore its abort). A plain check out since before this wait joined
          // (hung, say) is left to the others, and this wait looks once beside it.
          if (observation.interrupt) observation.interrupt()
          else if (observation.checkBeganAt < this.#joinedAt) this.#lookBeside()
          return this.guardDeadline(LAST_LOOK_MS)
        }
        if (!this.checkLimits(now)) this.guardDeadline(lastLookMs)
      },
      () => {},
    )
  }

  /** When its last look is due: its deadline, or when it joined if past it (a resume token's). */
  #lastLookFrom(): number {
    return Math.max(this.deadline, this.#joinedAt)
  }

  /** This wait's last look, beside a check it did not set the time limit of. */
  #lookBeside(): void {
    this.#looking = new AbortController()
    this.observation.planner.lookBeside(this.observation, this.#looking.signal)
  }

  /**
   * Whether this wait still has its last look to make at `now`: a check sent before its
   * deadline (at `checkSentAt`) failed after it, within the look's second, with checks left.
   */
  owesLastLook(now: number, checkSentAt: number): boolean {
    const end = this.#lastLookFrom()
    return (
      checkSentAt < end &&
      end <= now &&
      now < end + LAST_LOOK_MS &&
      this.attempts < this.#maxAttempts
    )
  }

  /**
   * After a check: ends this subscription with a `TimeoutError` when a limit is reached, or
   * would be before the next check may go (`nextAt`: a server asking for no request until after
   * the deadline is not asked at it, against its word; `createAndWait`'s create does the same).
   */
  checkLimits(now: number, nextAt = now): boolean {
    if (nextAt < this.deadline && this.attempts < this.#maxAttempts) return false
    const { id, core, cursor } = this.observation
    const job = cursor.state.job
    const elapsedMs = now - this.#joinedAt
    core.events.emit('job:timeout', { id, job, elapsedMs, attempts: this.attempts })
    this.close()
    const outOfChecks = this.attempts >= this.#maxAttempts && now < this.deadline
    const early = !outOfChecks && now < this.deadline
    // Without a timeoutMs of its own, the deadline is a resume token's, set by the wait before.
    const fromToken = this.#timeoutMs === undefined
    const waiting = `Waiting for job ${shown(id)}`
    const message = outOfChecks
      ? `${waiting} gave up after ${this.attempts} status checks (maxAttempts)`
      : early
        ? `${waiting} gave up ${this.deadline - now} ms before its deadline: the server asked for no request until ${nextAt - now} ms on`
        : fromToken
          ? `${waiting} reached the deadline its resume token carried, ${elapsedMs} ms after it resumed (pass timeoutMs with the token to wait longer)`
          : undefined
    this.subscriber.end(
      new TimeoutError({
        scope: 'wait',
        reason: outOfChecks ? 'attempts' : 'deadline',
        timeoutMs: this.#timeoutMs ?? elapsedMs,
        what: waiting,
        job,
        resumeToken: this.resumeToken(),
        message,
        cause: this.lastFailure,
      }),
    )
    return true
  }

  /** A token to pass as `resume` to go on with this wait elsewhere (see cursor.ts). */
  resumeToken(): string {
    const { id, cursor, core } = this.observation
    const deadline = Number.isFinite(this.deadline) ? this.deadline : undefined
    // Values the server chose, in a token meant to be stored: one echoing the key is left out
    // (the first answer brings another).
    const { etag, eventId } = cursor.state
    const clean = (value: string | undefined) =>
      value !== undefined && core.http.redact(value) === value ? value : undefined
    return encodeToken({
      ...cursor.state,
      id,
      deadline,
      etag: clean(etag),
      eventId: clean(eventId),
    })
  }

  /**
   * Where the job probably is now, between checks (see estimate.ts): never less than this wait
   * last said (a fresh, longer ETA holds the bar where it is until the estimate catches up,
   * instead of moving it back; `etaMs` says the time left as estimated), unless the job
   * completed (1). A job that failed or was canceled holds the bar where it was shown too: it
   * dropped from 0.973 to the server's 0.944 as the job failed.
   */
  estimate(): ProgressEstimate {
    const { cursor, core } = this.observation
    const estimate = estimateProgress(cursor.state, core.clock.now())
    if (estimate.job?.status === 'completed') return estimate
    this.#shownProgress = Math.max(this.#shownProgress, estimate.progress)
    return { ...estimate, progress: this.#shownProgress }
  }

  /**
   * A failed check in opening `opening` of the circuit breaker: counted once an opening, however
   * many checks it fails meanwhile. True when this subscription gives up on it.
   */
  failedOpening(opening: number, error: unknown): boolean {
    if (opening === this.#opening) return false
    this.#opening = opening
    return this.failedCheck(error)
  }

  /** A failed check: true when this subscription gives up on it. */
  failedCheck(error: unknown): boolean {
    if (++this.failures < this.#maxErrors) return false
    this.close()
    this.subscriber.end(error)
    return true
  }
}

/** A request's time limit for a deadline: up to it, and a last look after it. */
export function requestLimitMs(deadline: number, now: number): number | undefined {
  return deadline === Infinity ? undefined : Math.max(LAST_LOOK_MS, deadline - now)
}
