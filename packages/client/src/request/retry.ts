/**
 * When to retry one request (the loop is `attempts` in core.ts): transient failures (network,
 * timeouts, 408, 429, 5xx, a broken body) are tried again with jittered backoff, honouring
 * `Retry-After`, within a per-request attempt limit and a client-wide token-bucket budget (gRPC
 * retry throttling): when most recent requests fail, retries stop adding load to a struggling
 * server.
 */
import { isApiError, isCircuitOpenError, isVideoTranslationError } from '../errors.js'
import { retryAfterOf } from '../polling/hints.js'
import { tooSlow } from './body.js'
import { notSent } from './key.js'
import { askedDelay } from './rate-limit-headers.js'
import { isWrite } from './write-limit.js'

/** Options of request retries. */
export interface RetryOptions {
  /**
   * Retries of one request after its first attempt that failed (a 429 or 503 with `Retry-After`
   * is waited out without counting here, up to 30 times, unless this is 0).
   * @default 3
   */
  maxRetries?: number | undefined
  /** First backoff delay; doubles per retry, with full jitter. @default 200 */
  initialDelayMs?: number | undefined
  /** Largest backoff delay (a longer `Retry-After` is still honoured). @default 5_000 */
  maxDelayMs?: number | undefined
  /**
   * The longest `Retry-After` waited out inside one call. A longer one fails the call at once
   * with the answer's error (its `headers` say when to come back), instead of a call that sleeps
   * for an hour without a word; a wait's next check then follows its polling strategy, which
   * follows a server's hint up to `polling.maxHintMs`.
   * @default 60_000
   */
  maxRetryAfterMs?: number | undefined
  /**
   * The retry budget: each retry spends a token, each success earns `tokenRatio`; retries stop
   * while fewer than half of `maxTokens` are left. So retries stay below about a fifth of the
   * requests that succeed (Finagle's default share): a flaky server gets them, a broken one does
   * not. `false` turns the budget off.
   * @default { maxTokens: 100, tokenRatio: 0.2 }
   */
  budget?: { maxTokens?: number | undefined; tokenRatio?: number | undefined } | false | undefined
}

/** `RetryOptions` but the budget, every one set (options.ts resolves them). */
export type RetrySettings = { [K in Exclude<keyof RetryOptions, 'budget'>]-?: number }

/** The retry budget's settings, every one set. */
export type BudgetSettings = { maxTokens: number; tokenRatio: number }

/** A client-wide retry budget. */
export class RetryBudget {
  #tokens: number
  readonly #max: number
  readonly #ratio: number

  /** `false`: no budget, every retry allowed. */
  constructor(settings: BudgetSettings | false) {
    this.#max = settings === false ? Infinity : settings.maxTokens
    this.#ratio = settings === false ? 0 : settings.tokenRatio
    this.#tokens = this.#max
  }

