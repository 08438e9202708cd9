import { describe, expect, it } from 'vitest'
import { systemClock, wallClock } from './clock.js'

/** A wall clock and a monotonic one, moved by hand. */
function clocks() {
  const time = { wall: 1_767_225_600_000, mono: 5_000 }
  const now = wallClock(
    () => time.wall,
    () => time.mono,
  )
  const pass = (ms: number) => {
    time.wall += ms
    time.mono += ms
  }
  return { time, now, pass }
}

describe('wallClock', () => {
  it('should tell the wall clock while it goes as the monotonic one does', () => {
    const { time, now, pass } = clocks()
    expect(now()).toBe(time.wall)
    pass(1_500)
    expect(now()).toBe(time.wall)
  })

  it('should go on from where it was when the wall clock steps back', () => {
    const { time, now, pass } = clocks()
    const before = now()
    time.wall -= 3_600_000
    pass(2_000)
    expect(now()).toBe(before + 2_000)
    pass(10_000)
    expect(now()).toBe(before + 12_000)
  })

  it('should be the wall clock again once a step back is put right', () => {
    const { time, now, pass } = clocks()
    const before = now()
    time.wall -= 3_600_000
    pass(1_000)
    expect(now()).toBe(before + 1_000)
    time.wall += 3_600_000
    pass(1_000)
    expect(now()).toBe(time.wall)
    expect(now()).toBe(before + 2_000)
  })

  it('should not drift ahead of a fast wall clock stepped back now and then', () => {
    const { time, now } = clocks()
    const start = time.wall
    let elapsed = 0
    // 1 % fast, put back onto true time every 150 s.
    for (let i = 0; i < 24; i++) {
      for (let s = 0; s < 150; s++) {
        time.wall += 1_010
        time.mono += 1_000
        elapsed += 1_000
        now()
      }
      time.wall = start + elapsed
      now()
    }
    // At most the last step ahead of it (36 s after an hour, when steps added up).
    expect(now() - time.wall).toBeLessThanOrEqual(1_500)
  })

  it('should follow a step forward (a machine waking from sleep)', () => {
    const { time, now } = clocks()
    const before = now()
    time.wall += 3_600_000
    expect(now()).toBe(before + 3_600_000)
  })

  it('should never tell an earlier time after a step back within a second', () => {
    const { time, now, pass } = clocks()
    pass(100)
    const before = now()
    time.wall -= 600
    expect(now()).toBe(before)
    pass(1_000)
    expect(now()).toBe(before + 400)
  })

  it('should be the wall clock itself without a monotonic one', () => {
    let wall = 10_000
    const now = wallClock(() => wall, null)
    expect(now()).toBe(10_000)
    wall = 5_000
    expect(now()).toBe(5_000)
  })

  it('should keep the real clock (the default) from stepping back with Date.now', () => {
    const realNow = Date.now
    const before = systemClock.now()
    try {
      Date.now = () => realNow() - 3_600_000
      expect(systemClock.now()).toBeGreaterThanOrEqual(before)
      expect(systemClock.now()).toBeLessThan(before + 60_000)
    } finally {
      Date.now = realNow
    }
  })
})
