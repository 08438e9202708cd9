/**
 * The physical limit: for a known distribution of durations, the checking schedule that
 * minimises `price * checks + lateness` on average (Barlow, Hunter and Proschan 1963), found
 * exactly by dynamic programming over a fine grid of check times. Swept over prices, the
 * schedules trace the frontier no schedule can beat on average: at its mean number of checks,
 * none has a lower mean lateness.
 */
import { createRandom } from '@video-translation/mock-server'

/**
 * Check times may fall on this grid: 0, then 100 ms growing by 0.1 % a step (a 0.4 % grid left
 * the frontier 1.4-3 % above the exact optimum at the cheapest prices, where gaps are short).
 */
const GRID_START_MS = 100
const GRID_RATIO = 1.001

/** A distribution known through many draws: its CDF and partial means on the grid. */
export interface GridDistribution {
  times: number[]
  /** P(T <= times[i]). */
  cdf: number[]
  /** E[T; T <= times[i]]. */
  partialMean: number[]
}

/** Tabulates `draw` (one duration in ms per call) from `samples` draws. */
export function tabulate(draw: (random: () => number) => number, samples: number, seed: number) {
  const random = createRandom(seed)
  const values = Array.from({ length: samples }, () => draw(random)).sort((a, b) => a - b)
  const last = values[values.length - 1] as number
  const times = [0]
  for (let t = GRID_START_MS; ; t *= GRID_RATIO) {
    times.push(Math.min(t, last))
    if (t >= last) break
  }
  const cdf: number[] = []
  const partialMean: number[] = []
  let k = 0
  let sum = 0
  for (const t of times) {
    while (k < values.length && (values[k] as number) <= t) sum += values[k++] as number
    cdf.push(k / values.length)
    partialMean.push(sum / values.length)
  }
  return { times, cdf, partialMean } satisfies GridDistribution
}

/** The optimal check times (ms after the job's start) when a check costs `priceMs` of lateness. */
export function optimalSchedule(dist: GridDistribution, priceMs: number): number[] {
  const { times, cdf, partialMean } = dist
  const n = times.length
  // cost[i]: the least expected cost from "checked at times[i], not done yet" (unnormalised).
  const cost = new Float64Array(n)
  const next = new Int32Array(n).fill(-1)
  for (let i = n - 2; i >= 0; i--) {
    const alive = 1 - (cdf[i] as number)
    if (alive <= 0) continue
    let best = Number.POSITIVE_INFINITY
    for (let j = i + 1; j < n; j++) {
      const ended = (cdf[j] as number) - (cdf[i] as number)
      const late =
        (times[j] as number) * ended - ((partialMean[j] as number) - (partialMean[i] as number))
      // `late` only grows with j and the rest is at least the check's price: no later j can do
      // better (exact; it makes the fine grid affordable).
      if (priceMs * alive + late >= best) break
      const total = priceMs * alive + late + (cost[j] as number)
      if (total < best) {
        best = total
        next[i] = j
      }
    }
    cost[i] = best
  }
  const schedule: number[] = []
  for (let i = next[0] as number; i > 0; i = next[i] as number) schedule.push(times[i] as number)
  return schedule
}

/**
 * Requests and lateness of each job of `durations` under a fixed schedule of check times; a job
 * longer than the last check (longer than every draw the schedule was made for) is checked on at
 * the schedule's last gap.
 */
export function evaluate(schedule: readonly number[], durations: readonly number[]) {
  const last = schedule.at(-1) ?? 0
  const gap = Math.max(1, last - (schedule.at(-2) ?? 0))
  return durations.map((d) => {
    if (d > last) {
      const more = Math.ceil((d - last) / gap)
      return { requests: schedule.length + more, latencyMs: last + more * gap - d }
    }
    let k = 0
    while ((schedule[k] as number) < d) k++
    return { requests: k + 1, latencyMs: (schedule[k] as number) - d }
  })
}
