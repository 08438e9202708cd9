/**
 * The whole lab: every contender on every workload, the optimal frontier of each, and the
 * figures the report and the chart are made of. Pure data out; report.ts and chart.ts render it.
 */
import {
  ADAPTIVE_SWEEP,
  ANCHORS,
  type Contender,
  DEFAULT,
  DEFAULT_SHARED,
  FIXED_SWEEP,
  NEVER_LEARNING,
} from './anchors.js'
import { frontierAt, type Summary, summarize } from './metrics.js'
import { evaluate, optimalSchedule, tabulate } from './optimal.js'
import { type JobOutcome, simulate } from './simulate.js'
import { drawJobs, WORKLOADS, type Workload } from './workloads.js'

/** How big a lab run is. */
export interface Profile {
  jobs: number
  /** Draws that stand for each workload's true distribution. */
  samples: number
  seed: number
  contenders: readonly Contender[]
  workloads: readonly Workload[]
  /**
   * Other draws of the hint-less workload (W1) the default and a fixed loop are run on too: one
   * draw's 1,000 jobs move requests and p95 by several percent, and a target met on one draw may
   * not be on another.
   */
  draws: readonly number[]
}

export const FULL: Profile = {
  jobs: 1_000,
  samples: 200_000,
  seed: 1,
  contenders: [
    DEFAULT,
    DEFAULT_SHARED,
    NEVER_LEARNING,
    ...ADAPTIVE_SWEEP,
    ...ANCHORS,
    ...FIXED_SWEEP,
  ],
  workloads: WORKLOADS,
  draws: [2, 3, 4, 5, 6, 7, 8, 9],
}

/** For CI: fewer jobs and contenders, same code paths. */
export const QUICK: Profile = {
  jobs: 200,
  samples: 20_000,
  seed: 1,
  contenders: [
    DEFAULT,
    ...ANCHORS.filter((a) => ['previous-default', 'openai', 'aws'].includes(a.id)),
  ],
  workloads: WORKLOADS,
  draws: [2],
}

/** The contenders run on other draws of W1: the default and the plain loop it is compared to. */
const ON_OTHER_DRAWS = [DEFAULT, ...FIXED_SWEEP.filter((c) => c.id === 'fixed-5.4')]

/**
 * Prices of a request (ms of lateness) the frontier is drawn at: from a quarter of a ms (checks
 * a few hundred ms apart, past the fixed 1 s loop's requests on every workload) to about 3 min.
 */
export const FRONTIER_PRICES = Array.from({ length: 41 }, (_, i) => 1.4 ** (i - 4))

/** Jobs whose figures are reported apart: the first tenth is learned from, not yet known. */
export const COLD_SHARE = 0.1

/** A contender's figures on one workload. */
export interface Result {
  contender: Contender
  all: Summary
  /** The first COLD_SHARE of the jobs, and the rest. */
  cold: Summary
  warm: Summary
  /** Mean lateness over the optimal's at equal mean requests, minus 1, on the same jobs. */
  gap: { all: number | undefined; cold: number | undefined; warm: number | undefined }
  /** Shift workload: the gap in windows of 100 jobs after the change. */
  windows?: { from: number; gap: number | undefined }[]
}

/** One workload's figures. */
export interface WorkloadResult {
  workload: Workload
  results: Result[]
  /** The optimal schedules' figures on all jobs, one point per price. */
  frontier: Summary[]
  /** W1: figures on the profile's other draws (each contender's, one entry a draw). */
  draws?: { seed: number; results: Result[] }[]
}

/** Runs the lab; `progress` hears of each finished run. */
export async function runLab(
  profile: Profile,
  progress: (line: string) => void = () => {},
): Promise<WorkloadResult[]> {
  const out: WorkloadResult[] = []
  for (const workload of profile.workloads) {
    const schedules = optimalSchedules(workload, profile)
    const run = async (contenders: readonly Contender[], seed: number) => {
      const durations = drawJobs(workload, profile.jobs, seed).map((j) => j.durationMs)
      const optimal = optimalFrontier(schedules, durations)
      const results: Result[] = []
      for (const contender of contenders) {
        const plan = {
          workload,
          strategy: contender.make(),
          count: profile.jobs,
          seed,
          // The client as it comes (auto) where the server pushes; a polling schedule elsewhere.
          transport:
            workload.push && (contender === DEFAULT || contender === DEFAULT_SHARED)
              ? ('auto' as const)
              : ('poll' as const),
          shareRequests: contender.shareRequests ?? false,
        }
        const outcomes = await simulate(plan)
        results.push(describe(contender, outcomes, optimal, workload, profile.jobs))
        progress(`${workload.id}${seed === profile.seed ? '' : ` (draw ${seed})`} ${contender.id}`)
      }
      return { results, frontier: optimal(0, profile.jobs) }
    }
    const result: WorkloadResult = { workload, ...(await run(profile.contenders, profile.seed)) }
    if (workload.id === 'W1') {
      result.draws = []
      for (const seed of profile.draws) {
        result.draws.push({ seed, results: (await run(ON_OTHER_DRAWS, seed)).results })
      }
    }
    out.push(result)
  }
  return out
}

/** Each phase of `workload`: the optimal schedules for its true distribution, one a price. */
function optimalSchedules(workload: Workload, profile: Profile) {
  return workload.phases.map((position, p) => {
    const dist = tabulate((r) => workload.duration(position, r), profile.samples, 1_000 + p)
    return { position, schedules: FRONTIER_PRICES.map((price) => optimalSchedule(dist, price)) }
  })
}

/**
 * The frontier on any range of a draw's jobs: each phase's optimal schedules evaluated on
 * exactly those jobs.
 */
function optimalFrontier(schedules: ReturnType<typeof optimalSchedules>, durations: number[]) {
  const phases = schedules.map(({ position, schedules }) => ({
    from: Math.round(position * durations.length),
    schedules,
  }))
  return (from: number, to: number): Summary[] =>
    FRONTIER_PRICES.map((_, k) => {
      const evaluated = []
      for (let p = 0; p < phases.length; p++) {
        const start = Math.max(from, phases[p]?.from ?? 0)
        const end = Math.min(to, phases[p + 1]?.from ?? durations.length)
        if (start >= end) continue
        const schedule = phases[p]?.schedules[k] ?? []
        evaluated.push(...evaluate(schedule, durations.slice(start, end)))
      }
      return summarize(evaluated)
    })
}

function describe(
  contender: Contender,
  outcomes: JobOutcome[],
  optimal: (from: number, to: number) => Summary[],
  workload: Workload,
  count: number,
): Result {
  const split = Math.round(count * COLD_SHARE)
  const part = (from: number, to: number) => {
    const summary = summarize(outcomes.slice(from, to))
    const best = frontierAt(optimal(from, to), summary.requests)
    return { summary, gap: best === undefined ? undefined : summary.meanMs / best - 1 }
  }
  const all = part(0, count)
  const cold = part(0, split)
  const warm = part(split, count)
  const result: Result = {
    contender,
    all: all.summary,
    cold: cold.summary,
    warm: warm.summary,
    gap: { all: all.gap, cold: cold.gap, warm: warm.gap },
  }
  const change = workload.phases[1]
  if (change !== undefined) {
    const at = Math.round(change * count)
    result.windows = []
    for (let from = at; from + 100 <= count; from += 100) {
      result.windows.push({ from, gap: part(from, from + 100).gap })
    }
  }
  return result
}
