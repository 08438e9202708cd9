import { describe, expect, it } from 'vitest'
import { readLimit } from './rate-limit-headers.js'

/** Any time: no reset here is an epoch time, which alone is read against it. */
const NOW = 1_767_225_600_000

describe('readLimit', () => {
  it('should read the policy with least left, of several listed: its quota, window and reset', () => {
    const headers = new Headers({
      'ratelimit-policy': '"burst";q=10;w=1, "day";q=30;w=86400',
      ratelimit: '"burst";r=9;t=1, "day";r=0;t=3600',
    })
    expect(readLimit(headers, NOW, true)).toEqual({
      quota: 30,
      windowS: 86_400,
      resetS: 3_600,
      remaining: 0,
    })
  })

  it('should read one policy’s state in either form', () => {
    const structured = new Headers({
      'ratelimit-policy': '100;w=2',
      ratelimit: '"default";r=42;t=1',
    })
    const listed = new Headers({
      'ratelimit-policy': '100;w=2',
      ratelimit: 'limit=100, remaining=42, reset=1',
    })
    for (const headers of [structured, listed]) {
      expect(readLimit(headers, NOW, true)).toEqual({
        quota: 100,
        windowS: 2,
        resetS: 1,
        remaining: 42,
      })
    }
  })
})
