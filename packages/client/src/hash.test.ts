import { describe, expect, it } from 'vitest'
import { hash32 } from './hash.js'

describe('hash32', () => {
  it('should spread ids that differ only at the end evenly over its range', () => {
    const deciles = new Array<number>(10).fill(0)
    for (let i = 0; i < 1_000; i++) {
      const unit = hash32(`job_${i}`) / 2 ** 32
      expect(unit).toBeGreaterThanOrEqual(0)
      expect(unit).toBeLessThan(1)
      const decile = Math.floor(unit * 10)
      deciles[decile] = (deciles[decile] ?? 0) + 1
    }
    for (const count of deciles) expect(count).toBeGreaterThan(60)
    expect(hash32('job_1')).toBe(hash32('job_1'))
  })
})
