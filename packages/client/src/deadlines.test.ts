import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ownDeadline, sharedDeadlines } from './deadlines.js'

beforeEach(() => {
  vi.useFakeTimers({ now: 0 })
})

afterEach(() => {
  vi.useRealTimers()
})

describe('SharedDeadlines', () => {
  it('should share one signal among requests that start in the same window, and not beyond it', () => {
    const deadlines = sharedDeadlines(1_000)
    const first = deadlines.start()
    vi.advanceTimersByTime(9)
    const second = deadlines.start()
    expect(second.signal).toBe(first.signal)
    vi.advanceTimersByTime(1)
    const third = deadlines.start()
    expect(third.signal).not.toBe(first.signal)
    for (const deadline of [first, second, third]) deadline.dispose()
  })

  it('should give every request at least its limit and at most one window more', () => {
    const deadlines = sharedDeadlines(1_000)
    const first = deadlines.start()
    vi.advanceTimersByTime(9)
    const last = deadlines.start()
    // `last` started 9 ms after `first`, the window closes at 10 ms: the shared timer fires a
    // limit after that, so `last` gets 1,001 ms and `first` 1,010 ms (its limit plus one window).
    vi.advanceTimersByTime(1_000)
    expect(last.signal.aborted).toBe(false)
    vi.advanceTimersByTime(1)
    expect(Date.now()).toBe(1_010)
    expect(last.signal.aborted).toBe(true)
    expect(last.timedOut()).toBe(true)
    expect(first.timedOut()).toBe(true)
    first.dispose()
    last.dispose()
  })

  it('should scale the window with short limits', () => {
    const deadlines = sharedDeadlines(100)
    const first = deadlines.start()
    vi.advanceTimersByTime(1)
    const second = deadlines.start()
    expect(second.signal).not.toBe(first.signal)
    // A 1 ms window: `second` started at 1 ms, its window closes at 2 ms, its timer fires at 102.
    vi.advanceTimersByTime(100)
    expect(first.signal.aborted).toBe(true)
    expect(second.signal.aborted).toBe(false)
    vi.advanceTimersByTime(1)
    expect(second.signal.aborted).toBe(true)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('should clear the timer once its last request is done, then carry the unfired signal on', () => {
    const deadlines = sharedDeadlines(1_000)
    const first = deadlines.start()
    const second = deadlines.start()
    expect(vi.getTimerCount()).toBe(1)
    first.dispose()
    expect(vi.getTimerCount()).toBe(1)
    second.dispose()
    expect(vi.getTimerCount()).toBe(0)
    expect(first.signal.aborted).toBe(false)
    // One request after another: the idle signal serves the next window, with a timer of its own.
    const next = deadlines.start()
    expect(next.signal).toBe(first.signal)
    expect(vi.getTimerCount()).toBe(1)
    next.dispose()
    expect(vi.getTimerCount()).toBe(0)
  })

  it('should take a fresh signal after sixteen requests on one, carried on or in one window', () => {
    const deadlines = sharedDeadlines(1_000)
    const signals = new Set<AbortSignal>()
    for (let i = 0; i < 250; i++) {
      const deadline = deadlines.start()
      signals.add(deadline.signal)
      deadline.dispose()
    }
    expect(signals.size).toBe(16)
    expect(vi.getTimerCount()).toBe(0)
    const concurrent = sharedDeadlines(1_000)
    const together = Array.from({ length: 40 }, () => concurrent.start())
    const uses = new Map<AbortSignal, number>()
    for (const { signal } of together) uses.set(signal, (uses.get(signal) ?? 0) + 1)
    expect([...uses.values()].sort((a, b) => a - b)).toEqual([8, 16, 16])
    expect(vi.getTimerCount()).toBe(3)
    for (const deadline of together) deadline.dispose()
    expect(vi.getTimerCount()).toBe(0)
  })

  it('should not hand out a signal that has already timed out', () => {
    const deadlines = sharedDeadlines(5)
    const first = deadlines.start()
    vi.advanceTimersByTime(5)
    expect(first.timedOut()).toBe(true)
    const next = deadlines.start()
    expect(next.signal.aborted).toBe(false)
    first.dispose()
    next.dispose()
  })
})

describe('ownDeadline', () => {
  it('should abort with the parent, not as a timeout, and leave nothing behind', () => {
    const parent = new AbortController()
    const deadline = ownDeadline(parent.signal, 1_000)
    const reason = new Error('stop')
    parent.abort(reason)
    expect(deadline.signal.reason).toBe(reason)
    expect(deadline.timedOut()).toBe(false)
    deadline.dispose()
    expect(vi.getTimerCount()).toBe(0)
  })

  it('should time out after its limit', () => {
    const deadline = ownDeadline(undefined, 50)
    vi.advanceTimersByTime(50)
    expect(deadline.signal.aborted).toBe(true)
    expect(deadline.timedOut()).toBe(true)
    deadline.dispose()
  })
})
