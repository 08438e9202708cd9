/**
 * Per-key rate limiting with a token bucket. Every response says where the caller stands
 * (`RateLimit`, `RateLimit-Policy`, IETF httpapi draft); a refused request gets 429 with
 * `Retry-After`.
 */
import type { Simulator } from '../simulator/simulator.js'
import { TokenBuckets } from '../simulator/token-bucket.js'
import { problem } from './problem.js'
import { setHeader } from './response.js'
import type { Check } from './steps.js'

/** Limits each tenant to the simulator's `rate_limit` settings. */
export function rateLimit({ simulator }: { simulator: Simulator }): Check {
  const buckets = new TokenBuckets()
  return function rateLimit(c) {
    const { capacity, refill_per_s } = simulator.settings.rate_limit
    const taken = buckets.take(c.get('tenant'), simulator.clock.now(), capacity, refill_per_s)
    const headers = {
      'ratelimit-policy': policyOf(capacity, refill_per_s),
      ratelimit: `"default";r=${taken.remaining};t=${taken.resetS}`,
    }
    if (!taken.allowed) {
      return problem(c, {
        status: 429,
        kind: 'rate-limited',
        title: 'Too Many Requests',
        detail: `This key may make ${capacity} requests in a burst and ${refill_per_s} per second after that; retry in ${taken.retryAfterS} s.`,
        headers: { ...headers, 'retry-after': String(taken.retryAfterS) },
      })
    }
    setHeader(c, 'ratelimit-policy', headers['ratelimit-policy'])
    setHeader(c, 'ratelimit', headers.ratelimit)
    return undefined
  }
}

/**
 * The bucket as the draft's one quota `q` per window `w` (whole seconds), never more than it
 * allows, so a client keeping to it is not refused: the refill rate, in the longest window whose
 * quota the burst covers; a refill faster than the burst, as the burst each second (a rate below
 * the refill, as a burst above the bucket would be refused).
 */
export function policyOf(capacity: number, refillPerS: number): string {
  let windowS = Math.max(1, Math.floor(capacity / refillPerS))
  let quota = Math.min(Math.floor(capacity), Math.floor(refillPerS * windowS))
  if (quota < 1) {
    windowS = Math.ceil(1 / refillPerS)
    quota = 1
  }
  return `"default";q=${quota};w=${windowS}`
}
