import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { LogSketch } from './sketch.js'

const SHAPE = { min: 250, ratio: 1.2, bins: 74 }
const WEIGHTS = { decay: 0.99, floor: 0.1 }

/** A sketch that saw `values`. */
function sketchOf(values: number[]): LogSketch {
  const sketch = new LogSketch(SHAPE, WEIGHTS)
  for (const value of values) sketch.add(value)
  return sketch
}

/** `∫ sqrt(h)` from `a` to `b`, by small steps, from the sketch's own survival `S`. */
function integrate(survival: (t: number) => number, a: number, b: number): number {
  const steps = 20_000
  let sum = 0
  for (let k = 0; k < steps; k++) {
    const t = a + ((k + 0.5) / steps) * (b - a)
    const dt = (b - a) / steps
    const density = (survival(t - dt / 2) - survival(t + dt / 2)) / dt
    sum += Math.sqrt(Math.max(0, density) / survival(t)) * dt
  }
  return sum
}

/** The survival weight above `t` of a sketch with `weights` (floor included), as LogSketch sees it. */
function survivalOf(weights: number[], floor: number) {
  const edges = weights.map((_, i) => SHAPE.min * SHAPE.ratio ** i)
  return (t: number) => {
    let above = 0
    weights.forEach((w, i) => {
      const low = edges[i] as number
      const high = low * SHAPE.ratio
      const mass = w + floor / weights.length
      if (t <= low) above += mass
      else if (t < high) above += (mass * (high - t)) / (high - low)
    })
    return above
  }
}

/** Durations spread over a factor of about ten around 5 s. */
const WIDE = Array.from({ length: 300 }, (_, i) => 5_000 * Math.exp(Math.sin(i) * 1.2))

/** The mean of `price * checks + weigh(lateness)` over WIDE, checked as `schedule` says. */
function meanCost(
  schedule: (age: number) => number,
  price: number,
  weigh: (late: number) => number,
): number {
  let total = 0
  for (const d of WIDE) {
    let t = 0
    let checks = 0
    while (t < d) {
      t = schedule(t)
      checks++
    }
    total += price * checks + weigh(t - d)
  }
  return total / WIDE.length
}

