import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { jobBody } from '../../test/fake-fetch.js'
import type { Job } from '../types.js'
import {
  type AdaptiveOptions,
  type AdaptivePolling,
  type AdaptiveState,
  adaptivePolling,
} from './adaptive.js'
import type { PollContext } from './strategy.js'

const CREATED = Date.parse('2026-01-01T00:00:00.000Z')

/** A job `ageMs` old, as the server shows it. */
function job(id: string, ageMs: number, overrides: Partial<Job> = {}): Job {
  return jobBody({
    id,
    eta_ms: null,
    created_at: new Date(CREATED).toISOString(),
    updated_at: new Date(CREATED + ageMs).toISOString(),
    ...overrides,
  }) as unknown as Job
}

function context(overrides: Partial<PollContext> = {}): PollContext {
  return {
    attempt: 1,
    delays: 1,
    elapsedMs: 0,
    ageMs: 0,
    job: undefined,
    hints: {},
    previousDelayMs: undefined,
    random: () => 0,
    ...overrides,
  }
}

/** Teaches `strategy` that `count` jobs took `durationMs` each. */
function teach(strategy: AdaptivePolling, durationMs: number, count: number, prefix = 'done') {
  for (let i = 0; i < count; i++) {
    strategy.observe?.(job(`${prefix}_${i}`, durationMs, { status: 'completed', progress: 1 }), 0)
  }
}

/** The ages at which a job of `durationMs` is checked, the last one seeing it done. */
function checks(strategy: AdaptivePolling, durationMs: number, id = 'job_x'): number[] {
  const ages: number[] = []
  let age = 0
  while (ages.length < 500) {
    age += strategy.nextDelay(context({ ageMs: age, job: job(id, age) }))
    ages.push(age)
    if (age >= durationMs) return ages
  }
  throw new Error('no end in 500 checks')
}

