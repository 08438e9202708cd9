/**
 * The adaptive polling strategy, the default: it learns how long this client's jobs take and how
 * far off the server's ETAs are, and places each check by the optimal-checking rule (see
 * sketch.ts) for what it learned, conditioned on the job's age. One knob, `requestCostMs`: what
 * one status request is worth in milliseconds of learning late. The strategy lab
 * (`pnpm bench:strategies`, docs/strategies.md) measures it against other SDKs' schedules and
 * against the optimal schedule for the true distribution.
 *
 * - With an ETA (`eta_ms`, or one implied by `progress`), the time left is the ETA times a
 *   learned error ratio, so the first check comes near the earliest plausible end and each
 *   answer's fresher ETA tightens the next. Queued jobs' ETAs have a ratio of their own (a server
 *   may leave the wait out of them); without one, the caller's `expectedMs` stands for one.
 * - A `Retry-After` without an ETA is a floor: no check before it (up to `maxHintMs`), and the
 *   rule's own when that is later.
 * - Without hints, checks follow the learned duration distribution from the job's age, so a wait
 *   resumed late is placed right, and while no job can have finished, checks are at most one
 *   every `maxIntervalMs`.
 */
import { DEFAULTS, withDefaults } from '../defaults.js'
import type { Job } from '../types.js'
import { isTerminalStatus } from '../types.js'
import { ChangeWatch } from './change.js'
import { shownAge } from './hints.js'
import { LogSketch, roundWeight } from './sketch.js'
import { checkPollingOptions, floorOf, type PollContext, type PollingStrategy } from './strategy.js'

/** What the strategy learned: a small JSON value (1-2.5 kB) to save and pass back later. */
export interface AdaptiveState {
  /** 2 since durations are kept in bins 5 % apart (a version 1 state's durations are relearned). */
  version: 2
  /** Weights of job durations, in ms, on the bins of DURATIONS. */
  durations: number[]
  /** Weights of (time the job really had left) / `eta_ms`, on the bins of ETA_RATIOS. */
  etaRatios: number[]
  /**
   * The same of ETAs given while jobs were queued (`pending`): absent until one was. A server
   * may tell a queued job how long its work takes, not its wait.
   */
  queuedEtaRatios?: number[] | undefined
  /**
   * Weights of (the job's duration) / the caller's `expectedMs`, on the bins of EXPECTED_RATIOS;
   * absent until a wait gave one.
   */
  expectedRatios?: number[] | undefined
  /** How much of each duration bin from 1 s to 1 h is still the prior, not jobs seen. */
  prior?: number | undefined
  /**
   * The last jobs in a row, one after the other, that outlived the durations learned (not in
   * `durations` yet), and when the last of them ended (server time, ms): a program that waits for
   * one job per run carries the run on to the next.
   */
  surprising?: { durations: number[]; endedAt: number } | undefined
  /**
   * The last run of jobs that ended early in the durations learned: how many, the ends the
   * durations expected meanwhile of every job followed, and the durations held out of
   * `durations` until judged. Carried on to the next run alike.
   */
  sooner?: { ends: number; expected: number; durations: number[] } | undefined
  /**
   * Whether the server's ETAs and progress are as of its answers, not of the job's `updated_at`
   * (found once one moved while `updated_at` did not): a later run reads them so from the start,
   * rather than finding it again on each run's first job and losing that job's ETAs so far.
   */
  etasAsOfAnswers?: boolean | undefined
}

