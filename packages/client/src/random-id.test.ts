import { afterEach, describe, expect, it, vi } from 'vitest'
import { randomId } from './random-id.js'

afterEach(() => {
  vi.unstubAllGlobals()
})

describe('randomId', () => {
  it('should be a UUID where the runtime makes them', () => {
    expect(randomId()).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    )
  })

  it('should fall back to 32 hex digits from getRandomValues, or from Math.random without crypto', () => {
    const getRandomValues = vi.fn((bytes: Uint8Array) => bytes.fill(0xab))
    vi.stubGlobal('crypto', { getRandomValues })
    expect(randomId()).toBe('ab'.repeat(16))
    expect(getRandomValues).toHaveBeenCalledOnce()
    vi.stubGlobal('crypto', undefined)
    const ids = new Set(Array.from({ length: 100 }, randomId))
    expect(ids.size).toBe(100)
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{32}$/)
  })
})
