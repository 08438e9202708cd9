import { spawn } from 'node:child_process'
import { getEventListeners } from 'node:events'
import { createRequire } from 'node:module'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createManualClock, createSystemClock, sleep } from './clock.js'

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

  it('should hold one abort listener for many sleeps on one signal, and none once they end', async () => {
    const clock = createManualClock(0)
    const controller = new AbortController()
    const sleeps = Array.from({ length: 50 }, (_, i) =>
      sleep(clock, 1_000 * (i % 2 ? 1 : 2), controller.signal),
    )
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1)
    await clock.tickAsync(1_000)
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1)
    const aborted = Promise.allSettled(sleeps)
    controller.abort(new Error('stop'))
    const outcomes = await aborted
    expect(outcomes.filter((o) => o.status === 'rejected')).toHaveLength(25)
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0)
    const other = new AbortController()
    await Promise.all([sleep(clock, 0, other.signal), clock.tickAsync(0)])
    expect(getEventListeners(other.signal, 'abort')).toHaveLength(0)
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

describe('createSystemClock', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('should wait out a delay longer than the longest timer, on a slow clock', () => {
    vi.useFakeTimers()
    const clock = createSystemClock(0.01)
    let fired = false
    // A day at a hundredth of real time: 100 real days, four times the longest timer.
    clock.schedule(86_400_000, () => {
      fired = true
    })
    vi.advanceTimersByTime(99 * 86_400_000)
    expect(fired).toBe(false)
    vi.advanceTimersByTime(86_400_000)
    expect(fired).toBe(true)
  })

  it('should cancel a long delay in any of its parts', () => {
    vi.useFakeTimers()
    const clock = createSystemClock(0.01)
    let fired = false
    const cancel = clock.schedule(86_400_000, () => {
      fired = true
    })
    vi.advanceTimersByTime(30 * 86_400_000)
    cancel()
    vi.advanceTimersByTime(100 * 86_400_000)
    expect(fired).toBe(false)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('should keep a process alive while something sleeps on it, and not for its background work', async () => {
    // A client on the sped-up clock (its `clock.sleep` this `sleep`) waiting: Node exited in the
    // middle of the wait, printing nothing. A webhook due in a minute keeps nothing alive.
    const script = [
      "import { createSystemClock, sleep } from './src/simulator/clock.ts'",
      'const clock = createSystemClock(10)',
      'clock.schedule(600_000, () => console.log("background ran"), { background: true })',
      'await sleep(clock, 2_000)',
      'console.log("woke")',
    ].join('\n')
    const tsx = createRequire(import.meta.url).resolve('tsx')
    const child = spawn(process.execPath, ['--import', tsx, '--input-type=module', '-e', script], {
      cwd: new URL('../..', import.meta.url),
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString()
    })
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
    expect({ code, output }).toEqual({ code: 0, output: 'woke\n' })
  }, 30_000)
})
