/**
 * Virtual time for the reliability runs: a client clock on a mock-server manual clock, and a
 * driver that moves it from timer to timer until a promise settles.
 */
import { createManualClock, type ManualClock, sleep } from '@video-translation/mock-server'
import type { Clock } from '../src/index.js'

/** A manual clock and the client clock that reads it. */
export function virtualClock(start = Date.UTC(2026, 0, 1)): { manual: ManualClock; clock: Clock } {
  const manual = createManualClock(start)
  return {
    manual,
    clock: { now: () => manual.now(), sleep: (ms, signal) => sleep(manual, ms, signal) },
  }
}

/**
 * Moves `manual` from timer to timer until `promise` settles or `untilMs` of virtual time has
 * passed; answers whether it settled. Between steps every pending answer lands (a few turns of
 * the event loop), so nothing depends on the machine's speed.
 */
export async function drive(
  manual: ManualClock,
  promise: Promise<unknown>,
  untilMs: number,
): Promise<boolean> {
  let done = false
  const mark = () => {
    done = true
  }
  promise.then(mark, mark)
  const until = manual.now() + untilMs
  for (let idle = 0; !done && idle < 20; ) {
    for (let i = 0; i < 3 && !done; i++) await new Promise((resolve) => setImmediate(resolve))
    if (done) break
    const next = manual.nextDueAt()
    if (next === undefined || next > until) {
      idle++
      continue
    }
    idle = 0
    manual.advance(Math.max(0, next - manual.now()))
  }
  return done
}
