import { describe, expect, it } from 'vitest'
import { BatchWindow } from './batch-window.js'

/** How many batch requests `window` lets out now, sent and kept out. */
function fill(window: BatchWindow) {
  const out: ReturnType<BatchWindow['sent']>[] = []
  while (window.room) out.push(window.sent())
  return out
}

describe('BatchWindow', () => {
  it('should let six batch requests out at first, and open by one with each answered in time', () => {
    const window = new BatchWindow()
    const out = fill(window)
    expect(out).toHaveLength(6)
    for (const sent of out) window.back(sent, { answered: true, tookMs: 50, limitMs: 10_000 })
    expect(fill(window)).toHaveLength(12)
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
    for (const sent of fill(window)) {
      window.back(sent, { answered: true, tookMs: 20_000, limitMs: 10_000 })
    }
    expect(fill(window)).toHaveLength(1)
  })

  it('should not close for a server slow at every batch, however many are out', () => {
    const window = new BatchWindow()
    // The first answers, all 6 s, tell nothing of the link yet: one at a time.
    for (const sent of fill(window)) {
      window.back(sent, { answered: true, tookMs: 6_000, limitMs: 10_000 })
    }
    const alone = fill(window)
    expect(alone).toHaveLength(1)
    window.back(alone[0] as never, { answered: true, tookMs: 6_000, limitMs: 10_000 })
    // Then each answer in its usual time: it opens again.
    for (let i = 0; i < 10; i++) {
      for (const sent of fill(window)) {
        window.back(sent, { answered: true, tookMs: 6_000, limitMs: 10_000 })
      }
    }
    expect(fill(window)).toHaveLength(32)
  })

  it('should close for answers twice as slow as the fastest seen, past half the limit', () => {
    const window = new BatchWindow()
    const first = fill(window)
    for (const sent of first) window.back(sent, { answered: true, tookMs: 3_000, limitMs: 10_000 })
    const out = fill(window)
    expect(out).toHaveLength(12)
    for (const sent of out) window.back(sent, { answered: true, tookMs: 7_000, limitMs: 10_000 })
    expect(fill(window)).toHaveLength(1)
  })

  it('should learn nothing from a batch its waits ended, nor open past 32', () => {
    const window = new BatchWindow()
    const out = fill(window)
    for (const sent of out) window.back(sent, undefined)
    expect(fill(window)).toHaveLength(6)
    const fast = new BatchWindow()
    for (let i = 0; i < 20; i++) {
      for (const sent of fill(fast)) fast.back(sent, { answered: true, tookMs: 5, limitMs: 10_000 })
    }
    expect(fill(fast)).toHaveLength(32)
  })
})
