import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseRetryAfter } from './hints.js'
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
    elapsedMs: 0,
    job: undefined,
    hints: {},
    previousDelayMs: undefined,
    random: Math.random,
    ...overrides,
  }
}

const jitter = fc.constantFrom<Jitter>('full', 'equal', 'decorrelated', 'none')
const bounds = fc
  .tuple(fc.integer({ min: 0, max: 5_000 }), fc.integer({ min: 1, max: 120_000 }))
  .map(([a, b]) => ({ minIntervalMs: Math.min(a, b), maxIntervalMs: Math.max(a, b) }))

describe('hintAware(exponentialBackoff())', () => {
  it('should keep every delay within [min, max], hints or not', () => {
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
          return delay >= range.minIntervalMs && delay <= range.maxIntervalMs
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
    expect([1, 2, 3, 4, 7, 20].map((attempt) => strategy.nextDelay(context({ attempt })))).toEqual([
      500, 1_000, 2_000, 4_000, 30_000, 30_000,
    ])
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
    expect(strategy.nextDelay(context({ hints: { retryAfterMs: 3_600_000 } }))).toBe(30_000)
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
  ])('should read %j as %i ms', (value, ms) => {
    expect(parseRetryAfter(value, now)).toBe(ms)
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
  ])('should ignore %j', (value) => {
    expect(parseRetryAfter(value, now)).toBeUndefined()
  })
})
