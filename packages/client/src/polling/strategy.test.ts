import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseRetryAfter, retryAfterOf } from './hints.js'
import {
  exponentialBackoff,
  fixedInterval,
  hintAware,
  type Jitter,
  type PollContext,
} from './strategy.js'

function context(overrides: Partial<PollContext> = {}): PollContext {
  return {
    attempt: 1,
    delays: 0,
    elapsedMs: 0,
    ageMs: undefined,
    job: undefined,
    hints: {},
    previousDelayMs: undefined,
    random: Math.random,
    ...overrides,
  }
}

const jitter = fc.constantFrom<Jitter>('full', 'equal', 'decorrelated', 'none')
const bounds = fc
  .tuple(fc.integer({ min: 1, max: 5_000 }), fc.integer({ min: 1, max: 120_000 }))
  .map(([a, b]) => ({ minIntervalMs: Math.min(a, b), maxIntervalMs: Math.max(a, b) }))

describe('hintAware(exponentialBackoff())', () => {
  it('should keep every delay within [min, max] (a Retry-After within [min, maxHintMs])', () => {
    fc.assert(
      fc.property(
        bounds,
        jitter,
        fc.integer({ min: 1, max: 1_000 }),
        fc.option(fc.integer({ min: 0, max: 10_000_000 }), { nil: undefined }),
        fc.option(fc.integer({ min: 0, max: 10_000_000 }), { nil: undefined }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (range, j, attempt, retryAfterMs, etaMs, r) => {
          const strategy = hintAware(
            exponentialBackoff({ jitter: j, maxIntervalMs: range.maxIntervalMs }),
            range,
          )
          const hints = {
            ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
            ...(etaMs === undefined ? {} : { etaMs }),
          }
          const delay = strategy.nextDelay(
            context({ attempt, hints, random: () => r, previousDelayMs: 1_000 }),
          )
          const max =
            retryAfterMs === undefined
              ? range.maxIntervalMs
              : Math.max(range.maxIntervalMs, 300_000)
          return delay >= range.minIntervalMs && delay <= max
        },
      ),
    )
  })

  it('should keep jitter on after the cap', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<Jitter>('full', 'equal', 'decorrelated'),
        fc.integer({ min: 20, max: 500 }),
        (j, attempt) => {
          const strategy = exponentialBackoff({
            jitter: j,
            initialIntervalMs: 500,
            maxIntervalMs: 30_000,
          })
          const delays = new Set(
            [0.1, 0.5, 0.9].map((r) =>
              strategy.nextDelay(context({ attempt, random: () => r, previousDelayMs: 30_000 })),
            ),
          )
          return delays.size === 3
        },
      ),
    )
  })

  it('should grow 500, 1000, 2000 … up to 30 s without jitter', () => {
    const strategy = exponentialBackoff({ jitter: 'none' })
    expect([0, 1, 2, 3, 6, 19].map((delays) => strategy.nextDelay(context({ delays })))).toEqual([
      500, 1_000, 2_000, 4_000, 30_000, 30_000,
    ])
  })

  it('should take its n-th delay as initial × multiplier^n, capped, whatever the attempt', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000 }),
        fc.double({ min: 1, max: 4, noNaN: true }),
        fc.integer({ min: 1, max: 600_000 }),
        fc.integer({ min: 0, max: 40 }),
        fc.integer({ min: 0, max: 1_000 }),
        (initialIntervalMs, multiplier, maxIntervalMs, delays, attempt) => {
          const strategy = exponentialBackoff({
            initialIntervalMs,
            multiplier,
            maxIntervalMs,
            jitter: 'none',
          })
          const expected = Math.min(maxIntervalMs, initialIntervalMs * multiplier ** delays)
          return strategy.nextDelay(context({ delays, attempt })) === expected
        },
      ),
    )
  })

  it('should follow a Retry-After above maxIntervalMs, up to maxHintMs', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 100, max: 60_000 }),
        fc.integer({ min: 0, max: 86_400_000 }),
        fc.integer({ min: 60_000, max: 3_600_000 }),
        (maxIntervalMs, retryAfterMs, maxHintMs) => {
          const strategy = hintAware(fixedInterval(1_000), { maxIntervalMs, maxHintMs })
          const delay = strategy.nextDelay(context({ hints: { retryAfterMs } }))
          return delay === Math.max(100, Math.min(retryAfterMs, maxHintMs))
        },
      ),
    )
  })

  it('should prefer Retry-After, then eta_ms, then backoff', () => {
    const strategy = hintAware(fixedInterval(7_000))
    const hinted = (retryAfterMs: number, etaMs: number) =>
      strategy.nextDelay(context({ hints: { retryAfterMs, etaMs } }))
    expect(hinted(3_000, 5_000)).toBe(3_000)
    expect(hinted(3_000, 2_400)).toBe(2_400)
    expect(hinted(3_000, 1_500)).toBe(3_000)
    expect(strategy.nextDelay(context({ hints: { etaMs: 5_000 } }))).toBe(5_000)
    expect(strategy.nextDelay(context())).toBe(7_000)
    expect(strategy.nextDelay(context({ hints: { etaMs: 10 } }))).toBe(100)
    expect(strategy.nextDelay(context({ hints: { retryAfterMs: 60_000 } }))).toBe(60_000)
    expect(strategy.nextDelay(context({ hints: { retryAfterMs: 3_600_000 } }))).toBe(300_000)
    expect(strategy.nextDelay(context({ hints: { etaMs: 3_600_000 } }))).toBe(30_000)
  })
})

