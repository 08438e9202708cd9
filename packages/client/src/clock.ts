/**
 * Where the client's time comes from: `now()` and an abortable `sleep()`. Tests pass a virtual
 * clock; the default is real time.
 */

import { whenAborted } from './abort.js'
import { MAX_TIMER_MS } from './validate.js'

/** A source of time for waiting. */
export interface Clock {
  /** The current time in milliseconds (any epoch, as long as it only moves forward). */
  now(): number
  /**
   * Resolves after `ms`; rejects at once with `signal.reason` when the signal aborts, clearing
   * its timer so nothing is left behind.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>
}

/** How far back the wall clock may step before `wallClock` stops following it, in ms. */
const STEP_BACK_MS = 1_000

/**
 * The wall clock (`Date.now()`, epoch ms, as the server's times are), never stepping back: a
 * step back (NTP correcting a clock that ran fast, a VM restored, someone setting the time) is
 * not followed, the time going on from where it was at the pace of `performance.now()`
 * (monotonic). Every time the client keeps (planned checks, the breaker's, the pacer's,
 * deadlines) is one of this clock's: with `Date.now()`, a step back of an hour held the checks
 * planned before it back an hour (a job known an hour late), the breaker shut for an hour.
 * A step forward is followed (a machine waking from sleep: the server's time went on too).
 */
export function wallClock(
  wall: () => number = () => Date.now(),
  monotonic: (() => number) | null = typeof performance === 'undefined'
    ? null
    : () => performance.now(),
): () => number {
  if (!monotonic) return wall
  /** The last time told, and the monotonic clock then. */
  let lastAt = Number.NEGATIVE_INFINITY
  let lastMono = 0
  return () => {
    const mono = monotonic()
    const since = lastAt + (mono - lastMono)
    let at = wall()
    // Stepped back: on from where it was (the wall clock put right again is followed then).
    if (at < since - STEP_BACK_MS) at = since
    else at = Math.max(at, lastAt)
    lastAt = at
    lastMono = mono
    return at
  }
}

/** Real time. */
export const systemClock: Clock = {
  now: wallClock(),
  sleep: (ms, signal) =>
    new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason)
      // A longer delay than a timer holds would fire at once: it wakes at the timer's longest.
      const timer = setTimeout(
        () => {
          unlink()
          resolve()
        },
        Math.min(ms, MAX_TIMER_MS),
      )
      const unlink = signal
        ? whenAborted(signal, () => {
            clearTimeout(timer)
            reject(signal.reason)
          })
        : () => {}
    }),
}
