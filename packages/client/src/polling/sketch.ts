/**
 * A small, bounded picture of a distribution of positive values (how long jobs take, or how far
 * off the server's ETAs are) and the optimal-checking rule on it.
 *
 * The picture: weights in log-spaced bins. Each observation is spread over its bin and the two
 * next to it (a cheap kernel, so a hundred observations already give a smooth shape), or over as
 * many as the data's spread calls for (`adaptive`: narrow data stay sharp, wide data smooth),
 * and older weight fades by `decay` per observation, so the sketch follows a workload that
 * changes. Under
 * it lies a faint log-uniform floor that never fades: no value in range is ever impossible, so a
 * job older than any seen so far is still checked at a sane pace rather than at once.
 *
 * Two ways to place checks on it, each minimising `price * checks + lateness` on average:
 * - `plan`: the exact optimal schedule (Barlow, Hunter and Proschan 1963), for any age at once
 *   (optimal-plan.ts). Used for job durations, whose distribution can have gaps and sharp peaks.
 * - `next`: Keller's (1974) density `n(t) = sqrt(h(t) / (2 * price))`, h the hazard rate: the
 *   next check after `t0` is where `∫ n = 1`. With a density constant within a bin,
 *   `∫ sqrt(h) dt` over part of a bin is `2 * (sqrt(S(a)) - sqrt(S(b))) / sqrt(f)` (S the weight
 *   above), which inverts exactly. Cheap for a price that changes every call (ETA errors, scaled
 *   by each ETA), and close to exact for the smooth shapes they have.
 */
import { optimalPlan } from './optimal-plan.js'

/** The bins of a sketch: `bins` bins from `min`, each `ratio` times wider than the one before. */
export interface SketchShape {
  min: number
  ratio: number
  bins: number
}

/** How a sketch weighs what it sees. */
export interface SketchWeights {
  /** What weight the past keeps per new observation. */
  decay: number
  /** The total weight of the everlasting log-uniform floor, spread evenly over the bins. */
  floor: number
  /**
   * How an observation is spread: over its bin and the two next to it (1/4, 1/2, 1/4), or, with
   * `adaptive`, over a kernel as wide as the data are spread (Silverman's rule, in log space,
   * times `adaptive`): narrow durations stay narrow, wide ones smooth.
   */
  adaptive?: number
}

/** A sketch of a distribution on log-spaced bins. */
export class LogSketch {
  readonly #edges: number[]
  readonly #logRatio: number
  readonly #weights: number[]
  /**
   * The prior (`spread`) in the weights, faded alike: not data. One range, the same weight in
   * each of its bins.
   */
  #prior = { first: 0, last: -1, perBin: 0 }
  readonly #options: SketchWeights

  /** `weights` restores an exported sketch (ignored unless it fits the shape). */
  constructor(shape: SketchShape, options: SketchWeights, weights?: readonly number[]) {
    this.#edges = Array.from({ length: shape.bins + 1 }, (_, i) => shape.min * shape.ratio ** i)
    this.#logRatio = Math.log(shape.ratio)
    this.#options = options
    this.#weights = fits(weights, shape.bins, options.decay)
      ? [...weights]
      : new Array<number>(shape.bins).fill(0)
  }

  /** Whether nothing has been recorded or restored yet. */
  isEmpty(): boolean {
    return this.#weights.every((w) => w === 0)
  }

  /** Adds `weight` spread log-uniformly over [from, to] (a prior), without fading the rest. */
  spread(from: number, to: number, weight: number): void {
    const first = this.#bin(from)
    const last = this.#bin(to)
    const perBin = weight / (last - first + 1)
    for (let i = first; i <= last; i++) this.#put(i, perBin)
    // The same range again adds to it; another replaces it (a sketch has one prior).
    const same = this.#prior.first === first && this.#prior.last === last
    this.#prior = { first, last, perBin: (same ? this.#prior.perBin : 0) + perBin }
  }

  /** How much prior each bin of its range still holds: to save with the weights. */
  priorWeight(): number {
    return this.#prior.perBin
  }

