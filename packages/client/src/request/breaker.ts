/**
 * A consecutive-failure circuit breaker. After `failureThreshold` transient failures in a row it
 * opens: calls fail fast with `CircuitOpenError` for `resetTimeoutMs`; then one probe goes
 * through (half-open) while others still fail fast; its success closes the circuit, its failure
 * opens it again for twice as long (up to `maxResetTimeoutMs`): a blip of a few seconds is over
 * a few seconds after it ends, and a server that stays down is asked less and less. Client errors
 * (4xx other than 408/429) and answers that pace the client (429 or 503 with `Retry-After`) say
 * nothing against the server's health and never trip it. Nor does the failure of a request sent
 * before one that succeeded: many requests in flight at once (some stalled on a bad connection,
 * say, while the others are answered) are judged by the newest news of the server, so only
 * failures that no later success contradicts count as in a row. And requests out together that
 * fail together are one failure: after the app blocked its event loop for longer than the
 * server keeps idle connections, the requests due meanwhile went out together on connections
 * the server had closed, and their eight "other side closed" opened the circuit against a
 * healthy server.
 */
import type { Clock } from '../clock.js'
import { CircuitOpenError, isApiError } from '../errors.js'
import { isTransient, pacedDelay } from './retry.js'

/** Failures this close together of requests out at once are one. */
const TOGETHER_MS = 100

/** Options of the circuit breaker. */
export interface CircuitBreakerOptions {
  /** Transient failures in a row that open the circuit. @default 5 */
  failureThreshold?: number | undefined
  /** How long the circuit stays open before its first probe. @default 5_000 */
  resetTimeoutMs?: number | undefined
  /** The longest it stays open: each failed probe doubles the time, up to this. @default 60_000 */
  maxResetTimeoutMs?: number | undefined
}

/** `CircuitBreakerOptions`, every one set (options.ts resolves them). */
export type CircuitBreakerSettings = { [K in keyof CircuitBreakerOptions]-?: number }

/** The breaker's state. */
export type CircuitState =
  | { state: 'closed'; failures: number }
  /**
   * `opening`: which opening this is (1 for the first); told again, with the same number, when a
   * probe ends without a verdict and the same opening goes on.
   */
  | { state: 'open'; openedAt: number; opening: number }
  | { state: 'half-open' }

/** Fails fast while the server looks down. */
export class CircuitBreaker {
  #state: CircuitState = { state: 'closed', failures: 0 }
  readonly #threshold: number
  readonly #firstOpenMs: number
  readonly #maxOpenMs: number
  /** How long the current (or last) opening lasts. */
  #openMs: number
  readonly #clock: Clock
  readonly #onChange: (state: CircuitState) => void
  /** The failure that opened the circuit last: the cause of its refusals. */
  #lastFailure: unknown
  /** How many times the circuit has opened (from closed or half-open): its openings' numbers. */
  #openings = 0
  /** When the last early probe went. */
  #earlyAt = Number.NEGATIVE_INFINITY
  /** The opening an early probe is out in: put back as it was if the probe fails. */
  #interrupted: (CircuitState & { state: 'open' }) | undefined
  /** When the newest request that succeeded was sent: a failure of one sent before is old news. */
  #healthyAt = Number.NEGATIVE_INFINITY
  /** When the last failure counted came. */
  #failedAt = Number.NEGATIVE_INFINITY

  constructor(
    settings: CircuitBreakerSettings,
    clock: Clock,
    onChange: (state: CircuitState) => void,
  ) {
    this.#threshold = settings.failureThreshold
    this.#firstOpenMs = settings.resetTimeoutMs
    this.#maxOpenMs = Math.max(this.#firstOpenMs, settings.maxResetTimeoutMs)
    this.#openMs = this.#firstOpenMs
    this.#clock = clock
    this.#onChange = onChange
  }

  /** The current state. */
  get state(): CircuitState {
    return this.#state
  }

  /** The number of the circuit's latest opening (0 before the first). */
  get openings(): number {
    return this.#openings
  }

