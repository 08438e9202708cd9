/**
 * Every default of the client, in one place. `createClient` resolves its options against these
 * once (options.ts); the strategies' factories, usable on their own, resolve theirs here too;
 * a wait's limits are read per call. The README's tables and the options' JSDoc quote them.
 */
import type { Jitter } from './polling/strategy.js'

export const DEFAULTS = {
  /** One request's time limit. */
  requestTimeoutMs: 10_000,
  /** How a wait for one job learns of its changes. */
  transport: 'auto' as const,
  /** Retries of one failed request. */
  retry: { maxRetries: 3, initialDelayMs: 200, maxDelayMs: 5_000, maxRetryAfterMs: 60_000 },
  /** The client-wide retry budget. */
  retryBudget: { maxTokens: 100, tokenRatio: 0.2 },
  circuitBreaker: { failureThreshold: 5, resetTimeoutMs: 5_000, maxResetTimeoutMs: 60_000 },
  /**
   * What every polling strategy keeps: the shortest delay, the longest server hint followed,
   * and whether it reads `eta_ms`.
   */
  polling: { minIntervalMs: 100, maxHintMs: 300_000, useServerHints: true },
  /** `adaptivePolling`: the price of a request in ms of lateness, the longest delay it chooses. */
  adaptive: { requestCostMs: 300, maxIntervalMs: 120_000 },
  /** `exponentialBackoff` (and the longest delay `hintAware` chooses by itself). */
  backoff: {
    initialIntervalMs: 500,
    multiplier: 2,
    maxIntervalMs: 30_000,
    jitter: 'full' as Jitter,
  },
  /** A wait's failed checks in a row before it gives up. */
  maxConsecutiveErrors: 10,
  /** `createBatch`'s creates in flight at once. */
  batchConcurrency: 8,
  /**
   * Without a `logger`: a callback of yours that threw (a listener, `onProgress`) is said on the
   * console, as a browser says a throwing event listener; nothing else is logged.
   */
  logger: {
    error: (message: string, data?: Record<string, unknown>) =>
      console.error(`@video-translation/client: ${message}`, data?.error ?? ''),
  },
}

/** `given` over `defaults`, skipping what `given` leaves undefined. */
export function withDefaults<T extends object>(
  defaults: T,
  given: { [K in keyof T]?: T[K] | undefined } | undefined,
): T {
  const resolved = { ...defaults }
  for (const key in given) {
    const value = given[key]
    if (value !== undefined) resolved[key] = value as T[typeof key]
  }
  return resolved
}