/** Options of `adaptivePolling`. */
export interface AdaptiveOptions {
  /**
   * What one status request is worth in milliseconds of learning of the end late: higher spends
   * fewer requests, lower learns sooner. At the default, a job of the lab's hint-less workload
   * (lognormal, median 30 s) costs about 9.0 requests and is known 2.5 s after it ends on
   * average (5.2 s at p95); with ETAs off by up to 20 %, 2.9 requests and 0.4 s at p95.
   * @default 300
   */
  requestCostMs?: number | undefined
  /** The shortest delay. @default 100 */
  minIntervalMs?: number | undefined
  /**
   * The longest delay the strategy chooses by itself: it bounds how late an end far sooner than
   * learned is known, and sets how often a job of hours is checked before any end is plausible.
   * Longer than other strategies' default: where the learned durations have a gap (short clips
   * and long films, say), checking in it is waste, and the lab shows a 30 s bound costing 10 %
   * more lateness at equal requests there. Unless given, it follows a `requestCostMs` above the
   * default as the rule's own delays do, with its square root: 2 min at the default price (or
   * below), 6.3 min at 3 s a request (2-hour jobs: 37 requests a job, 77 s late on average,
   * where a 2 min ceiling held them at 64 requests and 57 s; 144 and 17 s at the default price).
   * @default 120_000 * max(1, sqrt(requestCostMs / 300))
   */
  maxIntervalMs?: number | undefined
  /**
   * The longest `Retry-After` waited out (a longer one is read as this). A `Retry-After` without
   * an ETA is the soonest look, not a schedule: the rule's delay when that is later.
   * @default 300_000
   */
  maxHintMs?: number | undefined
  /**
   * Use `eta_ms` when the server sends it. A `Retry-After` without one is waited out either
   * way: it is the server's instruction (or the open circuit breaker's).
   * @default true
   */
  useServerHints?: boolean | undefined
  /** What an earlier run learned (`exportState()`); ignored when it does not fit. */
  state?: AdaptiveState | undefined
}

/** The adaptive strategy, with what it learned. */
export interface AdaptivePolling extends PollingStrategy {
  /** What it learned so far, to pass as `state` to a later client. */
  exportState(): AdaptiveState
}

/**
 * Durations from 250 ms to about two days, bins 5 % apart: fine enough for jobs that all take
 * about as long (60 s ± 1 s, say), each spread over as many as the spread of the jobs calls for.
 */
const DURATIONS = { min: 250, ratio: 1.05, bins: 275 }
/**
 * What the durations are taken to be before any job ends: a second to an hour, as 2 jobs (as 5,
 * its share of the gap between two kinds of job drew checks there once long waits weigh more).
 */
const DURATIONS_PRIOR = { from: 1_000, to: 3_600_000, weight: 2 }
/**
 * The prior's tail, from its hour to a day, a quarter as dense a bin, in the plan alone (it
 * fades with the prior): a prior ending at an hour took a job near it as about to end (checks
 * every 15 s from 40 min on, then every 2 min past the hour). A fresh client's job without hints
 * (averaged over durations ±15 %): 30 min, 91 requests and 13 s late, now 75 and 18 s; 1 h, 183
 * and 17 s, now 121 and 22 s; 2 h, 237 and 41 s, now 188 and 25 s; 4 h, 297 and 66 s, now 318
 * and 31 s. The lab's W1 as good (docs/strategies.md); a new client a job on it, 4.6 s late on
 * average, now 5.0 s, at 3 % fewer requests.
 */
const PRIOR_TAIL = { to: 86_400_000, share: 0.25 }
/** ETA error ratios from 0.1 to 10, bins 5 % apart. */
const ETA_RATIOS = { min: 0.1, ratio: 1.05, bins: 95 }
/**
 * The caller's estimates' error ratios (`expectedMs`), from 0.001 to 1,000, bins 10 % apart: an
 * estimate may be a video's length where the work takes a twentieth of it (ETA_RATIOS' tenth
 * left such jobs checked from a tenth of the estimate on, a minute late).
 */
const EXPECTED_RATIOS = { min: 0.001, ratio: 1.1, bins: 145 }
/**
 * What they are taken to be off by before any job ends: a factor of four either way.
 */
const EXPECTED_PRIOR = { from: 0.25, to: 4, weight: 1 }
/**
 * A job's weight fades to a third after 100 more jobs (an ETA error's after 50): the sketches
 * follow a change.
 */
