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

/**
 * The longest a timer of the client sleeps before the clock is looked at again. Timers count no
 * time a machine sleeps: after a laptop's lid was closed for an hour, a check planned a minute on
 * went a minute after waking, the job long ended; now within this (the clock follows the wake).
 */
export const WAKE_CHECK_MS = 10_000

/**
 * Sleeps `ms` on `clock`, looking at it every WAKE_CHECK_MS: less where it went on past the end
 * meanwhile (a machine woke from sleep), never more (a clock stepped back: the sleeps count).
 */
export async function sleepWaking(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  const end = clock.now() + ms
  for (let slept = 0; slept < ms && clock.now() < end; ) {
    const step = Math.min(ms - slept, WAKE_CHECK_MS)
    await clock.sleep(step, signal)
    slept += step
  }
}

/** A timer this late or later fired after the event loop was blocked (the app's own work). */
const LATE_MS = 10

/** A monotonic reading in ms, for how late a timer fired. */
const monotonic = typeof performance === 'undefined' ? () => Date.now() : () => performance.now()

/** Node's and Bun's `setImmediate`: what runs once the loop has read its sockets. */
const loop = globalThis as {
  setImmediate?: (fn: () => void) => unknown
  clearImmediate?: (handle: unknown) => void
}

/**
 * `setTimeout(fn, ms)`, but where the timer fires LATE_MS or more past its time and the runtime
 * has `setImmediate`, `fn` runs once the loop has read what its sockets hold. Node runs due
 * timers before it reads sockets: after the app blocked its event loop for seconds, a time limit
 * fired first and took an answer already there for a server's silence (requests timed out
 * against a healthy server, the breaker opened, event streams were taken for buffering
 * proxies, a job that had completed was reported timed out at its wait's deadline). Returns the
 * timer's stop.
 */
export function readFirstTimeout(fn: () => void, ms: number): () => void {
  const due = monotonic() + ms
  let stop = () => {}
  const timer = setTimeout(() => {
    const { setImmediate, clearImmediate } = loop
    if (!setImmediate || !clearImmediate || monotonic() - due < LATE_MS) return fn()
    const later = setImmediate(fn)
    stop = () => clearImmediate(later)
  }, ms)
  stop = () => clearTimeout(timer)
  return () => stop()
}

/** Real time. */
export const systemClock: Clock = {
  now: wallClock(),
  sleep: (ms, signal) =>
    new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason)
      // A longer delay than a timer holds would fire at once: it wakes at the timer's longest.
      const stop = readFirstTimeout(
        () => {
          unlink()
          resolve()
        },
        Math.min(ms, MAX_TIMER_MS),
      )
      const unlink = signal
        ? whenAborted(signal, () => {
            stop()
            reject(signal.reason)
          })
        : () => {}
    }),
}
