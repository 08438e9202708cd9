/**
 * Polling strategies: values behind one small interface that, given the attempt, the time
 * elapsed, the last Job and the server's hints, return the next delay. The built-ins (fixed,
 * exponential backoff with jitter, hint-aware) are such values; users and benchmarks can pass
 * their own, e.g. another SDK's published schedule, and compare on equal terms.
 */
import { DEFAULTS, withDefaults } from '../defaults.js'
import type { Job } from '../types.js'
import { checkNumber } from '../validate.js'
import type { ServerHints } from './hints.js'

/** What a strategy knows when it picks the next delay. */
export interface PollContext {
  /** Status checks made so far (1 after the first). */
  attempt: number
  /** Delays this wait has already taken (0 when choosing the first). */
  delays: number
  /** Milliseconds since the wait began. */
  elapsedMs: number
  /**
   * The job's age in ms, as well as the client can tell: from its own create, or from the
   * `created_at` and `updated_at` of the last answer (server times, so clock skew does not
   * matter); undefined until known.
   */
  ageMs: number | undefined
  /** The job as last seen (undefined until a status check succeeds, and for the legacy API). */
  job: Job | undefined
  /** The server's hints from the last response. */
  hints: ServerHints
  /** The delay this strategy returned last time (decorrelated jitter grows from it). */
  previousDelayMs: number | undefined
  /** Uniform random numbers in [0, 1); injectable for reproducible tests. */
  random: () => number
  /** How long the caller expects the job to take from its creation, in ms (`expectedMs`). */
  expectedMs?: number | undefined
}

/** Picks the delay before the next status check. */
export interface PollingStrategy {
  /** The next delay in milliseconds. */
  nextDelay(context: PollContext): number
  /**
   * Optional: sees every answer of a wait (the job and its age then, terminal ones included), so
   * a strategy can learn how long jobs take. Returns `'replan'` when what it learned moved so far
   * that the checks it placed before are misplaced (the adaptive strategy, once it tells that
   * jobs changed): every job polled with it is asked its next delay again, and checked sooner
   * if that says so. Anything else it returns is ignored (a `push` or a `delete`'s `true`).
   */
  observe?(job: Job, ageMs: number | undefined): unknown
}

/** How backoff delays are randomised (AWS's terms); jitter stays on once the cap is reached. */
export type Jitter = 'full' | 'equal' | 'decorrelated' | 'none'
const JITTERS: readonly Jitter[] = ['full', 'equal', 'decorrelated', 'none']

/** Options of `exponentialBackoff`. */
export interface BackoffOptions {
  /** The first delay; the n-th (from 0) is `initialIntervalMs * multiplier ** n`, capped. @default 500 */
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
  /** The longest delay the client chooses by itself. @default 30_000 */
  maxIntervalMs?: number | undefined
  /**
   * The longest server hint followed: a `Retry-After` above `maxIntervalMs` is the server asking
   * for fewer requests, so it wins up to this.
   * @default 300_000
   */
  maxHintMs?: number | undefined
}

/**
 * Every poll after the same delay.
 * @example client.jobs.wait(id, { polling: fixedInterval(2_000) })
 */
export function fixedInterval(ms: number): PollingStrategy {
  // At least 1 ms: 0 would check back to back.
  checkNumber('fixedInterval', ms, { min: 1 })
  return { nextDelay: () => ms }
}

/** The numbers any polling options may hold (adaptive, backoff and hint bounds). */
type PollingNumbers = Partial<
  Record<
    | 'requestCostMs'
    | 'minIntervalMs'
    | 'maxIntervalMs'
    | 'maxHintMs'
    | 'initialIntervalMs'
    | 'multiplier',
    number | undefined
  >
>

/**
 * Checks the numbers of polling options where they are given (a strategy's factory, or
 * `createClient`'s `polling`, named with `prefix`): `NaN` would poll in a loop.
 */
export function checkPollingOptions(options: PollingNumbers, prefix = ''): void {
  checkNumber(`${prefix}requestCostMs`, options.requestCostMs, { min: Number.MIN_VALUE })
  checkNumber(`${prefix}minIntervalMs`, options.minIntervalMs, { min: 1 })
  checkNumber(`${prefix}maxIntervalMs`, options.maxIntervalMs, { min: 1 })
  checkNumber(`${prefix}maxHintMs`, options.maxHintMs)
  checkNumber(`${prefix}initialIntervalMs`, options.initialIntervalMs, { min: 1 })
  checkNumber(`${prefix}multiplier`, options.multiplier, { min: 1, max: 100 })
  const { minIntervalMs: min, maxIntervalMs: max } = options
  if (min !== undefined && max !== undefined && min > max) {
    throw new TypeError(
      `${prefix}minIntervalMs must not exceed ${prefix}maxIntervalMs (got ${min} and ${max}).`,
    )
  }
}

/**
 * The floor of polling options: the one given, else the default, lowered to a ceiling given
 * below it (asked to check at least that often). A floor given above the ceiling's default
 * stays: the floor wins over the ceiling (never faster than `minIntervalMs`).
 */
export function floorOf(
  given: { minIntervalMs?: number | undefined },
  resolved: { minIntervalMs: number; maxIntervalMs: number },
): number {
  return given.minIntervalMs ?? Math.min(resolved.minIntervalMs, resolved.maxIntervalMs)
}

/**
 * Exponential backoff, capped, with jitter so that many clients do not poll in step.
 * @example exponentialBackoff({ initialIntervalMs: 1_000, jitter: 'equal' })
 */
export function exponentialBackoff(options: BackoffOptions = {}): PollingStrategy {
  checkPollingOptions(options)
  const { initialIntervalMs, multiplier, maxIntervalMs, jitter } = withDefaults(
    DEFAULTS.backoff,
    options,
  )
  if (!JITTERS.includes(jitter)) {
    const got = JSON.stringify(jitter) ?? String(jitter)
    throw new TypeError(`jitter must be one of ${JITTERS.join(', ')} (got ${got}).`)
  }
  return {
    nextDelay({ delays, previousDelayMs, random }) {
      const base = Math.min(maxIntervalMs, initialIntervalMs * multiplier ** delays)
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
 * `eta_ms`), else `fallback`. Every delay is at least `minIntervalMs`; the client's own choices
 * (`eta_ms`, the fallback) are at most `maxIntervalMs`, a `Retry-After` at most `maxHintMs`.
 */
export function hintAware(
  fallback: PollingStrategy = exponentialBackoff(),
  options: HintOptions = {},
): PollingStrategy {
  checkPollingOptions(options)
  const resolved = withDefaults(
    { ...DEFAULTS.polling, maxIntervalMs: DEFAULTS.backoff.maxIntervalMs },
    options,
  )
  const { maxIntervalMs, maxHintMs } = resolved
  const minIntervalMs = floorOf(options, resolved)
  return {
    nextDelay(context) {
      const { retryAfterMs, etaMs } = context.hints
      const delay =
        retryAfterMs !== undefined && etaMs !== undefined
          ? refine(retryAfterMs, etaMs)
          : (retryAfterMs ?? etaMs ?? fallback.nextDelay(context))
      const ceiling =
        retryAfterMs === undefined ? maxIntervalMs : Math.max(maxIntervalMs, maxHintMs)
      // The floor wins over the ceiling: never faster than `minIntervalMs`.
      return Math.max(minIntervalMs, Math.min(ceiling, delay))
    },
    ...(fallback.observe && { observe: fallback.observe.bind(fallback) }),
  }
}
