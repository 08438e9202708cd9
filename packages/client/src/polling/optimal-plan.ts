/**
 * The exact optimal checking schedule for a known distribution of durations (Barlow, Hunter and
 * Proschan 1963), by dynamic programming over a grid of check times (1.5 % apart, closer where
 * jobs end), for any age at once: each check placed to minimise `price * checks + lateness` on
 * average from there. Lateness `L` may be weighed as `L + L² / (2 * curve)`: a long wait then
 * costs more than its share, which shortens the longest gaps (the p95) for about the same checks
 * and mean. The distribution is a sketch's (sketch.ts): weights in log-spaced bins, each spread
 * evenly within its bin, over a faint floor.
 */

/** The grid: points about this ratio apart (1.5 %) at least. */
const PLAN_SPACING = 1.015
/**
 * Closer where jobs end, so that about GAP_POINTS points fall within the optimal gap between two
 * checks there (`sqrt(2 * price / hazard)`, Keller's), up to MAX_STEPS points a bin: at long
 * ages 1.5 % of the age is wider than that gap (108 s at 2 h, the gap 50 s), and checks on the
 * grid came up to a gap late (jobs of 2 h: 49 s mean lateness, 32 s for the optimum at as
 * many requests).
 */
const GAP_POINTS = 3
const MAX_STEPS = 24
/**
 * The most points added to the grid in all, shared in proportion to what the bins ask: the plan
 * costs the grid's square (about 3 ms at 1,600 points), and a price near nothing, or the fit
 * spread over every bin while few jobs are known, would ask for many times more.
 */
const EXTRA_POINTS = 800

/** A sketch's bins: their `edges` (one more than the bins), log-spaced `logRatio` apart. */
export interface Bins {
  edges: readonly number[]
  logRatio: number
}

/**
 * The optimal checks at `priceMs` a check, lateness weighed as `L + L² / (2 * curveMs)`, for
 * durations weighing `weights` in `bins` over `floor` in each: a function from a job's age (not
 * yet done) to when to check next (its age then), Infinity past the range. Costs O(grid²),
 * 1-5 ms: make it again only when enough has changed.
 */
export function optimalPlan(
  bins: Bins,
  weights: readonly number[],
  floor: number,
  priceMs: number,
  curveMs: number,
): (age: number) => number {
  const { edges } = bins
  // The grid, with the weight below each point and the partial first and second moments to it.
  const times = [0]
  const below = [0]
  const moment = [0]
  const square = [0]
  let weight = 0
  let first = 0
  let second = 0
  const steps = gridSteps(bins, weights, floor, priceMs)
  weights.forEach((w, i) => {
    const low = edges[i] as number
    const high = edges[i + 1] as number
    const density = (w + floor) / (high - low)
    const n = steps[i] as number
    for (let k = 1; k <= n; k++) {
      const t = low * (high / low) ** (k / n)
      times.push(t)
      below.push(weight + density * (t - low))
      moment.push(first + (density * (t * t - low * low)) / 2)
      square.push(second + (density * (t ** 3 - low ** 3)) / 3)
    }
    weight += w + floor
    first += (density * (high * high - low * low)) / 2
    second += (density * (high ** 3 - low ** 3)) / 3
  })
  // cost[i]: the least `price * checks + lateness` (times the weight) from "checked at times[i],
  // not done yet"; next[i]: the check that achieves it.
  const n = times.length
  const cost = new Float64Array(n)
  const next = new Int32Array(n).fill(n - 1)
  for (let i = n - 2; i >= 0; i--) {
    const alive = weight - (below[i] as number)
    let best = Number.POSITIVE_INFINITY
    for (let j = i + 1; j < n; j++) {
      const ended = (below[j] as number) - (below[i] as number)
      // Σ (t - x) and Σ (t - x)² over the jobs ending in (times[i], t]: checked at t.
      const t = times[j] as number
      const sum = (moment[j] as number) - (moment[i] as number)
      const late = t * ended - sum
      const squared = t * t * ended - 2 * t * sum + (square[j] as number) - (square[i] as number)
      const total = priceMs * alive + late + squared / (2 * curveMs) + (cost[j] as number)
      if (total < best) {
        best = total
        next[i] = j
      }
    }
    cost[i] = best
  }
  return (age) => {
    if (!(age < (times[n - 1] as number))) return Number.POSITIVE_INFINITY
    // The first grid point at or after `age` (binary search): a check made a little before
    // the planned point (jitter) stands for it, rather than being followed by it.
    let lo = -1
    let hi = n - 1
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1
      if ((times[mid] as number) >= age) hi = mid
      else lo = mid
    }
    return times[next[hi] as number] as number
  }
}

/**
 * Grid points in each bin: PLAN_SPACING apart, or GAP_POINTS to the optimal gap between checks
 * where jobs end, within MAX_STEPS a bin and EXTRA_POINTS in all. The floor's tail keeps the
 * fewest: its gaps are long (the longest delay caps them).
 */
function gridSteps(
  { edges, logRatio }: Bins,
  weights: readonly number[],
  floor: number,
  priceMs: number,
): number[] {
  const fewest = Math.max(1, Math.round(logRatio / Math.log(PLAN_SPACING)))
  let alive = weights.reduce((sum, w) => sum + w + floor, 0)
  const wanted = weights.map((w, i) => {
    const width = (edges[i + 1] as number) - (edges[i] as number)
    const gap = Math.sqrt((2 * priceMs * Math.max(0, alive) * width) / w)
    alive -= w + floor
    const points = Math.ceil((GAP_POINTS * width) / gap)
    // No weight (an infinite gap), or no price and no weight left (0 / 0): the fewest.
    return Number.isNaN(points) ? 0 : Math.min(MAX_STEPS, Math.max(fewest, points)) - fewest
  })
  const asked = wanted.reduce((sum, n) => sum + n, 0)
  const share = asked > EXTRA_POINTS ? EXTRA_POINTS / asked : 1
  return wanted.map((n) => fewest + Math.floor(n * share))
}
