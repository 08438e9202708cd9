/**
 * Polling strategies: values behind one small interface that, given the attempt, the time
 * elapsed, the last Job and the server's hints, return the next delay. The built-ins (fixed,
 * exponential backoff with jitter, hint-aware) are such values; users and benchmarks can pass
 * their own, e.g. another SDK's published schedule, and compare on equal terms.
 */
import type { Job } from '../types.js'
import type { ServerHints } from './hints.js'

/** What a strategy knows when it picks the next delay. */
export interface PollContext {
  /** Status checks made so far (1 after the first). */
  attempt: number
  /** Milliseconds since the wait began. */
  elapsedMs: number
  /** The job as last seen (undefined until a status check succeeds, and for the legacy API). */
  job: Job | undefined
  /** The server's hints from the last response. */
  hints: ServerHints
  /** The delay this strategy returned last time (decorrelated jitter grows from it). */
  previousDelayMs: number | undefined
  /** Uniform random numbers in [0, 1); injectable for reproducible tests. */
  random: () => number
}

/** Picks the delay before the next status check. */
export interface PollingStrategy {
  /** The next delay in milliseconds. */
  nextDelay(context: PollContext): number
}

/** How backoff delays are randomised (AWS's terms); jitter stays on once the cap is reached. */
export type Jitter = 'full' | 'equal' | 'decorrelated' | 'none'

/** Options of `exponentialBackoff`. */
export interface BackoffOptions {
  /** @default 500 */
  initialIntervalMs?: number | undefined
  /** @default 2 */
  multiplier?: number | undefined
  /** @default 30_000 */
  maxIntervalMs?: number | undefined
  /** @default 'full' */
  jitter?: Jitter | undefined
}

/** Options of `hintAware`: the bounds every delay is clamped to. */
export interface HintOptions {
  /** @default 100 */
  minIntervalMs?: number | undefined
  /** @default 30_000 */
  maxIntervalMs?: number | undefined
}

/**
 * Every poll after the same delay.
 * @example client.jobs.wait(id, { polling: fixedInterval(2_000) })
 */
export function fixedInterval(ms: number): PollingStrategy {
  return { nextDelay: () => ms }
}

/**
 * Exponential backoff, capped, with jitter so that many clients do not poll in step.
 * @example exponentialBackoff({ initialIntervalMs: 1_000, jitter: 'equal' })
 */
export function exponentialBackoff(options: BackoffOptions = {}): PollingStrategy {
  const {
    initialIntervalMs = 500,
    multiplier = 2,
    maxIntervalMs = 30_000,
    jitter = 'full',
  } = options
  return {
    nextDelay({ attempt, previousDelayMs, random }) {
      const base = Math.min(
        maxIntervalMs,
        initialIntervalMs * multiplier ** Math.max(0, attempt - 1),
      )
      switch (jitter) {
        case 'none':
          return base
        case 'full':
          return random() * base
        case 'equal':
          return base / 2 + (random() * base) / 2
        case 'decorrelated': {
          // Drawn below the cap rather than capped after: AWS's min(cap, …) sticks at the cap.
          const grown = Math.max(initialIntervalMs, (previousDelayMs ?? initialIntervalMs) * 3)
          const upper = Math.min(maxIntervalMs, grown)
          return initialIntervalMs + random() * (upper - initialIntervalMs)
        }
      }
    },
  }
}

/**
 * `Retry-After` comes in whole seconds, rounded up; an ETA in the same second says more exactly
 * when to look. Anything further off, `Retry-After` (the server's instruction) wins.
 */
function refine(retryAfterMs: number, etaMs: number): number {
  return etaMs < retryAfterMs && etaMs > retryAfterMs - 1_000 ? etaMs : retryAfterMs
}

/**
 * The server's hint when there is one (`Retry-After`, refined by `eta_ms` within its second; else
 * `eta_ms`), else `fallback`; every delay clamped to `[minIntervalMs, maxIntervalMs]`. The
 * default strategy.
 */
export function hintAware(
  fallback: PollingStrategy = exponentialBackoff(),
  options: HintOptions = {},
): PollingStrategy {
  const { minIntervalMs = 100, maxIntervalMs = 30_000 } = options
  return {
    nextDelay(context) {
      const { retryAfterMs, etaMs } = context.hints
      const delay =
        retryAfterMs !== undefined && etaMs !== undefined
          ? refine(retryAfterMs, etaMs)
          : (retryAfterMs ?? etaMs ?? fallback.nextDelay(context))
      return Math.min(maxIntervalMs, Math.max(minIntervalMs, delay))
    },
  }
}
