/**
 * Seeded randomness: a small PRNG (mulberry32) for sequences, and a hash for values that must be
 * the same however often they are asked for (a job's hint noise at a given progress step). The
 * same seed gives the same ids, durations, outcomes and faults on every run and every runtime.
 */

/** A source of pseudo-random numbers in [0, 1). */
export type Random = () => number

/** Creates a PRNG from a 32-bit seed. */
export function createRandom(seed: number): Random {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    return mix(state)
  }
}

/** A number in [0, 1) that depends only on `seed` and `salt`. */
export function hashUnit(seed: number, salt: number): number {
  return mix((seed ^ Math.imul(salt + 1, 0x9e3779b1)) >>> 0)
}

function mix(value: number): number {
  let t = value
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

/** `length` lowercase hex digits drawn from `random`. */
export function randomHex(random: Random, length: number): string {
  let out = ''
  for (let i = 0; i < length; i++) out += Math.floor(random() * 16).toString(16)
  return out
}

/** A standard normal draw (Box–Muller). */
export function normal(random: Random): number {
  const u = 1 - random()
  const v = random()
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
}