describe('adaptivePolling', () => {
  it('should place checks at a price near zero as often as it may, not as seldom', () => {
    const strategy = adaptivePolling({ requestCostMs: 1e-320 })
    teach(strategy, 20_000, 10)
    const ages = checks(strategy, 20_000)
    // Every minIntervalMs (100 ms) at most: the plan is the fastest, never the 2 min ceiling.
    expect(Math.max(...ages.map((age, i) => age - (ages[i - 1] ?? 0)))).toBeLessThan(20_000)
    expect(ages.at(-1) as number).toBeLessThan(20_500)
  })

  it('should follow a higher price with a longer ceiling, unless one is given', () => {
    const HOURS = 2 * 3_600_000
    const count = (options: AdaptiveOptions) => {
      const strategy = adaptivePolling(options)
      teach(strategy, HOURS, 30)
      return checks(strategy, HOURS).length
    }
    // Before any end is plausible, a 2 min ceiling is 60 checks of a 2-hour job.
    const held = count({ requestCostMs: 3_000, maxIntervalMs: 120_000 })
    expect(held).toBeGreaterThanOrEqual(60)
    expect(count({ requestCostMs: 3_000 })).toBeLessThan(held / 2)
    // At the default price, the default ceiling as it was.
    expect(count({})).toBe(count({ maxIntervalMs: 120_000 }))
  })

  it('should learn how long jobs take: no check long before they end, few after', () => {
    const strategy = adaptivePolling()
    const cold = checks(strategy, 20_000)
    teach(strategy, 20_000, 50)
    const warm = checks(strategy, 20_000)
    expect(warm.length).toBeLessThan(cold.length)
    // The jobs have all taken 20 s (spread over ±20 % by the sketch's kernel).
    expect(warm[0]).toBeGreaterThan(12_000)
    expect((warm.at(-1) as number) - 20_000).toBeLessThan(2_500)
  })

  it('should place checks from the job’s age, so a wait that starts late is placed right', () => {
    const strategy = adaptivePolling()
    teach(strategy, 20_000, 50)
    const fromStart = strategy.nextDelay(context({ ageMs: 0 }))
    const late = strategy.nextDelay(context({ ageMs: 19_000 }))
    expect(fromStart).toBeGreaterThan(10_000)
    expect(late).toBeLessThan(3_000)
  })

  it('should space a fresh client’s checks out as a job ages past an hour, not crowd them before it', () => {
    // Nothing learned: the prior (a second to an hour, and its tail to a day) places the checks.
    const strategy = adaptivePolling()
    const gapAt = (minutes: number) => strategy.nextDelay(context({ ageMs: minutes * 60_000 }))
    // Longer near the hour than at 20 min (a prior ending at the hour shortened them to 15 s
    // before it), and past it below the 2-minute ceiling (where they all were) yet longer than
    // at 20 min.
    expect(gapAt(55)).toBeGreaterThan(gapAt(20))
    const past = [65, 90, 120, 180, 240].map(gapAt)
    expect(Math.max(...past)).toBeLessThan(120_000)
    expect(Math.min(...past)).toBeGreaterThan(gapAt(20))
  })

  /** Teaches `strategy` `count` jobs of `durationMs`, each created after the one before ended. */
  function teachInTurn(strategy: AdaptivePolling, durationMs: number, count: number, from: number) {
    for (let i = 0; i < count; i++) {
      const createdAt = from + i * (durationMs + 1_000)
      const seen = (status: 'pending' | 'completed', age: number) =>
        strategy.observe?.(
          jobBody({
            id: `turn_${from}_${i}`,
            status,
            progress: status === 'completed' ? 1 : 0,
            eta_ms: null,
            created_at: new Date(CREATED + createdAt).toISOString(),
            updated_at: new Date(CREATED + createdAt + age).toISOString(),
          }) as unknown as Job,
          age,
        )
      // Seen made (its create's answer), then ended.
      seen('pending', 0)
      seen('completed', durationMs)
    }
    return from + count * (durationMs + 1_000)
  }

  it('should forget most of its past when jobs in a row, one after the other, fall outside it', () => {
    const strategy = adaptivePolling()
    let at = teachInTurn(strategy, 900_000, 200, 0)
    const firstCheck = () => checks(strategy, 10_000, 'next')[0] as number
    expect(firstCheck()).toBeGreaterThan(30_000)
    // Two short jobs: a fluke, maybe; the films still weigh most.
    at = teachInTurn(strategy, 10_000, 2, at)
    const afterTwo = firstCheck()
    // A third in a row: the jobs changed.
    teachInTurn(strategy, 10_000, 1, at)
    expect(firstCheck()).toBeLessThan(15_000)
    expect(afterTwo).toBeGreaterThan(3 * firstCheck())
    // The state it exports now holds the change, not the 200 films.
    const restored = adaptivePolling({ state: strategy.exportState() })
    expect(checks(restored, 10_000, 'next')[0]).toBeLessThan(15_000)
  })

  it('should notice a change in a program that waits for one job per run, saving its state', () => {
    const trained = adaptivePolling()
    let at = teachInTurn(trained, 900_000, 200, 0)
    let saved = JSON.parse(JSON.stringify(trained.exportState())) as AdaptiveState
    const firstCheck = (state: AdaptiveState) =>
      checks(adaptivePolling({ state }), 10_000, 'next')[0] as number
    expect(firstCheck(saved)).toBeGreaterThan(30_000)
    // Three runs, one short job each: the run of surprises goes on from one to the next.
    for (let run = 0; run < 3; run++) {
      const strategy = adaptivePolling({ state: saved })
      at = teachInTurn(strategy, 10_000, 1, at)
      saved = JSON.parse(JSON.stringify(strategy.exportState())) as AdaptiveState
    }
    expect(firstCheck(saved)).toBeLessThan(15_000)
  })

  it('should take a saved state’s odd prior or run of surprises without harm', () => {
    const trained = adaptivePolling()
    teachInTurn(trained, 30_000, 50, 0)
    const state = trained.exportState()
    const plain = checks(adaptivePolling({ state }), 30_000, 'next')
    // A prior larger than the weights it is in counts as all of them, no more; an empty run of
    // surprises is no run, nor endless early ends.
    const odd = {
      ...state,
      prior: 1e9,
      surprising: { durations: [], endedAt: 5 },
      sooner: { ends: Number.POSITIVE_INFINITY, expected: 1, durations: [Number.NaN] },
    }
    const restored = adaptivePolling({ state: odd }).exportState()
    // The bins of 1 s to 1 h (250 ms × 1.05^28 to 1.05^196), where the prior lies.
    const lightest = Math.min(...state.durations.slice(28, 197))
    expect(restored.prior).toBeGreaterThan(0)
    expect(restored.prior).toBeLessThanOrEqual(lightest)
    expect(restored.surprising).toBeUndefined()
    expect(restored.sooner).toBeUndefined()
    expect(checks(adaptivePolling({ state: odd }), 30_000, 'next').length).toBe(plain.length)
  })

  it('should learn from a saved state as it would have gone on learning', () => {
    const live = adaptivePolling()
    let at = teachInTurn(live, 30_000, 3, 0)
    const restored = adaptivePolling({ state: live.exportState() })
    at = teachInTurn(live, 31_000, 1, at)
    teachInTurn(restored, 31_000, 1, at - 32_000)
    const a = live.exportState().durations
    const b = restored.exportState().durations
    // The prior is known as such after a restore too: the fourth job is spread alike.
    expect(Math.max(...a.map((w, i) => Math.abs(w - (b[i] as number))))).toBeLessThan(0.01)
  })

  /** Durations spread like the lab's (e^±1.5 around 30 s), in an order that is no trend. */
  const spread = (count: number, offset = 0) =>
    Array.from(
      { length: count },
      (_, i) => 30_000 * Math.exp(((i * 37 + offset) % count) / 100 - 1.5),
    )
  /** The sketch's total weight: a change keeps a thousandth of it. */
  const weight = (strategy: AdaptivePolling) =>
    strategy.exportState().durations.reduce((sum, w) => sum + w, 0)
  /** Jobs made at once (a waitAll's), each seen running, then the first `ends` seen ending. */
  function together(strategy: AdaptivePolling, durations: number[], ends: number): unknown[] {
    for (const [i] of durations.entries()) strategy.observe?.(job(`batch_${i}`, 0), 0)
    const order = [...durations.keys()].sort(
      (a, b) => (durations[a] as number) - (durations[b] as number),
    )
    return order.slice(0, ends).map((i) => {
      const durationMs = durations[i] as number
      return strategy.observe?.(
        job(`batch_${i}`, durationMs, { status: 'completed', progress: 1 }),
        0,
      )
    })
  }

  it('should not take jobs that ran together ending shortest first for a change', () => {
    const trained = adaptivePolling()
    for (const [i, durationMs] of spread(300).entries())
      teachInTurn(trained, durationMs, 1, i * 1e6)
    const state = trained.exportState()
    // A waitAll of 300 jobs like those learned: the ones seen ending first are the shortest, as
    // many as 300 jobs at their age make likely.
    const batch = adaptivePolling({ state })
    together(batch, spread(300, 11), 8)
    // Learned as such, but no start over: the 300 jobs still weigh (a start over keeps a
    // thousandth of them).
    expect(weight(batch)).toBeGreaterThan(0.9 * weight(adaptivePolling({ state })))
    // Jobs of a tenth of those learned, one after the other: a change at the third.
    const inTurn = adaptivePolling({ state })
    teachInTurn(inTurn, 3_000, 2, 1e9)
    expect(weight(inTurn)).toBeGreaterThan(0.9 * weight(adaptivePolling({ state })))
    teachInTurn(inTurn, 3_000, 1, 2e9)
    expect(weight(inTurn)).toBeLessThan(0.2 * weight(adaptivePolling({ state })))
  })

  it('should not take instant, failed or unseen ends for a change', () => {
    const trained = adaptivePolling()
    for (const [i, durationMs] of spread(300).entries())
      teachInTurn(trained, durationMs, 1, i * 1e6)
    const state = trained.exportState()
    /** How many of `ends` made it start over (keeping a thousandth of its weight). */
    const replans = (strategy: AdaptivePolling, ends: Job[]) =>
      ends.filter((end) => {
        const before = weight(strategy)
        strategy.observe?.(end, 0)
        return weight(strategy) < 0.2 * before
      }).length
    // Results the server had already (0 ms), one after the other, between jobs like those learned.
    const instant = adaptivePolling({ state })
    const cached = spread(40).map((d, i) => {
      const at = (i + 1) * 1e9
      return [0, d].map((durationMs, k) => {
        const made = { created_at: new Date(CREATED + at + k * 1e6).toISOString() }
        instant.observe?.(job(`c_${i}_${k}`, 0, made), 0)
        const ended = new Date(CREATED + at + k * 1e6 + durationMs).toISOString()
        return job(`c_${i}_${k}`, durationMs, { ...made, status: 'completed', updated_at: ended })
      })
    })
    expect(replans(instant, cached.flat())).toBe(0)
    // Twenty inputs refused together, failing within a second of being made.
    const refused = adaptivePolling({ state })
    for (let i = 0; i < 20; i++) refused.observe?.(job(`r_${i}`, 0, { status: 'pending' }), 0)
    const failures = Array.from({ length: 20 }, (_, i) =>
      job(`r_${i}`, 200 + 20 * i, { status: 'error', progress: 0 }),
    )
    expect(replans(refused, failures)).toBe(0)
    // A batch like those learned, first seen at its end (a wait begun late), shortest first.
    const late = adaptivePolling({ state })
    const ends = spread(300, 11)
      .sort((a, b) => a - b)
      .map((d, i) => job(`l_${i}`, d, { status: 'completed', progress: 1 }))
    expect(replans(late, ends)).toBe(0)
    expect(weight(late)).toBeGreaterThan(0.5 * weight(adaptivePolling({ state })))
  })

  it('should tell jobs made together that end far sooner than learned for a change', () => {
    const films = adaptivePolling()
    teachInTurn(films, 600_000, 100, 0)
    const state = films.exportState()
    // 50 jobs of 13-22 s made at once where 10-minute films were learned, one end after another.
    const clips = spread(50).map((d) => d * 2)
    const weights = Array.from({ length: 10 }, (_, ends) => {
      const strategy = adaptivePolling({ state })
      together(strategy, clips, ends + 1)
      return weight(strategy)
    })
    // Neither learned nor a change while two have ended (a fluke, maybe)...
    expect(weights.slice(0, 2)).toEqual([weight(films), weight(films)])
    // ...a change by the eighth: 50 jobs that old were expected to bring a fifth of an end.
    const changedAt = weights.findIndex((w) => w < 0.2 * weight(films)) + 1
    expect(changedAt).toBeGreaterThanOrEqual(3)
    expect(changedAt).toBeLessThanOrEqual(8)
    // Said once, at the change (the checks of jobs in flight are then placed again).
    const after = adaptivePolling({ state })
    const said = together(after, clips, 8)
    expect(said.map((s, i) => (s === 'replan' ? i + 1 : 0)).filter(Boolean)).toEqual([changedAt])
    // The clips after it are placed as clips: checked within 30 s of being made.
    expect(checks(after, 20_000, 'next')[0]).toBeLessThan(30_000)
  })

  it('should learn each job once, however many waits saw it end', () => {
    const once = adaptivePolling()
    const twice = adaptivePolling()
    teach(once, 20_000, 10)
    teach(twice, 20_000, 10)
    teach(twice, 20_000, 10) // the same ids again
    expect(twice.exportState()).toEqual(once.exportState())
  })

  it('should not learn a canceled job’s duration', () => {
    const strategy = adaptivePolling()
    const before = strategy.exportState()
    strategy.observe?.(job('c', 5_000, { status: 'canceled' }), 5_000)
    expect(strategy.exportState()).toEqual(before)
  })

  it('should export what it learned as a small JSON value that a new strategy starts from', () => {
    const trained = adaptivePolling()
    for (let i = 0; i < 2_000; i++) {
      teach(trained, 1_000 + ((i * 7_919) % 600_000), 1, `j${i}`)
    }
    const json = JSON.stringify(trained.exportState())
    expect(json.length).toBeLessThanOrEqual(3_000)
    const restored = adaptivePolling({ state: JSON.parse(json) })
    expect(checks(restored, 30_000)).toEqual(checks(trained, 30_000))
  })

  it('should carry on that the server’s ETAs are as of its answers, not losing a run’s first ETAs', () => {
    // Queued 5 s saying the work's 3 s, then 3 s at work, ETAs counting down at each answer while
    // `updated_at` moves only with the status.
    const follow = (strategy: AdaptivePolling, id: string) => {
      for (let age = 0; age <= 8_000; age += 1_000) {
        const status = age >= 8_000 ? 'completed' : age >= 5_000 ? 'running' : 'pending'
        const eta = status === 'completed' ? 0 : status === 'running' ? 8_000 - age : 3_000
        const updated = status === 'completed' ? 8_000 : status === 'running' ? 5_000 : 0
        strategy.observe?.(job(id, updated, { status, eta_ms: eta, progress: 0.5 }), age)
      }
    }
    const first = adaptivePolling()
    follow(first, 'job_1')
    const saved = first.exportState()
    expect(saved.etasAsOfAnswers).toBe(true)
    // The first run found it on its job's running ETAs, and lost that job's queued ones; a run
    // from the state reads them from its first answer and learns them.
    const next = adaptivePolling({ state: saved })
    follow(next, 'job_2')
    expect(next.exportState().queuedEtaRatios).not.toEqual(saved.queuedEtaRatios)
    const unsaved = adaptivePolling({ state: { ...saved, etasAsOfAnswers: undefined } })
    follow(unsaved, 'job_2')
    expect(unsaved.exportState().queuedEtaRatios).toEqual(saved.queuedEtaRatios)
  })

  it('should keep its state within 4 kB whatever it learned: durations, ETAs queued and running, estimates', () => {
    const strategy = adaptivePolling()
    for (let i = 0; i < 3_000; i++) {
      const id = `j${i}`
      const duration = 1_000 + ((i * 7_919) % 3_000_000)
      const queuedEta = i % 3 === 0 ? 1_000 + ((i * 31) % 100_000) : null
      strategy.observe?.(job(id, 0, { status: 'pending', eta_ms: queuedEta }), 0)
      const runningEta = i % 3 === 1 ? 1_000 + ((i * 17) % 900_000) : null
      const running = job(id, 10, { status: 'running', eta_ms: runningEta })
      strategy.observe?.(running, 10)
      const expectedMs = 1 + ((i * 7_717) % 10_000_000)
      strategy.nextDelay(context({ ageMs: 10, job: running, expectedMs }))
      strategy.observe?.(job(id, duration, { status: 'completed', progress: 1 }), duration)
    }
    const state = strategy.exportState()
    expect(state.queuedEtaRatios).toBeDefined()
    expect(state.expectedRatios).toBeDefined()
    expect(JSON.stringify(state).length).toBeLessThanOrEqual(4_000)
  })

  it('should place checks from a state read back as the strategy that saved it, while the prior still counts', () => {
    for (const jobs of [3, 20, 100]) {
      const trained = adaptivePolling()
      teachInTurn(trained, 30_000, jobs, 0)
      const restored = adaptivePolling({ state: JSON.parse(JSON.stringify(trained.exportState())) })
      expect(restored.exportState()).toEqual(trained.exportState())
      for (const duration of [5_000, 20_000, 45_000, 300_000]) {
        expect(checks(restored, duration)).toEqual(checks(trained, duration))
      }
    }
  })

  it('should start from its prior when the state given does not fit', () => {
    const broken = adaptivePolling({
      state: { version: 2, durations: [1, 2], etaRatios: [] },
    })
    expect(checks(broken, 30_000)).toEqual(checks(adaptivePolling(), 30_000))
    // A state of the first version: its durations were in bins 20 % apart, relearned; its ETA
    // errors (bins unchanged) kept.
    const etaRatios = adaptivePolling()
      .exportState()
      .etaRatios.map((w, i) => w + (i === 60 ? 5 : 0))
    const older = { version: 1, durations: new Array<number>(74).fill(1), etaRatios }
    const relearning = adaptivePolling({ state: older as unknown as AdaptiveState })
    expect(checks(relearning, 30_000)).toEqual(checks(adaptivePolling(), 30_000))
    expect(relearning.exportState().etaRatios).toEqual(etaRatios)
    // A version it does not know, and weights no fading sketch can hold (edited, corrupted):
    // not read.
    const trained = adaptivePolling()
    for (let i = 0; i < 40; i++)
      trained.observe?.(job(`t${i}`, 2_000, { status: 'completed' }), 2_000)
    const saved = trained.exportState()
    expect(checks(adaptivePolling({ state: saved }), 30_000)).not.toEqual(
      checks(adaptivePolling(), 30_000),
    )
    const later = { ...saved, version: 99 } as unknown as AdaptiveState
    expect(checks(adaptivePolling({ state: later }), 30_000)).toEqual(
      checks(adaptivePolling(), 30_000),
    )
    const huge = { ...saved, durations: saved.durations.map((w, i) => (i === 40 ? 1e308 : w)) }
    expect(checks(adaptivePolling({ state: huge }), 30_000)).toEqual(
      checks(adaptivePolling(), 30_000),
    )
    // ETA errors weighing 950 in all, where fading keeps about 50: not read either.
    const heavy = { ...saved, etaRatios: saved.etaRatios.map((w) => w + 10) }
    const fresh = adaptivePolling().exportState().etaRatios
    expect(adaptivePolling({ state: heavy }).exportState().etaRatios).toEqual(fresh)
    const light = { ...saved, etaRatios: saved.etaRatios.map((w) => w + 1) }
    expect(adaptivePolling({ state: light }).exportState().etaRatios).not.toEqual(fresh)
  })

  it('should use the ETA, checking near its plausible end rather than sleeping through it', () => {
    const strategy = adaptivePolling()
    // Jobs whose ETAs were right to within a few per cent.
    for (let i = 0; i < 30; i++) {
      strategy.observe?.(job(`e${i}`, 0, { eta_ms: 40_000 }), 0)
      strategy.observe?.(job(`e${i}`, 40_000, { status: 'completed', progress: 1 }), 40_000)
    }
    const fresh = job('fresh', 0, { eta_ms: 40_000 })
    strategy.observe?.(fresh, 0)
    const delay = strategy.nextDelay(
      context({ ageMs: 0, job: fresh, hints: { etaMs: 40_000, retryAfterMs: 40_000 } }),
    )
    expect(delay).toBeGreaterThan(30_000)
    expect(delay).toBeLessThanOrEqual(40_000)
  })

  it('should place an outlived ETA’s job by the durations learned, not every maxIntervalMs', () => {
    const withEta = adaptivePolling()
    const without = adaptivePolling()
    teach(withEta, 60_000, 30)
    teach(without, 60_000, 30)
    // ETA 4 s at age 0; the job runs on past ten times that.
    const stalled = job('stalled', 0, { eta_ms: 4_000 })
    withEta.observe?.(stalled, 0)
    const at = (strategy: AdaptivePolling, ageMs: number) =>
      strategy.nextDelay(context({ ageMs, job: stalled, hints: { etaMs: 4_000 } }))
    // Within the errors learned, the ETA places the check; past them, the durations do.
    expect(at(withEta, 5_000)).toBeLessThan(at(without, 5_000))
    expect(at(withEta, 50_000)).toBe(at(without, 50_000))
    expect(at(withEta, 50_000)).toBeLessThan(30_000)
  })

  it('should take an ETA under a second once: said again, the job outlived it', () => {
    const strategy = adaptivePolling()
    teach(strategy, 60_000, 30)
    const id = 'stuck'
    // The estimate counts down to 0 and stays there while the job goes on.
    strategy.observe?.(job(id, 20_000, { eta_ms: 10_000 }), 20_000)
    strategy.observe?.(job(id, 30_000, { eta_ms: 0 }), 30_000)
    const anyMoment = strategy.nextDelay(context({ ageMs: 30_000, job: job(id, 30_000) }))
    expect(anyMoment).toBeLessThan(1_000)
    strategy.observe?.(job(id, 31_000, { eta_ms: 0 }), 31_000)
    // Not another look 100 ms after each answer: the first short ETA, outlived tenfold, leaves
    // the checks to the durations learned.
    const after = strategy.nextDelay(context({ ageMs: 31_000, job: job(id, 31_000) }))
    expect(after).toBeGreaterThan(1_000)
    const fresh = adaptivePolling()
    teach(fresh, 60_000, 30)
    expect(after).toBe(fresh.nextDelay(context({ ageMs: 31_000, job: job(id, 31_000) })))
  })

  it('should not check every minIntervalMs while an ETA stays at 0, whatever minIntervalMs', () => {
    for (const minIntervalMs of [100, 2_000]) {
      const strategy = adaptivePolling({ minIntervalMs })
      teach(strategy, 60_000, 30)
      const id = `stuck_${minIntervalMs}`
      let checks = 0
      // Each answer (updated_at moving with progress) says 0 ms left, from 30 s to 60 s.
      for (let age = 30_000; age < 60_000; checks++) {
        strategy.observe?.(job(id, age, { eta_ms: 0 }), age)
        age += strategy.nextDelay(context({ ageMs: age, job: job(id, age) }))
      }
      expect(checks, `minIntervalMs ${minIntervalMs}`).toBeLessThan(15)
    }
  })

  it('should read an ETA said again unchanged as of when it was first said (a frozen estimate)', () => {
    const strategy = adaptivePolling()
    const id = 'frozen'
    strategy.observe?.(job(id, 10_000, { eta_ms: 40_000 }), 10_000)
    const first = strategy.nextDelay(context({ ageMs: 10_000, job: job(id, 10_000) }))
    // 20 s on, the server says 40 s again (its updated_at moved): not 40 s from now.
    strategy.observe?.(job(id, 30_000, { eta_ms: 40_000 }), 30_000)
    const again = strategy.nextDelay(context({ ageMs: 30_000, job: job(id, 30_000) }))
    expect(10_000 + first).toBeLessThan(40_000)
    expect(30_000 + again).toBeLessThan(45_000)
    // A new estimate counting down is read as said.
    strategy.observe?.(job(id, 35_000, { eta_ms: 30_000 }), 35_000)
    const counted = strategy.nextDelay(context({ ageMs: 35_000, job: job(id, 35_000) }))
    expect(35_000 + counted).toBeGreaterThan(50_000)
  })

  it('should read ETAs as of the answers from a server whose updated_at moves with the status alone', () => {
    const strategy = adaptivePolling()
    teach(strategy, 60_000, 30)
    // Running since age 0 (updated_at then), each answer says the time left from now: 30 s.
    const id = 'counting'
    const at = (age: number) => job(id, 0, { eta_ms: 30_000 - age })
    strategy.observe?.(at(0), 0)
    strategy.observe?.(at(10_000), 10_000)
    // Read as of updated_at, the ETA said at 10 s ended at 20 s, outlived; read as of the
    // answer, the job ends near 30 s: the look goes near it, not long after.
    const delay = strategy.nextDelay(context({ ageMs: 10_000, job: at(10_000) }))
    expect(10_000 + delay).toBeGreaterThan(24_000)
    expect(10_000 + delay).toBeLessThanOrEqual(30_000)
    // Learned for the server: the next job's first ETA is read so at once.
    strategy.observe?.(job('next', 0, { eta_ms: 20_000 }), 5_000)
    const next = strategy.nextDelay(context({ ageMs: 5_000, job: job('next', 0) }))
    expect(5_000 + next).toBeGreaterThan(19_000)
    expect(5_000 + next).toBeLessThanOrEqual(25_000)
  })

  it('should measure progress’s pace between answers when updated_at does not move with it', () => {
    const delayAt180 = (updatedAtMoves: boolean) => {
      const strategy = adaptivePolling()
      teach(strategy, 600_000, 30)
      // 10 % a minute from 60 s on: done at about 10 min.
      const at = (age: number) =>
        job('paced', updatedAtMoves ? age : 0, { progress: (age - 60_000) / 600_000 + 0.1 })
      for (const age of [60_000, 120_000, 180_000]) strategy.observe?.(at(age), age)
      return strategy.nextDelay(context({ ageMs: 180_000, job: at(180_000) }))
    }
    // As where updated_at moves with progress: no pace of 0 s between answers (no ETA at all),
    // and no look long after the end.
    expect(delayAt180(false)).toBe(delayAt180(true))
    expect(180_000 + delayAt180(true)).toBeLessThan(600_000)
  })

  it('should not read a fresh ETA from progress that has stopped moving (a bar stuck at 99 %)', () => {
    const checksOf = (progressAt: (age: number) => number) => {
      const strategy = adaptivePolling()
      teach(strategy, 1_200_000, 30)
      let checks = 0
      for (let age = 60_000; age < 1_200_000; checks++) {
        const seen = job('bar', age, { status: 'running', progress: progressAt(age) })
        strategy.observe?.(seen, age)
        age += strategy.nextDelay(context({ ageMs: age, job: seen }))
      }
      return checks
    }
    const none = checksOf(() => 0)
    // At 99 % from the start, each answer's pace said a hundredth of the job's age was left.
    // (255 checks then, against 27 without progress; a few now, while the first ETA is outlived.)
    expect(checksOf(() => 0.99)).toBeLessThan(none * 1.5)
    // Moving at the pace the job ends by, it places checks near the end.
    expect(checksOf((age) => age / 1_200_000)).toBeLessThan(none)
  })

  it('should read a new stage’s progress (gone back to near 0) at its own pace', () => {
    const delayAt80 = (stages: boolean) => {
      const strategy = adaptivePolling()
      teach(strategy, 600_000, 30)
      const seen = (age: number, progress: number) => {
        const at = job('staged', age, { status: 'running', progress })
        strategy.observe?.(at, age)
        return at
      }
      seen(60_000, stages ? 0.5 : 0.3)
      seen(70_000, stages ? 0.1 : 0.5)
      const last = seen(80_000, stages ? 0.2 : 0.5)
      return strategy.nextDelay(context({ ageMs: 80_000, job: last }))
    }
    // A tenth in 10 s, 80 % left: about 80 s more, the first look some way into it; not where
    // one stage's pace (a fifth in 10 s, half left at 70 s: 25 s more) would put it.
    const staged = delayAt80(true)
    expect(staged).toBeGreaterThan(30_000)
    expect(staged).toBeLessThan(80_000)
    expect(delayAt80(false)).toBeLessThan(30_000)
  })

  it('should place checks by the caller’s estimates (expectedMs), learning how far off they are', () => {
    // Jobs take half their video's length (±10 %), videos from 20 s to 40 min: one duration
    // distribution fits them badly, the video's length tells each.
    let seed = 7
    const random = () => {
      seed = (seed * 16_807) % 2_147_483_647
      return seed / 2_147_483_647
    }
    const lengths = Array.from({ length: 80 }, () => 20_000 * 120 ** random())
    /** `given`: the factor the estimate is of the video's length (0: none given). */
    const run = (given: number) => {
      const strategy = adaptivePolling()
      let requests = 0
      let late = 0
      for (const [i, length] of lengths.entries()) {
        const duration = length * (0.45 + 0.1 * random())
        const id = `job_${i}`
        let age = 0
        let count = 0
        while (age < duration) {
          const at = context({ ageMs: age, job: job(id, age) })
          age += strategy.nextDelay(given ? { ...at, expectedMs: length * given } : at)
          count++
        }
        strategy.observe?.(job(id, duration, { status: 'completed', progress: 1 }), age)
        // The last 40 jobs, once both learned.
        if (i >= 40) {
          requests += count / 40
          late += (age - duration) / 40 / duration
        }
      }
      return { requests, late, state: strategy.exportState() }
    }
    const without = run(0)
    const known = run(1)
    expect(known.requests).toBeLessThan(without.requests * 0.8)
    expect(known.late).toBeLessThan(without.late * 0.8)
    // Estimates far off, one way or the other (a service 20 times faster than the video): the
    // error is learned, each as good once it is.
    for (const factor of [20, 1 / 20]) {
      const off = run(factor)
      expect(off.requests).toBeLessThan(without.requests * 0.8)
      expect(off.late).toBeLessThan(without.late * 0.8)
    }
    // What it learned of the estimates is kept; a strategy never given one keeps none.
    expect(known.state.expectedRatios?.length).toBe(145)
    expect(without.state.expectedRatios).toBeUndefined()
    // A video of 100 s, so a job of about 50 s: no look before about 40 s once learned; the
    // prior of estimates (a factor of four either way) looks from 25 s.
    const firstLook = (strategy: AdaptivePolling) =>
      strategy.nextDelay(context({ ageMs: 0, job: job('job_new', 0), expectedMs: 100_000 }))
    const learned = firstLook(adaptivePolling({ state: known.state }))
    expect(learned).toBeGreaterThan(40_000)
    expect(learned).toBeLessThan(50_000)
    expect(firstLook(adaptivePolling())).toBeLessThan(30_000)
  })

  it('should learn apart the ETAs of queued jobs, which may leave out the wait before the work', () => {
    // A server telling a queued job how long its work takes (60 s), not its wait (0-120 s): once
    // running, its ETAs are right.
    const queues = Array.from({ length: 60 }, (_, i) => ((i * 37) % 13) * 10_000)
    const strategy = adaptivePolling()
    /** One job waited for: its checks placed by the strategy, each answer as the server says. */
    const follow = (id: string, queue: number) => {
      const at = (age: number): Job =>
        age >= queue + 60_000
          ? job(id, queue + 60_000, { status: 'completed', progress: 1, eta_ms: 0 })
          : age < queue
            ? job(id, age, { status: 'pending', eta_ms: 60_000 })
            : job(id, age, { status: 'running', eta_ms: queue + 60_000 - age })
      let age = 0
      let seen = at(0)
      let checks = 0
      strategy.observe?.(seen, 0)
      while (seen.status !== 'completed') {
        age += strategy.nextDelay(context({ ageMs: age, job: seen }))
        seen = at(age)
        strategy.observe?.(seen, age)
        checks++
      }
      return { checks, late: age - queue - 60_000 }
    }
    const last = queues.map((queue, i) => follow(`job_${i}`, queue)).slice(30)
    const mean = (f: (r: { checks: number; late: number }) => number) =>
      last.reduce((sum, r) => sum + f(r), 0) / last.length
    // Learned with the running jobs' ETAs, the queued ones' spread both: 6.7 checks a job and
    // 0.37 s late; apart, 5.4 and 0.14 s.
    expect(mean((r) => r.checks)).toBeLessThan(6)
    expect(mean((r) => r.late)).toBeLessThan(250)
    expect(strategy.exportState().queuedEtaRatios?.length).toBe(95)
  })

  it('should take a Retry-After given alone as the soonest look: above maxIntervalMs up to maxHintMs, the rule’s when later', () => {
    const strategy = adaptivePolling({ maxIntervalMs: 30_000, maxHintMs: 300_000 })
    const delay = (hints: PollContext['hints']) =>
      strategy.nextDelay(context({ hints, random: () => 0 }))
    const own = delay({})
    expect(own).toBeGreaterThan(1_000)
    expect(delay({ retryAfterMs: 60_000 })).toBe(60_000)
    expect(delay({ retryAfterMs: 3_600_000 })).toBe(300_000)
    // A server saying 0, or 1 s, on every answer is not looked at every 100 ms, or every second.
    expect(delay({ retryAfterMs: 0 })).toBe(own)
    expect(delay({ retryAfterMs: 1_000 })).toBe(own)
    expect(delay({ retryAfterMs: own + 1 })).toBe(own + 1)
  })

  it('should never look sooner than a Retry-After given alone, whatever it learned', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 600_000 }),
        fc.integer({ min: 0, max: 10_000_000 }),
        fc.integer({ min: 1_000, max: 3_600_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (retryAfterMs, ageMs, durationMs, r) => {
          const strategy = adaptivePolling({ maxHintMs: 300_000 })
          teach(strategy, durationMs, 20)
          const delay = strategy.nextDelay(
            context({ ageMs, hints: { retryAfterMs }, random: () => r }),
          )
          return (
            delay >= Math.min(retryAfterMs, 300_000) && delay <= Math.max(retryAfterMs, 120_000)
          )
        },
      ),
    )
  })

  it('should keep every delay within its bounds and never wait longer than the rule says', () => {
    fc.assert(
      fc.property(
        fc.record({
          minIntervalMs: fc.integer({ min: 1, max: 5_000 }),
          maxIntervalMs: fc.integer({ min: 5_000, max: 600_000 }),
          requestCostMs: fc.integer({ min: 1, max: 100_000 }),
        }),
        fc.integer({ min: 0, max: 10_000_000 }),
        fc.option(fc.integer({ min: 0, max: 3_600_000 }), { nil: undefined }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (options: AdaptiveOptions, ageMs, etaMs, r) => {
          const strategy = adaptivePolling(options)
          const seen = job('p', ageMs, { eta_ms: etaMs ?? null })
          strategy.observe?.(seen, ageMs)
          const at = (random: () => number) =>
            strategy.nextDelay(context({ ageMs, job: seen, hints: { etaMs }, random }))
          const delay = at(() => r)
          const unjittered = at(() => 0)
          const { minIntervalMs = 0, maxIntervalMs = 0 } = options
          return delay >= minIntervalMs && delay <= maxIntervalMs && delay <= unjittered
        },
      ),
    )
  })
})
