import { describe, expect, it } from 'vitest'
import { TokenBuckets } from './token-bucket.js'

describe('TokenBuckets', () => {
  it('should allow a burst of its capacity, then refuse with the wait for a token', () => {
    const buckets = new TokenBuckets()
    for (let i = 0; i < 10; i++) expect(buckets.take('k', 0, 10, 5).allowed).toBe(true)
    const refused = buckets.take('k', 0, 10, 5)
    expect(refused).toMatchObject({ allowed: false, remaining: 0, retryAfterS: 1 })
    expect(buckets.take('k', 200, 10, 5).allowed).toBe(true)
  })

  it('should not refuse a client keeping exactly to the refill rate at uneven times', () => {
    // A burst of 100, then requests each when its token is due at 50 a second, at the uneven
    // times a paced client sends them: the sum of the refills drifts below whole tokens.
    const sent: [number, number][] = [
      [0, 100],
      [25, 1],
      [60, 2],
      [95, 1],
      [109, 1],
      [127, 1],
      [154, 1],
      [180, 2],
      [219, 1],
      [234, 1],
      [259, 1],
      [277, 1],
      [299, 1],
      [303, 1],
      [321, 1],
      [358, 1],
      [366, 1],
      [398, 1],
      [411, 1],
      [439, 1],
      [455, 1],
      [464, 1],
      [494, 1],
      [519, 1],
      [523, 1],
      [560, 2],
    ]
    const buckets = new TokenBuckets()
    const refused = sent.flatMap(([at, count]) =>
      Array.from({ length: count }, () => buckets.take('k', at, 100, 50)).filter((t) => !t.allowed),
    )
    expect(refused).toEqual([])
    expect(buckets.take('k', 560, 100, 50).allowed).toBe(false)
  })
})
