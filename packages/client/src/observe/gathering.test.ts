import { describe, expect, it } from 'vitest'
import { onGrid } from './gathering.js'

describe('onGrid', () => {
  it('should bring checks planned near each other to one instant, by at most 1/8 of their delay', () => {
    const now = 1_000_000
    // Delays of about 11 s: a grid of 1,024 ms (the first three in one of its steps).
    const times = [10_700, 11_000, 11_500, 11_800].map((delay) =>
      onGrid(now + delay, now, delay, now, false),
    )
    expect(new Set(times.slice(0, 3)).size).toBe(1)
    expect((times[0] as number) % 1_024).toBe(0)
    for (const [i, delay] of [10_700, 11_000, 11_500, 11_800].entries()) {
      const moved = now + delay - (times[i] as number)
      expect(moved).toBeGreaterThanOrEqual(0)
      expect(moved).toBeLessThanOrEqual(delay / 8)
    }
  })

  it('should not bring a check before the server asked, and put it on the next instant while turns are short', () => {
    const now = 1_000_000
    const notBefore = now + 10_100
    // Brought earlier, it would go before the server's word: at it, or on the grid after it.
    expect(onGrid(now + 10_200, now, 10_200, notBefore, false)).toBe(notBefore)
    const queued = onGrid(now + 10_200, now, 10_200, notBefore, true)
    expect(queued).toBeGreaterThanOrEqual(notBefore)
    expect(queued % 1_024).toBe(0)
    expect(queued - notBefore).toBeLessThan(1_024)
  })

  it('should never plan a check in the past', () => {
    expect(onGrid(1_000_020, 1_000_000, 20, 1_000_000, false)).toBeGreaterThanOrEqual(1_000_000)
  })
})
