/**
 * Where the simulator's time comes from. Jobs derive their status from `now()`, so a manual
 * clock replays hours of job lifecycles in no real time at all.
 */

/** A source of the current time in epoch milliseconds. */
export interface Clock {
  now(): number
}

/** Real wall-clock time. */
export const systemClock: Clock = { now: () => Date.now() }

/** A clock that only moves when told to: for tests and virtual-time runs. */
export interface ManualClock extends Clock {
  /** Moves time forward by `ms` milliseconds. */
  advance(ms: number): void
}

/** Creates a manual clock starting at `start` (epoch milliseconds). */
export function createManualClock(start = Date.UTC(2026, 0, 1)): ManualClock {
  let current = start
  return {
    now: () => current,
    advance(ms) {
      if (!(ms >= 0)) throw new RangeError(`a clock only moves forward (got ${ms} ms)`)
      current += ms
    },
  }
}
