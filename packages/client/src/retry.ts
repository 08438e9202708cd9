/**
 * Retrying one request: transient failures (network, timeouts, 408, 429, 5xx, a broken body) are
 * tried again with jittered backoff, honouring `Retry-After`, within a per-request attempt limit
 * and a client-wide token-bucket budget (gRPC retry throttling): when most recent requests fail,
 * retries stop adding load to a struggling server.
 */
import type { Clock } from './clock.js'
import { isApiError, isCircuitOpenError, isVideoTranslationError } from './errors.js'
import { retryAfterOf } from './polling/hints.js'

/** Options of request retries. */
export interface RetryOptions {
  /**
   * Retries of one request after its first attempt.
   * @default 3
   */
  maxRetries?: number
  /** First backoff delay; doubles per retry, with full jitter. @default 200 */
  initialDelayMs?: number
  /** Largest backoff delay (a longer `Retry-After` is still honoured). @default 5_000 */
  maxDelayMs?: number
  /**
   * The retry budget: each retry spends a token, each success earns `tokenRatio`; retries stop
   * while fewer than half of `maxTokens` are left. `false` turns the budget off.
   * @default { maxTokens: 10, tokenRatio: 0.1 }
   */
  budget?: { maxTokens?: number; tokenRatio?: number } | false
}

/** A client-wide retry budget. */
export class RetryBudget {
  #tokens: number
  readonly #max: number
  readonly #ratio: number

  constructor(options: { maxTokens?: number; tokenRatio?: number } | false = {}) {
    this.#max = options === false ? Infinity : (options.maxTokens ?? 10)
    this.#ratio = options === false ? 0 : (options.tokenRatio ?? 0.1)
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

/** What `withRetries` needs from the client. */
export interface RetryContext {
  clock: Clock
  budget: RetryBudget
  options: RetryOptions
  random: () => number
  /** Called before each retry. */
  onRetry(attempt: number, delayMs: number, error: unknown): void
}

/** Whether an error is worth another try of the same request. */
export function isTransient(error: unknown): boolean {
  return isVideoTranslationError(error) && error.retryable
}

/**
 * Runs `attempt` until it succeeds, fails for good, or the retries, the budget or the time run
 * out: a retry that would start after `deadline` (on the context's clock) is not made.
 */
export async function withRetries<T>(
  context: RetryContext,
  attempt: () => Promise<T>,
  signal?: AbortSignal,
  deadline = Infinity,
): Promise<T> {
  const { clock, budget, options, random } = context
  const { maxRetries = 3, initialDelayMs = 200, maxDelayMs = 5_000 } = options
  for (let retry = 0; ; retry++) {
    try {
      const result = await attempt()
      budget.earn()
      return result
    } catch (error) {
      signal?.throwIfAborted()
      // An open circuit stays open for a while: retrying now would only spend the budget.
      const allowed = isTransient(error) && !isCircuitOpenError(error) && budget.spend()
      if (!allowed || retry >= maxRetries) throw error
      const backoff = random() * Math.min(maxDelayMs, initialDelayMs * 2 ** retry)
      const hinted = isApiError(error) ? retryAfterOf(error.headers) : undefined
      const delay = Math.max(backoff, hinted ?? 0)
      if (clock.now() + delay >= deadline) throw error
      context.onRetry(retry + 1, delay, error)
      await clock.sleep(delay, signal)
    }
  }
}