  /**
   * Lets a call through, or throws `CircuitOpenError`; true when the call is the half-open probe.
   * Each call it lets through must be reported to `succeeded`, `failed` or `released`. A call
   * that may not probe (`mayProbe` false: a held request, whose verdict could be half a minute
   * away while every other call is refused) is refused when the probe is due, with no time to
   * wait: a plain call probes. An `early` call (a wait's last look at its deadline: the job may
   * have ended, the server may be back) probes at once, before the opening is over, at most once
   * every `resetTimeoutMs`; its failure leaves the opening as it was.
   */
  admit(mayProbe = true, early = false): boolean {
    const current = this.#state
    if (current.state === 'open') {
      const retryAt = current.openedAt + this.#openMs
      const now = this.#clock.now()
      // Early at most once every `resetTimeoutMs`: a server just found down is not asked again
      // by every wait whose deadline comes meanwhile.
      const earlyNow = early && now - this.#earlyAt >= this.#firstOpenMs
      if ((now < retryAt && !earlyNow) || !mayProbe) {
        throw new CircuitOpenError(Math.max(0, retryAt - now), this.#lastFailure, this.#openings)
      }
      // Probing before its time: a failure (or a release) puts the opening back as it was.
      this.#interrupted = now < retryAt ? current : undefined
      if (this.#interrupted) this.#earlyAt = now
      this.#set({ state: 'half-open' })
      return true
    }
    // Half-open: the one probe is in flight; everyone else waits for its verdict.
    if (current.state === 'half-open') {
      throw new CircuitOpenError(0, this.#lastFailure, this.#openings)
    }
    return false
  }

  /** A call that was let through (and sent at `sentAt`) succeeded: the circuit closes. */
  succeeded(sentAt = this.#clock.now()): void {
    this.#interrupted = undefined
    this.#healthyAt = Math.max(this.#healthyAt, sentAt)
    if (this.#state.state !== 'closed' || this.#state.failures > 0)
      this.#set({ state: 'closed', failures: 0 })
  }

  /**
   * A call that was let through (sent at `sentAt`) failed; `probe` is what `admit` said of it;
   * one sent before the newest call that succeeded was sent says nothing new. A 429 (too many
   * requests, whatever it says of when), a 425 or a 503 with `Retry-After` is the server up and pacing
   * its clients: like a client error, it says nothing against the server's health (and a probe
   * so answered closes the circuit).
   */
  failed(error: unknown, probe: boolean, sentAt = this.#clock.now()): void {
    // Sent before a request that succeeded: the server was answering after it was sent.
    if (!probe && sentAt < this.#healthyAt) return
    // (A 425 Too Early too: the server up, asking for the request later.)
    const pacing = isApiError(error) && (error.status === 429 || error.status === 425)
    if (isTransient(error) && !pacing && pacedDelay(error, this.#clock.now()) === undefined) {
      // Closed, a failure counts, once for requests sent together; otherwise only the probe's is
      // the verdict: a call let through before the circuit opened, failing late, leaves the
      // opening (and its length) as it is.
      const now = this.#clock.now()
      const together = sentAt < this.#failedAt && now - this.#failedAt < TOGETHER_MS
      if (probe || (this.#state.state === 'closed' && !together)) {
        this.#failedAt = now
        this.#fail(error)
      } else this.#lastFailure = error
    } else if (probe) this.#set({ state: 'closed', failures: 0 })
  }

  /**
   * A call let through that says nothing of the server's health either way (a held request cut
   * on the way, a call its caller aborted): the circuit stays as it was, and a probe so ended
   * lets the next call probe.
   */
  released(probe: boolean): void {
    // The same opening goes on, with a probe due at once (unless another call closed it meanwhile).
    if (probe && this.#state.state === 'half-open') {
      const dueNow = this.#clock.now() - this.#openMs
      this.#reopen(
        this.#interrupted ?? { state: 'open', openedAt: dueNow, opening: this.#openings },
      )
    }
  }

  #fail(error: unknown): void {
    this.#lastFailure = error
    const current = this.#state
    if (current.state === 'half-open' && this.#interrupted) {
      // An early probe failed: the opening goes on as it was, neither longer nor restarted.
      this.#reopen(this.#interrupted)
      return
    }
    this.#interrupted = undefined
    if (current.state === 'closed' && current.failures + 1 < this.#threshold) {
      this.#state = { state: 'closed', failures: current.failures + 1 }
      return
    }
    // From closed, the first length; a failed probe, twice the last.
    this.#openMs =
      current.state === 'half-open'
        ? Math.min(this.#maxOpenMs, this.#openMs * 2)
        : this.#firstOpenMs
    this.#openings++
    this.#set({ state: 'open', openedAt: this.#clock.now(), opening: this.#openings })
  }

  /** Back to an opening a probe interrupted: told as open again, but not a new opening. */
  #reopen(opening: CircuitState & { state: 'open' }): void {
    this.#interrupted = undefined
    this.#state = opening
    this.#onChange(opening)
  }

  #set(next: CircuitState): void {
    const changed = next.state !== this.#state.state
    this.#state = next
    if (changed) this.#onChange(next)
  }
}
