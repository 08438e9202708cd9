import { describe, expect, it } from 'vitest'
import { ANCHORS, DEFAULT } from './anchors.js'
import { chart } from './chart.js'
import { type Profile, QUICK, runLab } from './lab.js'
import { frontierAt, summarize } from './metrics.js'
import { evaluate, optimalSchedule, tabulate } from './optimal.js'
import { report } from './report.js'
import { WORKLOADS } from './workloads.js'

const anchor = (id: string) => {
  const found = ANCHORS.find((a) => a.id === id)
  if (!found) throw new Error(id)
  return found.make()
}

const context = (delays: number, random = 0.5) => ({
  attempt: delays,
  delays,
  elapsedMs: 0,
  ageMs: 0,
  job: undefined,
  hints: {},
  previousDelayMs: undefined,
  random: () => random,
})

describe('optimal schedules', () => {
  it('should check once, just after a duration every job has', () => {
    const dist = tabulate(() => 10_000, 1_000, 1)
    expect(optimalSchedule(dist, 300)).toEqual([10_000])
  })

  it('should shorten the gaps by the price of a check for uniform durations (Barlow, Hunter, Proschan)', () => {
    const dist = tabulate((random) => random() * 100_000, 200_000, 2)
    const schedule = optimalSchedule(dist, 2_000)
    const gaps = schedule.slice(1).map((t, i) => t - (schedule[i] as number))
    for (let i = 1; i < gaps.length - 1; i++) {
      // The grid is 0.1 % fine (100 ms at 100 s): each gap is about the one before less the price (the draws are noisy).
      expect((gaps[i - 1] as number) - (gaps[i] as number)).toBeGreaterThan(1_000)
      expect((gaps[i - 1] as number) - (gaps[i] as number)).toBeLessThan(3_000)
    }
  })

  it('should check a job longer than the schedule on at its last gap', () => {
    expect(evaluate([1_000, 3_000], [500, 3_000, 4_500])).toEqual([
      { requests: 1, latencyMs: 500 },
      { requests: 2, latencyMs: 0 },
      { requests: 3, latencyMs: 500 },
    ])
  })

  it('should beat every fixed interval at its own price', () => {
    const draw = (random: () => number) => 30_000 * Math.exp(random() * 2 - 1)
    const dist = tabulate(draw, 50_000, 3)
    const durations = Array.from({ length: 2_000 }, (_, i) => draw(() => (i + 0.5) / 2_000))
    const price = 1_000
    const cost = (schedule: number[]) => {
      const s = summarize(evaluate(schedule, durations))
      return price * s.requests + s.meanMs
    }
    const best = cost(optimalSchedule(dist, price))
    for (const every of [2_000, 4_000, 6_000, 10_000]) {
      const fixed = Array.from({ length: 200 }, (_, k) => (k + 1) * every)
      expect(best).toBeLessThan(cost(fixed))
    }
  })

  it('should interpolate the frontier only within its range', () => {
    const point = (requests: number, meanMs: number) => ({
      jobs: 1,
      requests,
      meanMs,
      p95Ms: meanMs,
      failures: 0,
    })
    const frontier = [point(2, 8_000), point(8, 2_000)]
    expect(frontierAt(frontier, 4)).toBeCloseTo(4_000, 6)
    expect(frontierAt(frontier, 1)).toBeUndefined()
    expect(frontierAt(frontier, 9)).toBeUndefined()
  })
})