  /**
   * Marks `perBin` of each bin of [from, to] as prior, in restored weights (adds none); at most
   * what the lightest of them holds.
   */
  restorePrior(from: number, to: number, perBin: number): void {
    const first = this.#bin(from)
    const last = this.#bin(to)
    const lightest = Math.min(...this.#weights.slice(first, last + 1))
    if (perBin >= 0) this.#prior = { first, last, perBin: Math.min(perBin, lightest) }
  }

  /** Records one observation of `value` with `weight`, fading the past by `decay`. */
  add(value: number, weight = 1): void {
    this.fade(this.#options.decay ** weight)
    const bin = this.#bin(value)
    const width = this.#options.adaptive
    if (width === undefined) {
      this.#put(bin, weight / 2)
      this.#put(Math.max(0, bin - 1), weight / 4)
      this.#put(Math.min(this.#weights.length - 1, bin + 1), weight / 4)
      return
    }
    // Silverman's bandwidth, in bins: the spread (the smaller of the deviation and the
    // interquartile range's equivalent) over the fifth root of the weight learned.
    const { deviation, iqr, total } = this.#spread()
    const bins = Math.max(
      0.5,
      (width * Math.min(deviation, iqr / 1.349)) / Math.max(1, total) ** 0.2,
    )
    const reach = Math.ceil(2.5 * bins)
    const taps: number[] = []
    for (let j = -reach; j <= reach; j++) taps.push(Math.exp(-(j * j) / (2 * bins * bins)))
    const sum = taps.reduce((a, b) => a + b, 0)
    taps.forEach((tap, k) => {
      const at = Math.min(this.#weights.length - 1, Math.max(0, bin + k - reach))
      this.#put(at, (weight * tap) / sum)
    })
  }

  /**
   * How the data are spread, in bins (the prior left out: it would widen the first jobs' kernel
   * to its own breadth): their deviation, interquartile range and total weight.
   */
  #spread(): { mean: number; deviation: number; iqr: number; total: number } {
    const { first, last, perBin } = this.#prior
    const data = this.#weights.map((w, i) =>
      i >= first && i <= last ? Math.max(0, w - perBin) : w,
    )
    let total = 0
    let mean = 0
    data.forEach((w, i) => {
      total += w
      mean += w * i
    })
    if (!(total > 0)) return { mean: 0, deviation: 0, iqr: 0, total: 0 }
    mean /= total
    let variance = 0
    let below = 0
    let q1 = -1
    let q3 = -1
    data.forEach((w, i) => {
      variance += w * (i - mean) ** 2
      below += w
      if (q1 < 0 && below >= total / 4) q1 = i
      if (q3 < 0 && below >= (3 * total) / 4) q3 = i
    })
    return { mean, deviation: Math.sqrt(variance / total), iqr: q3 - q1 + 1, total }
  }

  /** The weight of what was learned (the prior and the floor left out). */
  learnedWeight(): number {
    return this.#spread().total
  }

  /**
   * A smooth guess while the data are few: a Student t on the log scale fitted to them (the prior
   * left out), its spread drawn towards `spread` bins as if by two more observations, weighing
   * `weight` at first and nothing once the data weigh `until`. Added to `plan`'s weights, not
   * kept: a handful of jobs say where the durations lie, not yet the shape of their tail.
   */
  fit(weight: number, until: number, spread: number): number[] | undefined {
    const { mean, deviation, total } = this.#spread()
    const share = weight * (1 - total / until)
    if (!(total > 0 && share > 0)) return undefined
    const freedom = total + 2
    const scale = ((2 * spread ** 2 + total * deviation ** 2) / freedom) * (1 + 1 / total)
    const shape = this.#weights.map(
      (_, i) => (1 + (i - mean) ** 2 / (freedom * scale)) ** (-(freedom + 1) / 2),
    )
    const sum = shape.reduce((a, b) => a + b, 0)
    return shape.map((x) => (share * x) / sum)
  }

  /**
   * The prior's tail: `share` of what the prior still holds a bin, in each bin past its range up
   * to `to`. Added to `plan`'s weights, not kept: it fades with the prior as jobs are learned.
   */
  priorTail(to: number, share: number): number[] {
    const { last, perBin } = this.#prior
    const end = this.#bin(to)
    return this.#weights.map((_, i) => (i > last && i <= end ? share * perBin : 0))
  }

  /** The share of the weight (the floor's included) below `value`: where it falls, from 0 to 1. */
  shareBelow(value: number): number {
    return this.shares()(value)
  }

