import { describe, expect, it } from 'vitest'
import { RateShare } from './share.js'

/** Requests a second, from requests a ms. */
const perS = (perMs: number | undefined) => (perMs ?? Number.NaN) * 1_000

describe('a limit learned from refusals', () => {
  /** A share whose client was answered `answered` times in the second before `now`. */
  function answeredAt(now: number, answered: number): RateShare {
    const share = new RateShare()
    for (let i = 0; i < answered; i++) share.count(now - 500)
    return share
  }

  it('should start at half the rate answered, and be back at it 8 s after, faster past it', () => {
    const share = answeredAt(10_000, 10)
    expect(perS(share.learn(1, 1, 10_000))).toBe(5)
    expect(perS(share.raised(2, 14_000, 0.005, true))).toBeCloseTo(9.4, 1)
    expect(perS(share.raised(3, 18_000, 0.005, true))).toBeCloseTo(10, 5)
    expect(perS(share.raised(4, 26_000, 0.005, true))).toBeCloseTo(15, 5)
  })

  it('should rise back to less when refused again before it was back', () => {
    const share = answeredAt(10_000, 10)
    share.learn(1, 1, 10_000)
    // Refused again at 8 a second (others take some): halved, and back to 6 (3/4 of 8) in
    // 7 s, then past it by at least half a request a second each second.
    expect(perS(share.learn(2, 2, 12_000, 0.008))).toBe(4)
    expect(perS(share.raised(3, 19_000, 0.004, true))).toBeLessThan(6.01)
    expect(perS(share.raised(4, 19_000, 0.004, true))).toBeGreaterThan(5.9)
    expect(perS(share.raised(5, 23_000, 0.004, true))).toBeCloseTo(8, 1)
  })

  it('should start from a request every 5 s where no answer came lately', () => {
    // Answers a minute old say nothing of the rate now; none at all say nothing either.
    for (const share of [answeredAt(-50_000, 10), new RateShare()]) {
      const first = share.learn(1, 1, 10_000)
      expect(perS(first)).toBe(0.2)
      const later = share.raised(2, 20_000, first as number, true)
      expect(Number.isFinite(later)).toBe(true)
      expect(perS(later)).toBeGreaterThanOrEqual(0.2)
    }
  })

  it('should keep to a request every Retry-After at least, for 8 s, when that is faster', () => {
    // One answer in the last second (a small client) and a refusal saying to come back in 1 s:
    // a request a second, not half a request; refused so again, not a quarter.
    const share = answeredAt(10_000, 1)
    expect(perS(share.learn(1, 1, 10_000, undefined, 1_000))).toBe(1)
    expect(perS(share.learn(2, 2, 11_000, 0.001, 1_000))).toBe(1)
    // Kept there, not above (a quota of a request a second refuses any faster), then rising.
    expect(perS(share.raised(3, 15_000, 0.001, true))).toBe(1)
    expect(perS(share.raised(4, 19_000, 0.001, true))).toBeCloseTo(1, 5)
    expect(perS(share.raised(5, 27_000, 0.001, true))).toBeGreaterThan(1.4)
    // Without a `Retry-After`, or one slower than half the rate: halved as before.
    expect(perS(answeredAt(10_000, 1).learn(1, 1, 10_000))).toBe(0.5)
    expect(perS(answeredAt(10_000, 10).learn(1, 1, 10_000, undefined, 1_000))).toBe(5)
  })

  it('should say nothing new of a refusal of a request sent before the last halving', () => {
    const share = answeredAt(10_000, 10)
    share.learn(5, 9, 10_000)
    expect(share.learn(7, 12, 10_500, 0.005)).toBeUndefined()
    expect(share.learn(10, 12, 10_500, 0.005)).toBeDefined()
  })
})

describe('a share of a stated limit', () => {
  it('should halve at a refusal, then rise slowly, or double every 4 s while the bucket is roomy', () => {
    const stated = 50 / 1_000
    for (const roomy of [false, true]) {
      const share = new RateShare()
      expect(perS(share.ofStated(stated))).toBe(50)
      share.halve(1, 1, 10_000)
      expect(perS(share.ofStated(stated))).toBe(25)
      // 4 s later: 0.4 request a second more, or twice as much (half the bucket left).
      const later = perS(share.raised(2, 14_000, stated / 2, false, roomy))
      expect(later).toBeCloseTo(roomy ? 50 : 25.4, 5)
    }
  })
})
