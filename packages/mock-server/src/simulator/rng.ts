/**
 * A small seeded PRNG (mulberry32): the same seed gives the same job ids, durations and outcomes
 * on every run and every runtime.
 */

/** A source of pseudo-random numbers in [0, 1). */
export type Random = () => number

/** Creates a PRNG from a 32-bit seed. */
export function createRandom(seed: number): Random {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** `length` lowercase hex digits drawn from `random`. */
export function randomHex(random: Random, length: number): string {
  let out = ''
  for (let i = 0; i < length; i++) out += Math.floor(random() * 16).toString(16)
  return out
}
