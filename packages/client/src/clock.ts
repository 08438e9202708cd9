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

/** Real time. */
export const systemClock: Clock = {
  now: () => Date.now(),
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