describe('LogSketch', () => {
  it('should place the next check where the integral of sqrt(hazard) reaches the budget (Keller)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1_000, max: 120_000 }), { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 500, max: 60_000 }),
        fc.double({ min: 0.01, max: 0.5, noNaN: true }),
        (values, from, budget) => {
          const sketch = sketchOf(values)
          const next = sketch.next(from, budget)
          if (!Number.isFinite(next)) return true
          const survival = survivalOf(sketch.toJSON(), WEIGHTS.floor)
          return next > from && Math.abs(integrate(survival, from, next) - budget) < 0.01 * budget
        },
      ),
      { numRuns: 30 },
    )
  })

  it('should plan no check before the first job could end, and one soon after most do', () => {
    const sketch = sketchOf(Array.from({ length: 100 }, () => 10_000))
    const plan = sketch.plan(300)
    const first = plan(0)
    // The observations (spread over their bin and the two beside it) start at about 6.9 s.
    expect(first).toBeGreaterThan(6_000)
    expect(first).toBeLessThan(12_000)
    // Past them, a job is still checked, never at once and never never.
    const late = plan(60_000)
    expect(late).toBeGreaterThan(60_000)
    expect(Number.isFinite(late)).toBe(true)
  })

  it('should plan checks closer than its grid’s 1.5 % where long jobs end (Keller’s gap)', () => {
    // Jobs of two hours, give or take a few minutes, on the adaptive strategy's bins.
    const sketch = new LogSketch({ min: 250, ratio: 1.05, bins: 275 }, WEIGHTS)
    for (let i = 0; i < 200; i++) sketch.add(7_200_000 * 1.1 ** Math.sin(i))
    const price = 350
    const plan = sketch.plan(price)
    const gaps: number[] = []
    for (let age = 7_000_000; age < 7_400_000; ) {
      const next = plan(age)
      gaps.push(next - age)
      age = next
    }
    // On a 1.5 % grid, no two checks could be under 104 s apart there.
    expect(Math.max(...gaps)).toBeLessThan(60_000)
    expect(Math.min(...gaps)).toBeGreaterThan(5_000)
  })

  it('should plan checks that cost less than any fixed interval, on its own distribution', () => {
    const sketch = sketchOf(WIDE)
    const price = 500
    const cost = (schedule: (age: number) => number) => meanCost(schedule, price, (late) => late)
    const planned = sketch.plan(price)
    const optimal = cost(planned)
    for (const every of [500, 1_000, 2_000, 3_000, 5_000]) {
      expect(optimal).toBeLessThan(cost((t) => t + every))
    }
  })

  it('should minimise its own objective when lateness weighs more the longer it is (a curve)', () => {
    const sketch = sketchOf(WIDE)
    const price = 500
    const curve = 4_000
    const cost = (schedule: (age: number) => number, weigh: (late: number) => number) =>
      meanCost(schedule, price, weigh)
    const linear = (late: number) => late
    const curved = (late: number) => late + (late * late) / (2 * curve)
    const straight = sketch.plan(price)
    const bent = sketch.plan(price, curve)
    // Each plan is the better one by its own measure, and the curve shortens the longest gaps.
    expect(cost(bent, curved)).toBeLessThan(cost(straight, curved))
    expect(cost(straight, linear)).toBeLessThan(cost(bent, linear))
    const longestGap = (schedule: (age: number) => number) => {
      let longest = 0
      for (let t = 0; t < 30_000; t = schedule(t)) longest = Math.max(longest, schedule(t) - t)
      return longest
    }
    expect(longestGap(bent)).toBeLessThan(longestGap(straight))
  })

  it('should fit a smooth guess to few data, fading as they grow, without keeping it', () => {
    const empty = new LogSketch(SHAPE, WEIGHTS)
    expect(empty.fit(40, 50, 5)).toBeUndefined()
    const few = sketchOf([20_000, 30_000, 45_000])
    const saved = few.toJSON()
    const guess = few.fit(40, 50, 5) as number[]
    // Weighing 40 less what the three data weigh (each faded a little by the next).
    const total = guess.reduce((a, b) => a + b, 0)
    expect(total).toBeGreaterThan(40 * (1 - 3 / 50) - 0.01)
    expect(total).toBeLessThan(40 * (1 - 2.9 / 50) + 0.01)
    // Centred where the data are (30 s, on the log scale), with a tail on either side.
    const peak = guess.indexOf(Math.max(...guess))
    expect(SHAPE.min * SHAPE.ratio ** peak).toBeGreaterThan(20_000)
    expect(SHAPE.min * SHAPE.ratio ** peak).toBeLessThan(45_000)
    expect(guess[peak + 10] as number).toBeGreaterThan(0)
    expect(few.toJSON()).toEqual(saved)
    // Once the data weigh `until`, no guess.
    expect(sketchOf(Array.from({ length: 80 }, () => 30_000)).fit(40, 50, 5)).toBeUndefined()
  })

  it('should stay a small JSON value whatever it saw, and restore exactly', () => {
    const sketch = new LogSketch(SHAPE, WEIGHTS)
    for (let i = 0; i < 10_000; i++) sketch.add(1 + ((i * 7_919) % 100_000_000))
    const json = JSON.stringify(sketch.toJSON())
    expect(json.length).toBeLessThan(2_000)
    const restored = new LogSketch(SHAPE, WEIGHTS, JSON.parse(json))
    expect(restored.toJSON()).toEqual(sketch.toJSON())
    expect(restored.plan(300)(5_000)).toBeCloseTo(sketch.plan(300)(5_000), -1)
  })

  it('should ignore weights that do not fit its shape', () => {
    expect(new LogSketch(SHAPE, WEIGHTS, [1, 2, 3]).isEmpty()).toBe(true)
    expect(new LogSketch(SHAPE, WEIGHTS, new Array(74).fill(-1)).isEmpty()).toBe(true)
    expect(new LogSketch(SHAPE, WEIGHTS, new Array(74).fill(0.5)).isEmpty()).toBe(false)
  })

  it('should fade what it saw long ago, so it follows a change', () => {
    const sketch = sketchOf(Array.from({ length: 300 }, () => 10_000))
    const share = () => {
      const weights = sketch.toJSON()
      const total = weights.reduce((a, b) => a + b, 0)
      // Bins 19 to 21 hold 10 s and its neighbours (bin i starts at 250 ms · 1.2^i).
      return weights.slice(19, 22).reduce((a, b) => a + b, 0) / total
    }
    expect(share()).toBeGreaterThan(0.99)
    for (let i = 0; i < 300; i++) sketch.add(100_000)
    expect(share()).toBeLessThan(0.06)
  })

  it('should keep narrow data narrow and smooth wide data, with an adaptive kernel', () => {
    const fine = { min: 250, ratio: 1.05, bins: 275 }
    const adaptive = { decay: 0.99, floor: 0.1, adaptive: 0.6 }
    const narrow = new LogSketch(fine, adaptive)
    const wide = new LogSketch(fine, adaptive)
    for (let i = 0; i < 200; i++) {
      narrow.add(59_000 + (i % 21) * 100) // 60 s ± 1 s
      wide.add(30_000 * Math.exp(Math.sin(i * 12.9898) * 1.7)) // spread over a factor of 30
    }
    // Nearly everything within 7 % of 60 s: learned as it is, not as 41-85 s (as the fixed
    // kernel on bins 20 % apart has it).
    const coarse = sketchOf(Array.from({ length: 200 }, (_, i) => 59_000 + (i % 21) * 100))
    expect(narrow.shareBelow(64_000) - narrow.shareBelow(56_000)).toBeGreaterThan(0.9)
    expect(coarse.shareBelow(64_000) - coarse.shareBelow(56_000)).toBeLessThan(0.6)
    // Wide data: no bin much heavier than its neighbours (smoothed, not spiky).
    const weights = wide.toJSON()
    const jumps = weights.slice(1).map((w, i) => Math.abs(w - (weights[i] as number)))
    expect(Math.max(...jumps)).toBeLessThan(0.2 * Math.max(...weights))
  })

  it('should not let a prior widen the kernel of the first data', () => {
    const sketch = new LogSketch(
      { min: 250, ratio: 1.05, bins: 275 },
      { decay: 0.99, floor: 0.1, adaptive: 0.6 },
    )
    sketch.spread(1_000, 3_600_000, 5)
    for (let i = 0; i < 20; i++) sketch.add(60_000)
    // Twenty jobs of exactly 60 s: most of the weight near 60 s, the prior's breadth aside.
    expect(sketch.shareBelow(75_000) - sketch.shareBelow(48_000)).toBeGreaterThan(0.6)
  })
})
