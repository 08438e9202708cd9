import { describe, expect, it } from 'vitest'
import { CircuitOpenError, NetworkError, TimeoutError } from '../errors.js'
import { BatchWindow, failureOutcome } from './batch-window.js'

/** Sends batch requests of `ids` ids while `window` has room, and keeps them out. */
function fill(window: BatchWindow, ids = 100) {
  const out: ReturnType<BatchWindow['sent']>[] = []
  while (window.room) out.push(window.sent(ids))
  return out
}

/** Fills `window`, then brings every request back answered in `tookMs` (limit 10 s). */
function round(window: BatchWindow, tookMs: number, ids = 100) {
  for (const sent of fill(window, ids)) {
    window.back(sent, { answered: true, tookMs, limitMs: 10_000 })
  }
}

describe('BatchWindow', () => {
  it('should let six batch requests out at first, and open by one with each answered in time', () => {
    const window = new BatchWindow()
    expect(fill(window)).toHaveLength(6)
    const other = new BatchWindow()
    round(other, 50)
    expect(fill(other)).toHaveLength(12)
  })

  it('should halve for each batch without an answer, down to one', () => {
    const window = new BatchWindow()
    const out = fill(window)
    window.back(out[0] as never, { answered: false })
    window.back(out[1] as never, { answered: false })
    // 6 -> 3 -> 1.5: one out of the four still out is room for none.
    expect(window.room).toBe(false)
    for (const sent of out.slice(2)) window.back(sent, { answered: false })
    expect(fill(window)).toHaveLength(1)
  })

  it('should take answers over half the limit for a shared link while it knows no faster one', () => {
    const window = new BatchWindow()
    round(window, 20_000)
    expect(fill(window)).toHaveLength(1)
  })

  it('should not stay closed for a server slow at every batch, however many are out', () => {
    const window = new BatchWindow()
    // The first answers, all 6 s, tell nothing of the link yet: one at a time.
    round(window, 6_000)
    expect(fill(window)).toHaveLength(1)
    const fresh = new BatchWindow()
    round(fresh, 6_000)
    // Then each answer in its usual time: it opens again.
    for (let i = 0; i < 10; i++) round(fresh, 6_000)
    expect(fill(fresh)).toHaveLength(32)
  })

  it('should close for answers twice as slow as the fastest seen, past half the limit', () => {
    const window = new BatchWindow()
    round(window, 3_000)
    const out = fill(window)
    expect(out).toHaveLength(12)
    for (const sent of out) window.back(sent, { answered: true, tookMs: 7_000, limitMs: 10_000 })
    expect(fill(window)).toHaveLength(1)
  })

  it('should take a batch that went alone as the yardstick: a server slower for good reopens it at once', () => {
    const window = new BatchWindow()
    // Answered within the clock's tick at first, then 6 s a batch.
    round(window, 0)
    round(window, 6_000)
    expect(fill(window).length).toBeLessThanOrEqual(2)
    const reopened = new BatchWindow()
    round(reopened, 0)
    for (let i = 0; i < 6; i++) round(reopened, 6_000)
    expect(fill(reopened).length).toBeGreaterThanOrEqual(8)
  })

  it('should weigh answers by the ids asked: a batch of 2 is no yardstick for one of 100', () => {
    const window = new BatchWindow()
    round(window, 120, 2)
    // 60 ms an id: 6 s for 100, as fast an id as the small ones.
    round(window, 6_000, 100)
    expect(fill(window).length).toBeGreaterThan(6)
  })

  it('should learn nothing from a batch its waits ended, nor open past 32', () => {
    const window = new BatchWindow()
    for (const sent of fill(window)) window.back(sent, undefined)
    expect(fill(window)).toHaveLength(6)
    const fast = new BatchWindow()
    for (let i = 0; i < 20; i++) round(fast, 5)
    expect(fill(fast)).toHaveLength(32)
  })
})

describe('failureOutcome', () => {
  const timeout = new TimeoutError({ scope: 'request', timeoutMs: 10_000, what: 'GET /v1/jobs' })
  const network = new NetworkError({ method: 'GET', path: '/v1/jobs' }, new Error('reset'))

  it('should tell no answer of the link only for a network failure or a whole time limit run out', () => {
    expect(failureOutcome(network, false, false)).toEqual({ answered: false })
    expect(failureOutcome(timeout, false, false)).toEqual({ answered: false })
  })

  it('should say nothing for a batch its waits ended, never sent, or cut short by a deadline', () => {
    expect(failureOutcome(network, true, false)).toBeUndefined()
    expect(failureOutcome(timeout, false, true)).toBeUndefined()
    const open = new CircuitOpenError(5_000, network, 1)
    expect(failureOutcome(open, false, false)).toBeUndefined()
    expect(failureOutcome(new TypeError('bug'), false, false)).toBeUndefined()
  })
})