  /** Records a failure; true when a retry is allowed. */
  spend(): boolean {
    if (this.#max === Infinity) return true
    this.#tokens = Math.max(0, this.#tokens - 1)
    return this.#tokens > this.#max / 2
  }

  /** Records a success. */
  earn(): void {
    this.#tokens = Math.min(this.#max, this.#tokens + this.#ratio)
  }
}

/** What a retry decision needs from the client. */
export interface RetryContext {
  budget: RetryBudget
  retry: RetrySettings
  random: () => number
  /** Reads an HTTP-date `Retry-After` against the client's clock. */
  clock: { now(): number }
  /** The client's pacer, when it paces: whether a bare 429 is a limit it learns. */
  pacer?: { learns(now: number, write: boolean): boolean } | undefined
}

/** Whether an error is worth another try of the same request. */
export function isTransient(error: unknown): boolean {
  return isVideoTranslationError(error) && error.retryable
}

/** Statuses whose `Retry-After` paces the client: 429, 503, and 425 Too Early. */
const PACING_STATUSES = new Set([425, 429, 503])

/**
 * How long a 429, 503 or 425 that says when to come back asks to wait, in ms from `now`: the
 * server pacing its clients rather than failing. Such an answer spends no retry budget and never
 * trips the circuit breaker. A 429 says it with `Retry-After` or with its limit's reset; one that
 * says neither (a quota used up, say) is a failure like any other. Undefined for any other error.
 */
export function pacedDelay(error: unknown, now: number): number | undefined {
  if (!isApiError(error) || !PACING_STATUSES.has(error.status)) return undefined
  return askedDelay(error.status, error.headers, now)
}

/**
 * At most this many retries of one request that the server paced (429 or 503 with `Retry-After`),
 * unless it has a time of its own to retry until (`createAndWait`'s create: its wait's deadline).
 */
export const MAX_PACED_RETRIES = 30

/**
 * How long a request without a time of its own (see MAX_PACED_RETRIES) is refused before it
 * fails (5 min): many clients sharing a limit may each wait that long for a turn, but a server
 * that refuses everything (a quota used up) is not asked for ever.
 */
export const PACED_FOR_MS = 300_000

/** A decision to retry: after how long, and whether the server paced it. */
export interface Retry {
  delayMs: number
  /** A 429 or 503 with `Retry-After`: the server pacing its clients, not failing. */
  paced: boolean
}

/**
 * How long to wait before retrying a request that failed with `error`, after `failures` unpaced
 * and `paced` paced retries: jittered exponential backoff, or the server's `Retry-After` when
 * longer. `undefined` when it must not be retried: the failure is not transient, the circuit is
 * open, the request's retries are used up or the budget is spent. A paced failure counts against
 * neither `maxRetries` nor the budget (which is there to stop retries piling onto a server that
 * is breaking), only against MAX_PACED_RETRIES, unless `until` is a time to retry until.
 */
export function retryDelay(
  context: RetryContext,
  failures: number,
  paced: number,
  error: unknown,
  until?: number,
): Retry | undefined {
  // An open circuit stays open for a while: retrying now would only spend the budget. A body
  // too slow for its link would be as slow again (body.ts).
  if (!isTransient(error) || isCircuitOpenError(error) || tooSlow.has(error as object)) {
    return undefined
  }
  const { maxRetries, initialDelayMs, maxDelayMs, maxRetryAfterMs } = context.retry
  // `retry: false` (no retries at all) sends each request once, paced or not.
  if (maxRetries <= 0) return undefined
  const now = context.clock.now()
  // A 429 that says nothing of when, from a server stating no limit while it answers other
  // requests, or from a proxy's limit in front of the one stated: a rate limit, which the
  // pacer learns and spaces requests to (a quota used up refuses them all, a stated limit is
  // paced already: a failure).
  const bare =
    isApiError(error) &&
    error.status === 429 &&
    context.pacer?.learns(now, isWrite(error.request)) === true
  const pacedMs = pacedDelay(error, now)
  const hinted = pacedMs ?? (isApiError(error) ? retryAfterOf(error.headers, now) : undefined)
  if (hinted !== undefined && hinted > maxRetryAfterMs) return undefined
  if (pacedMs !== undefined) {
    if (paced >= MAX_PACED_RETRIES && !Number.isFinite(until)) return undefined
    // A `Retry-After: 0` (or a date already past) still backs off: never a burst of retries.
    const backoff = context.random() * Math.min(maxDelayMs, initialDelayMs * 2 ** paced)
    return { delayMs: Math.max(pacedMs, backoff), paced: true }
  }
  // A bare 429 the pacer learns from is the server pacing, not failing: within `maxRetries`,
  // spaced by the pacer, without spending the budget.
  // Nor one never sent (the key's function failed): the budget guards the server.
  const free = bare || notSent.has(error as object)
  if (failures >= maxRetries || (!free && !context.budget.spend())) return undefined
  const backoff = context.random() * Math.min(maxDelayMs, initialDelayMs * 2 ** failures)
  return { delayMs: Math.max(backoff, hinted ?? 0), paced: false }
}