describe('parseRetryAfter', () => {
  const now = Date.parse('Sat, 21 Nov 2026 12:00:00 GMT')

  it.each([
    ['0', 0],
    ['7', 7_000],
    [' 120 ', 120_000],
    ['Sat, 21 Nov 2026 12:00:30 GMT', 30_000],
    ['Sat, 21 Nov 2026 11:59:00 GMT', 0],
    // The two obsolete forms a recipient must read too (RFC 9110 §5.6.7).
    ['Saturday, 21-Nov-26 12:00:30 GMT', 30_000],
    ['Sat Nov 21 12:00:30 2026', 30_000],
    ['Sun Nov  1 12:00:00 2026', 0],
  ])('should read %j as %i ms', (value, ms) => {
    expect(parseRetryAfter(value, now)).toBe(ms)
  })

  it('should read an HTTP-date against the clock it is given, whatever its epoch', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4_000_000_000 }),
        fc.integer({ min: 0, max: 86_400 }),
        (seconds, ahead) => {
          const clockNow = seconds * 1_000
          const date = new Date(clockNow + ahead * 1_000).toUTCString()
          return parseRetryAfter(date, clockNow) === ahead * 1_000
        },
      ),
    )
  })

  it('should read an answer’s HTTP-date against its Date, whatever the clocks disagree by', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -7_200, max: 7_200 }),
        fc.integer({ min: 0, max: 3_600 }),
        (skewS, aheadS) => {
          const serverNow = now + skewS * 1_000
          const headers = new Headers({
            date: new Date(serverNow).toUTCString(),
            'retry-after': new Date(serverNow + aheadS * 1_000).toUTCString(),
          })
          return retryAfterOf(headers, now) === aheadS * 1_000
        },
      ),
    )
    // Without a Date, against the client's clock; seconds are seconds whatever the Date says.
    const at = new Date(now + 5_000).toUTCString()
    expect(retryAfterOf(new Headers({ 'retry-after': at }), now)).toBe(5_000)
    const late = new Date(now + 3_600_000).toUTCString()
    expect(retryAfterOf(new Headers({ 'retry-after': '2', date: late }), now)).toBe(2_000)
  })

  it('should cap a hint at one day, so no timer overflows', () => {
    expect(parseRetryAfter('99999999999', now)).toBe(86_400_000)
    expect(parseRetryAfter('Fri, 31 Dec 9999 23:59:59 GMT', now)).toBe(86_400_000)
  })

  it.each([
    null,
    undefined,
    '',
    '-1',
    '1.5',
    'soon',
    '2026-11-21T12:00:30Z',
    'Sat, 99 Nov 2026 12:00:30 GMT',
    'Sat, 21 Nov 2026 25:00:30 GMT',
    'Sat, 21 Foo 2026 12:00:30 GMT',
    'Sat Nov 21 12:00:30 2026 GMT',
  ])('should ignore %j', (value) => {
    expect(parseRetryAfter(value, now)).toBeUndefined()
  })
})
