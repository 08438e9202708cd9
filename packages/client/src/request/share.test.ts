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
    // Refused again at 8 a second (others take some): halved, and back to 6 (3/4 of 8).
    expect(perS(share.learn(2, 2, 12_000, 0.008))).toBe(4)
    expect(perS(share.raised(3, 20_000, 0.004, true))).toBeLessThan(6.01)
    expect(perS(share.raised(4, 20_000, 0.004, true))).toBeGreaterThan(5.5)
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