const DURATION_WEIGHTS = { decay: 0.99, floor: 0.1, adaptive: 0.6 }
const RATIO_WEIGHTS = { decay: 0.98, floor: 0.05 }
/**
 * What a change (change.ts) leaves of the past: a trace (the jobs that told it weigh thirty
 * times as much).
 */
const AFTER_CHANGE = 0.001
/**
 * The durations' plan weighs lateness `L` as `L + L² / (2 * CURVE * price)` (21 s at the
 * default): a long wait costs more than its share, so the longest waits shorten. Its checks are
 * priced PLAN_PRICE times the knob, which pays for the ones the curve adds: on W1 (32 draws of
 * the lab's hint-less workload, 1,000 jobs each) p95 2.8 % lower (none over 5.7 s; was 1) at
 * 0.9 % more requests. ETAs place checks at the knob's price (they have no long waits to cut).
 */
const CURVE = 60
const PLAN_PRICE = 7 / 6
/**
 * While the jobs learned weigh less than 50 (about the first 70, and again after a change), a
 * lognormal fitted to them (a Student t on the log scale) is added to the plan's picture,
 * weighing 40 at first and less as they come: the first jobs say where the durations lie, not
 * yet how long their tail is, and the longest waits of a cold start fall there (W1's first 100
 * jobs: 5 % from the optimum on average over 32 draws, was 13 %). Its spread starts at a
 * factor e (σ = 1, in bins).
 */
const FIT = { weight: 40, until: 50, spread: 1 / Math.log(DURATIONS.ratio) }
/** How many learned jobs make the durations' plan worth making again, once past the first. */
const REPLAN_EVERY = 10
/** An ETA this short is about the server's rounding as much as about the job's end. */
const SHORT_ETA_MS = 1_000
/** ETA observations kept per job, and jobs followed at once. */
const ETAS_PER_JOB = 8
const JOBS_FOLLOWED = 1_000
/**
 * Up to 10 % earlier than the rule says, never later: jitter costs a few requests, and lateness
 * only where jobs all take the same time (a check meant for their end comes before it, the next
 * after: jobs of exactly 60 s cost 3 requests and 0.7 s, where a check at 60 s would be 1 and 0).
 * On the durations' plan a check made early stands for the point it was meant for
 * (the next goes where that point's would), so jobs created together stay within one jitter of
 * each other (measured: 300 jobs created at once, their checks within 0.4-1 s), not in exact
 * step. A wider spread (each job on its own time scale) cost the lab's cold start 9 points of
 * lateness against the optimum, averaged over four seeds.
 */
const JITTER = 0.1

/**
 * Creates the adaptive strategy. Pass it as `polling` to share what it learns across clients,
 * or to save it: `JSON.stringify(strategy.exportState())`.
 * @example const polling = adaptivePolling({ requestCostMs: 1_000, state: saved })
 */
