import { afterEach, describe, expect, it, vi } from 'vitest'
import { systemClock } from './clock.js'

afterEach(() => {
  vi.restoreAllMocks()
})

describe('systemClock', () => {
  it('should keep counting on when the wall clock is stepped back or forward', async () => {
    const before = systemClock.now()
    expect(Math.abs(before - Date.now())).toBeLessThan(1_000)
    const wall = Date.now()
    const step = vi.spyOn(Date, 'now')
    for (const offset of [-60_000, 600_000]) {
      step.mockReturnValue(wall + offset)
      const at = systemClock.now()
      expect(at).toBeGreaterThanOrEqual(before)
      expect(at - before).toBeLessThan(1_000)
    }
    step.mockRestore()
    await systemClock.sleep(20)
    expect(systemClock.now() - before).toBeGreaterThanOrEqual(19)
  })
})
