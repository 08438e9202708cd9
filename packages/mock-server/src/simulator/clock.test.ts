import { describe, expect, it } from 'vitest'
import { createManualClock, sleep } from './clock.js'

describe('createManualClock', () => {
  it('should run due callbacks in time order, and say when the next one is due', () => {
    const clock = createManualClock(1_000)
    const order: string[] = []
    clock.schedule(300, () => order.push('b'))
    clock.schedule(100, () => order.push('a'))
    clock.schedule(300, () => order.push('c'))
    expect(clock.nextDueAt()).toBe(1_100)
    clock.advance(299)
    expect(order).toEqual(['a'])
    clock.advance(1)
    expect(order).toEqual(['a', 'b', 'c'])
    expect(clock.nextDueAt()).toBeUndefined()
    expect(clock.now()).toBe(1_300)
  })

  it('should let work started by a callback schedule more, with tickAsync', async () => {
    const clock = createManualClock(0)
    const seen: number[] = []
    const loop = async () => {
      for (let i = 0; i < 3; i++) {
        await sleep(clock, 1_000)
        seen.push(clock.now())
      }
    }
    const done = loop()
    await clock.tickAsync(3_000)
    await done
    expect(seen).toEqual([1_000, 2_000, 3_000])
  })

  it('should cancel a sleep on abort, leaving no timer', async () => {
    const clock = createManualClock(0)
    const controller = new AbortController()
    const pending = sleep(clock, 5_000, controller.signal)
    expect(clock.pending()).toBe(1)
    controller.abort(new Error('stop'))
    await expect(pending).rejects.toThrow('stop')
    expect(clock.pending()).toBe(0)
  })

  it('should refuse to go backwards', () => {
    expect(() => createManualClock().advance(-1)).toThrow(RangeError)
  })
})