describe('anchors', () => {
  it('should follow google-gax: a first poll at once, then 100 ms, ×1.3, at most 60 s', () => {
    const gax = anchor('gax')
    expect([0, 1, 2, 3, 40].map((d) => Math.round(gax.nextDelay(context(d))))).toEqual([
      0, 100, 130, 169, 60_000,
    ])
  })

  it('should follow HeyGen’s CLI: at once, then 2 s ×2 capped at 30 s, jittered after the cap', () => {
    const heygen = anchor('heygen-cli')
    expect(heygen.nextDelay(context(0))).toBe(0)
    expect(heygen.nextDelay(context(1, 0.5))).toBe(2_000)
    expect(heygen.nextDelay(context(3, 0.5))).toBe(8_000)
    // At the cap the jitter still spreads the delay: 22.5 s to 37.5 s.
    expect(heygen.nextDelay(context(9, 0))).toBe(22_500)
    expect(heygen.nextDelay(context(9, 0.999))).toBeCloseTo(37_500, -2)
  })

  it('should start the challenge clients with a look at once', () => {
    const a = anchor('challenge-a')
    expect([0, 1, 2, 20].map((d) => a.nextDelay(context(d)))).toEqual([0, 1_000, 2_000, 60_000])
    const b = anchor('challenge-b')
    expect([0, 1, 2, 9].map((d) => b.nextDelay(context(d, 0.5)))).toEqual([0, 1_000, 2_000, 5_000])
  })

  it('should follow the AWS waiter: at once, then U(2 s, 2 s·2^(k−1)), 120 s past the ceiling', () => {
    const aws = anchor('aws')
    expect(aws.nextDelay(context(0))).toBe(0)
    expect(aws.nextDelay(context(1, 0.999))).toBeCloseTo(2_000, -2)
    expect(aws.nextDelay(context(3, 0.999))).toBeCloseTo(8_000, -2)
    expect(aws.nextDelay(context(3, 0))).toBe(2_000)
    expect(aws.nextDelay(context(8, 0))).toBe(120_000)
  })

  it('should let Azure follow Retry-After after a first look at once', () => {
    const azure = anchor('azure')
    expect(azure.nextDelay(context(0))).toBe(0)
    expect(azure.nextDelay(context(1))).toBe(2_000)
    expect(azure.nextDelay({ ...context(1), hints: { retryAfterMs: 7_000 } })).toBe(7_000)
  })
})

describe('the lab', () => {
  const tiny: Profile = {
    jobs: 40,
    samples: 5_000,
    seed: 3,
    contenders: [DEFAULT, ...ANCHORS.filter((a) => a.id === 'openai')],
    workloads: WORKLOADS.filter((w) => w.id === 'W1' || w.id === 'W4'),
    draws: [4],
  }

  it('should give the same report, byte for byte, for the same seed', async () => {
    const first = await runLab(tiny)
    const second = await runLab(tiny)
    expect(report(second, tiny, 'x')).toBe(report(first, tiny, 'x'))
    // W1 again on another draw, the default beside the plain loop, in the targets and a table.
    const w1 = first.find((r) => r.workload.id === 'W1')
    expect(w1?.draws?.map((d) => [d.seed, d.results.map((r) => r.contender.id)])).toEqual([
      [4, ['default', 'fixed-5.4']],
    ])
    expect(report(first, tiny, 'x')).toMatch(
      /W1, the p95 target on 1 other draw of 40 jobs[\s\S]*## W1 on other draws\n/,
    )
    expect(chart(second)).toBe(chart(first))
    const w4 = first.find((r) => r.workload.id === 'W4')
    // Every job of the faulty workload still ends completed, for every schedule.
    for (const result of w4?.results ?? []) expect(result.all.failures).toBe(0)
  })

  it('should find the default meeting the hinted and faulty targets on the quick profile', async () => {
    const results = await runLab(QUICK)
    const get = (workload: string, contender: string) => {
      const found = results
        .find((r) => r.workload.id === workload)
        ?.results.find((r) => r.contender.id === contender)
      if (!found) throw new Error(`${workload} ${contender}`)
      return found.all
    }
    expect(get('W2', 'default').requests).toBeLessThanOrEqual(6)
    expect(get('W2', 'default').p95Ms).toBeLessThanOrEqual(500)
    expect(get('W4', 'default').failures).toBe(0)
    expect(get('W4', 'default').requests).toBeLessThanOrEqual(1.2 * get('W2', 'default').requests)
    // On W1, no anchor both cheaper and faster at p95.
    const w1 = get('W1', 'default')
    for (const anchor of ['previous-default', 'openai', 'aws']) {
      const other = get('W1', anchor)
      expect(other.requests < w1.requests && other.p95Ms < w1.p95Ms).toBe(false)
    }
  })
})