export function adaptivePolling(options: AdaptiveOptions = {}): AdaptivePolling {
  checkPollingOptions(options)
  const defaults = { ...DEFAULTS.polling, ...DEFAULTS.adaptive }
  const priced = withDefaults(defaults, { requestCostMs: options.requestCostMs })
  // The ceiling follows a price of a request above the default's (see `maxIntervalMs`).
  const scale = Math.max(1, Math.sqrt(priced.requestCostMs / defaults.requestCostMs))
  const resolved = withDefaults(
    { ...priced, maxIntervalMs: defaults.maxIntervalMs * scale },
    options,
  )
  const { requestCostMs, maxIntervalMs, maxHintMs, useServerHints } = resolved
  const minIntervalMs = floorOf(options, resolved)
  // A state of a version it does not know (a later release's) is not read: its numbers may mean
  // otherwise. (A version 1 state's durations do not fit the bins: relearned.)
  const { version } = options.state ?? {}
  const state = (version as number) === 1 || version === 2 ? options.state : undefined
  const durations = new LogSketch(DURATIONS, DURATION_WEIGHTS, state?.durations)
  const ratios = new LogSketch(ETA_RATIOS, RATIO_WEIGHTS, state?.etaRatios)
  // Before any job ends (and after a change): anything from a second to an hour, equally likely
  // on a log scale (and its tail to a day, in the plan: `PRIOR_TAIL`); ETAs right to within 40 %.
  const { from, to, weight } = DURATIONS_PRIOR
  const durationsPrior = () => durations.spread(from, to, weight)
  if (durations.isEmpty()) durationsPrior()
  else durations.restorePrior(from, to, state?.prior ?? 0)
  if (ratios.isEmpty()) ratios.spread(0.7, 1.4, 1)
  const queuedRatios = new LogSketch(ETA_RATIOS, RATIO_WEIGHTS, state?.queuedEtaRatios)
  const expectedRatios = new LogSketch(EXPECTED_RATIOS, RATIO_WEIGHTS, state?.expectedRatios)
  /** Per job: the caller's estimate of its duration, until it ends. */
  const expectations = new Map<string, number>()
  /**
   * Per job: its ETAs as (age at `updated_at`, eta as given, whether it was queued then), newest
   * last, until it ends.
   */
  const etas = new Map<string, [at: number, eta: number, queued: boolean][]>()
  /** Per job: the first progress seen, as (age at `updated_at`, progress), and the last. */
  const paces = new Map<string, [number, number, number]>()
  /**
   * Whether the server's ETAs and progress are as of its answers, not of the job's `updated_at`:
   * seen once a job's ETA or progress changed while its `updated_at` did not (a server moving
   * it with the status alone). They are then read as of the job's age at the answer: read as
   * of an `updated_at` left behind, each ETA seemed outlived, and a 10 s job was known 6 s late.
   */
  let asOfAnswers = state?.etasAsOfAnswers === true
  /** Jobs already learned from (a job seen ending by two waits counts once). */
  const ended = new Set<string>()
  const budget = Math.sqrt(2 * requestCostMs)
  /**
   * The optimal checks for the durations learned so far (1-5 ms to make): made again after
   * each of the first REPLAN_EVERY jobs learned, then after every REPLAN_EVERY-th.
   */
  let planned: ((age: number) => number) | undefined
  let learned = 0
  /** Tells when the jobs no longer take what was learned. */
  const change = new ChangeWatch(state)

  /** What the plan adds to the durations learned: the fit while they are few; the prior's tail. */
  function extraWeights(): number[] {
    const fit = durations.fit(FIT.weight, FIT.until, FIT.spread)
    const tail = durations.priorTail(PRIOR_TAIL.to, PRIOR_TAIL.share)
    return fit ? tail.map((w, i) => w + (fit[i] as number)) : tail
  }

  /** The delay the rule gives (an ETA's, else the durations'), before jitter and bounds. */
  function choose(context: PollContext): number {
    const age = context.ageMs ?? context.elapsedMs
    const seen = useServerHints && context.job ? etas.get(context.job.id)?.at(-1) : undefined
    if (seen) {
      const [seenAt, given, queued] = seen
      // An ETA of 0 on a job still running says "any moment".
      const eta = Math.max(minIntervalMs, given)
      const next = (queued ? queuedRatios : ratios).next(
        (age - seenAt) / eta,
        budget / Math.sqrt(eta),
      )
      // Outlived past every error learned (10 times the ETA): the ETA says nothing of this job
      // any more, and the durations learned place its checks.
      if (Number.isFinite(next)) return seenAt + eta * next - age
    }
    // No ETA: the caller's estimate of the whole, from the job's creation, through the ratio
    // learned of such estimates; outlived past every ratio learned, the durations place.
    const expected = context.expectedMs
    if (expected !== undefined && context.job) {
      if (expectedRatios.isEmpty()) {
        expectedRatios.spread(EXPECTED_PRIOR.from, EXPECTED_PRIOR.to, EXPECTED_PRIOR.weight)
      }
      // (The latest given: its error is learned at the end.)
      const { id } = context.job
      if (expectations.has(id)) expectations.set(id, expected)
      else follow(expectations, id, expected)
      const next = expectedRatios.next(age / expected, budget / Math.sqrt(expected))
      if (Number.isFinite(next)) return expected * next - age
    }
    const price = requestCostMs * PLAN_PRICE
    // A curve of a millisecond at least: a price near zero would make it divide by nothing.
    const curveMs = Math.max(1, CURVE * price)
    planned ??= durations.plan(price, curveMs, extraWeights())
    return planned(age) - age
  }

  return {
    nextDelay(context) {
      const jittered = choose(context) * (1 - JITTER * context.random())
      const { retryAfterMs, etaMs } = context.hints
      // A `Retry-After` alone (the server's, or the open circuit's) is when a look is worth
      // making at the soonest: never sooner, later when the rule says so (a server asking for a
      // look every second, or saying 0, on jobs that take minutes is not looked at that often).
      // Beside an ETA it is read as that ETA rounded up to whole seconds, and the ETA places.
      const notBefore = etaMs === undefined || !useServerHints ? (retryAfterMs ?? 0) : 0
      const delay = Math.max(notBefore, Math.min(maxIntervalMs, jittered))
      // The floor wins over the ceiling: never faster than `minIntervalMs`.
      return Math.max(minIntervalMs, Math.min(Math.max(maxIntervalMs, maxHintMs), delay))
    },
    observe(job: Job, ageMs: number | undefined) {
      // A change told misplaces every check planned before it: placed again.
      if (isTerminalStatus(job.status)) return learn(job)
      // At risk of ending from now on (a late answer about a job seen ending is not).
      const age = Math.max(ageMs ?? 0, shownAge(job) ?? 0)
      if (!ended.has(job.id)) change.seen(job.id, Date.parse(job.created_at), age)
      // An ETA is read as of the job's `updated_at` (the representation it belongs to), which
      // both times are on the server's clock: no offset from when the answer arrived. Or as of
      // the answer, the job's age then, from a server that counts them so (`asOfAnswers`).
      let seenAt = asOfAnswers ? (ageMs ?? shownAge(job)) : shownAge(job)
      if (seenAt === undefined) return
      const eta = useServerHints ? (job.eta_ms ?? etaFromProgress(job, seenAt, ageMs)) : null
      if (eta === null) return
      // Queued, its ETA is learned apart: it may be of the work alone, not of the wait before.
      const queued = job.status === 'pending'
      if (queued && queuedRatios.isEmpty()) queuedRatios.spread(0.7, 1.4, 1)
      const seen = etas.get(job.id) ?? follow(etas, job.id, [])
      let last = seen.at(-1)
      if (!asOfAnswers && ageMs !== undefined && last?.[0] === seenAt && last[1] !== eta) {
        asOfAnswers = true
        seenAt = ageMs
        seen.length = 0
        last = undefined
      }
      // An ETA under a second says "any moment" once; said again, the job outlived the first
      // (an estimate stuck at 0 on a job that goes on), and the first stands: outlived tenfold,
      // the durations learned place the checks (not another look 100 ms after each answer).
      if (eta < SHORT_ETA_MS && (last?.[1] ?? SHORT_ETA_MS) < SHORT_ETA_MS) return
      // The same ETA said again later is not counting down (an estimate the server froze): the
      // first stands, and once outlived the durations learned place the checks.
      if (last && eta === last[1] && seenAt >= last[0] && queued === last[2]) return
      seen.push([seenAt, eta, queued])
      if (seen.length > ETAS_PER_JOB) seen.shift()
    },
    exportState: () => ({
      version: 2,
      durations: durations.toJSON(),
      etaRatios: ratios.toJSON(),
      ...(queuedRatios.isEmpty() ? {} : { queuedEtaRatios: queuedRatios.toJSON() }),
      ...(expectedRatios.isEmpty() ? {} : { expectedRatios: expectedRatios.toJSON() }),
      prior: roundWeight(durations.priorWeight()),
      ...(asOfAnswers && { etasAsOfAnswers: true }),
      ...change.toJSON(),
    }),
  }

  /**
   * Without `eta_ms`, a running job's progress implies one: at the pace since the first progress
   * this strategy saw of it, the rest takes (1 − p) / pace. It goes through the same learned
   * error ratio as a server's ETA. From the first progress seen alone, none: the pace since the
   * job's creation counts the time it was queued (a tenth of a 30 s job: seen at 4.8 s, 7 %
   * done, it said 67 s, and the job was known 15 s after its end).
   */
  function etaFromProgress(job: Job, seenAt: number, ageMs: number | undefined): number | null {
    const { id, status, progress } = job
    // Below 5 %, a step of rounding is a large share of it: no ETA worth the name yet.
    if (status !== 'running' || !(progress >= 0.05 && progress < 1)) return null
    const pace = paces.get(id)
    if (!pace) {
      follow(paces, id, [seenAt, progress, progress])
      return null
    }
    // Progress that has not moved since the last answer says nothing new: the ETA it gave when
    // it moved stands, and once outlived the durations learned place the checks (a bar stuck at
    // 99 % gave a fresh ETA of a hundredth of the job's age at each answer: a look every few s).
    const [since, from, last] = pace
    if (progress === last) return null
    // Moved while `updated_at` did not: progress is as of the answers (`asOfAnswers`), its
    // pace measured from here.
    if (!asOfAnswers && ageMs !== undefined && seenAt === since) {
      asOfAnswers = true
      paces.set(id, [ageMs, progress, progress])
      return null
    }
    // Gone back (a job reporting each stage's progress): a new stage's pace starts here.
    if (progress < last) {
      paces.set(id, [seenAt, progress, progress])
      return null
    }
    pace[2] = progress
    return ((seenAt - since) * (1 - progress)) / (progress - from)
  }

  /** Learns from a job's end; `'replan'` when it told that jobs changed. */
  function learn(job: Job): 'replan' | undefined {
    const seen = etas.get(job.id)
    const expected = expectations.get(job.id)
    etas.delete(job.id)
    paces.delete(job.id)
    expectations.delete(job.id)
    if (ended.has(job.id)) return undefined
    if (ended.size >= JOBS_FOLLOWED) ended.delete(ended.keys().next().value as string)
    ended.add(job.id)
    // Times that tell no plausible duration (a zero `created_at`) teach nothing.
    const duration = shownAge(job)
    if (job.status === 'canceled' || duration === undefined) {
      change.drop(job.id)
      return undefined
    }
    const createdAt = Date.parse(job.created_at)
    const endedAt = Date.parse(job.updated_at)
    const completed = job.status === 'completed'
    const verdict = change.ended({ id: job.id, createdAt, endedAt, duration, completed }, durations)
    if (verdict.changed) {
      // The jobs changed: the prior and the jobs that told it, learned again as if new.
      durations.fade(AFTER_CHANGE)
      durationsPrior()
      planned = undefined
    }
    for (const d of verdict.learn) durations.add(d)
    if (++learned <= REPLAN_EVERY || learned % REPLAN_EVERY === 0) planned = undefined
    // Short ETAs say more about the server's rounding than about its estimates: not learned.
    const long = seen?.filter(([, eta]) => eta >= SHORT_ETA_MS) ?? []
    for (const [seenAt, eta, queued] of long) {
      ;(queued ? queuedRatios : ratios).add((duration - seenAt) / eta, 1 / long.length)
    }
    if (expected !== undefined) expectedRatios.add(duration / expected)
    return verdict.changed ? 'replan' : undefined
  }
}

/** Sets `value` for job `id` in `map`, forgetting the oldest job past JOBS_FOLLOWED. */
function follow<V>(map: Map<string, V>, id: string, value: V): V {
  if (map.size >= JOBS_FOLLOWED) map.delete(map.keys().next().value as string)
  map.set(id, value)
  return value
}