  /**
   * `shareBelow` for many values at one pass over the bins (the weights as they are now): the
   * adaptive strategy's change watch asks it for every job it follows at each end. With
   * `through`, the share up to the end of the value's bin: for a job seen ending there, whose
   * whole bin it lived through (jobs that all take 60 s end in one bin, and half of it made each
   * look early).
   */
  shares(): (value: number, through?: boolean) => number {
    const floor = this.#options.floor / this.#weights.length
    // Half of its own bin below each value: where in the bin it lies, the sketch does not know.
    const own = this.#weights.map((w) => w + floor)
    const before: number[] = []
    let total = 0
    for (const w of own) {
      before.push(total)
      total += w
    }
    return (value, through = false) => {
      const bin = this.#bin(value)
      return ((before[bin] as number) + (own[bin] as number) * (through ? 1 : 0.5)) / total
    }
  }

  /** Keeps `share` of every weight learned: the past counts for less than what comes next. */
  fade(share: number): void {
    this.#prior.perBin *= share
    this.#weights.forEach((w, i) => {
      this.#weights[i] = w * share
    })
  }

  #put(bin: number, weight: number): void {
    this.#weights[bin] = (this.#weights[bin] as number) + weight
  }

  /**
   * Where the next check goes after `from`: the point where `∫ sqrt(h) = budget`, or Infinity
   * when the whole range above `from` holds less.
   */
  next(from: number, budget: number): number {
    const edges = this.#edges
    const floor = this.#options.floor / this.#weights.length
    let start = Math.max(from, edges[0] as number)
    let i = this.#bin(start)
    // The weight above `start`: the rest of its bin, then every bin above.
    let above = 0
    for (let j = this.#weights.length - 1; j > i; j--) above += (this.#weights[j] as number) + floor
    let left = budget
    for (; i < this.#weights.length; i++) {
      const low = edges[i] as number
      const high = edges[i + 1] as number
      const density = ((this.#weights[i] as number) + floor) / (high - low)
      const atStart = above + density * (high - start)
      const whole = (2 * (Math.sqrt(atStart) - Math.sqrt(above))) / Math.sqrt(density)
      if (whole >= left) {
        const root = Math.sqrt(atStart) - (left * Math.sqrt(density)) / 2
        return start + (atStart - root * root) / density
      }
      left -= whole
      start = high
      above -= i + 1 < this.#weights.length ? (this.#weights[i + 1] as number) + floor : 0
    }
    return Number.POSITIVE_INFINITY
  }

  /**
   * The optimal checks at `priceMs` a check, lateness weighed as `L + L² / (2 * curveMs)`, on the
   * weights plus `extra` (one a bin, not kept): see optimal-plan.ts.
   */
  plan(
    priceMs: number,
    curveMs = Number.POSITIVE_INFINITY,
    extra?: number[],
  ): (age: number) => number {
    const bins = { edges: this.#edges, logRatio: this.#logRatio }
    const weights = this.#weights.map((w, i) => w + (extra?.[i] ?? 0))
    const floor = this.#options.floor / this.#weights.length
    return optimalPlan(bins, weights, floor, priceMs, curveMs)
  }

  /** The learned weights, each to 3 significant digits: a small JSON value. */
  toJSON(): number[] {
    return this.#weights.map(roundWeight)
  }

  #bin(value: number): number {
    const min = this.#edges[0] as number
    if (!(value > min)) return 0
    return Math.min(this.#weights.length - 1, Math.floor(Math.log(value / min) / this.#logRatio))
  }
}

/**
 * A weight to 3 significant digits (none below a millionth): small in JSON, and relative, so a
 * state read back places checks as the one saved did (to 3 decimals, the light bins where the
 * prior lies lost a third of their weight).
 */
export function roundWeight(weight: number): number {
  return weight < 1e-6 ? 0 : Number(weight.toPrecision(3))
}

/**
 * Whether restored `weights` can be a sketch's: one per bin, none negative, and in all at most
 * 10 times what fading by `decay` lets a sketch hold (about 1 / (1 - decay), with its prior):
 * a state edited or corrupted past that (1e308 in a bin) would sway every plan forever.
 */
function fits(
  weights: readonly number[] | undefined,
  bins: number,
  decay: number,
): weights is readonly number[] {
  // (Read from storage a user controls: an object with a length, a string, is not weights.)
  if (!Array.isArray(weights) || weights.length !== bins) return false
  if (!weights.every((w) => Number.isFinite(w) && w >= 0)) return false
  return weights.reduce((sum, w) => sum + w, 0) <= 10 / (1 - decay)
}
