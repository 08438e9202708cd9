/**
 * Per-key token buckets for rate limiting: each request takes a token, tokens refill at a steady
 * rate up to the capacity, so bursts are allowed and sustained floods are not.
 */

/** The outcome of taking a token. */
export interface TakeResult {
  allowed: boolean
  /** Whole tokens left after this request. */
  remaining: number
  /** Seconds until a token is available (0 when allowed). */
  retryAfterS: number
  /** Seconds until the bucket is full again. */
  resetS: number
}

interface Bucket {
  tokens: number
  at: number
  /** The limit it was filled under: another (a `PUT /v1/simulation`) starts it over, full. */
  capacity: number
  refillPerS: number
}

/** Less than any refill between two requests a millisecond apart, more than float drift. */
const ROUNDING = 1e-9

/** Token buckets by key. Keys are API keys, so their number is bounded by the configuration. */
export class TokenBuckets {
  readonly #buckets = new Map<string, Bucket>()

  /** Takes a token from `key`'s bucket at `now`. */
  take(key: string, now: number, capacity: number, refillPerS: number): TakeResult {
    const kept = this.#buckets.get(key)
    const bucket =
      kept?.capacity === capacity && kept.refillPerS === refillPerS
        ? kept
        : { tokens: capacity, at: now, capacity, refillPerS }
    const refilled = Math.min(capacity, bucket.tokens + ((now - bucket.at) / 1000) * refillPerS)
    // Within rounding of a whole token, one: the sum of many refills drifts below the exact
    // figure (a client keeping exactly to the stated rate was refused at 0.9999999999999993).
    const allowed = refilled >= 1 - ROUNDING
    const tokens = allowed ? refilled - 1 : refilled
    this.#buckets.set(key, { tokens, at: now, capacity, refillPerS })
    return {
      allowed,
      remaining: Math.max(0, Math.floor(tokens + ROUNDING)),
      retryAfterS: allowed ? 0 : Math.ceil((1 - tokens) / refillPerS),
      resetS: Math.ceil((capacity - tokens) / refillPerS),
    }
  }
}
