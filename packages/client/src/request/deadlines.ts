/**
 * The time limit of one request: an abort signal that fires when the caller's signal does or
 * when the limit passes, whichever is first, on the client's clock (a virtual one in tests
 * times requests out in virtual time, as it does waits). Written by hand because
 * `AbortSignal.any` and `AbortSignal.timeout` with a parent are missing on Node 18. One signal
 * and one timer per request: sharing them between requests saved a few per cent of a loopback
 * GET's CPU, within the benchmark's guard without it (docs/client-benchmarks.md).
 */
import { whenAborted } from '../abort.js'
import { type Clock, readFirstTimeout, systemClock } from '../clock.js'
import { MAX_TIMER_MS } from '../validate.js'

/** The time limit of one request. */
export interface Deadline {
  signal: AbortSignal
  /** Whether the limit, rather than the caller, aborted the request. */
  timedOut(): boolean
  /** Stops the clock but keeps the caller's signal linked (a stream, once its headers came). */
  stopTimer(): void
  /**
   * Starts the limit over, for `ms` (the request's limit unless given): an answer's body still
   * coming in, the limit is on its silence, not on the whole of it.
   */
  restart(ms?: number): void
  /** Ends the request's claim: the timer and the link to the caller's signal go. */
  dispose(): void
  /** Aborts the request now (a stream closed by its reader). */
  cancel(): void
}

/**
 * A deadline of `timeoutMs` on `clock` under `parent`; none (and no timer) past what a timer can
 * hold (24.8 days: a timer set longer fires at once).
 */
export function startDeadline(
  parent: AbortSignal | undefined,
  timeoutMs: number,
  clock: Clock,
): Deadline {
  const controller = new AbortController()
  let timedOut = false
  const fire = () => {
    timedOut = true
    controller.abort()
  }
  let stopTimer = () => {}
  const arm = (ms = timeoutMs) => {
    if (ms > MAX_TIMER_MS) {
      // No limit that a timer can hold: none.
    } else if (clock === systemClock) {
      // A timer of the system clock's kind (an answer already in the socket read before a late
      // verdict), not its `sleep`: a promise, an abort listener and a rejection when stopped
      // cost about 7 % of a loopback GET's client CPU, a ratio of 1.26 against the benchmark's
      // guard of 1.25 (docs/client-benchmarks.md).
      stopTimer = readFirstTimeout(fire, ms)
    } else {
      const timer = new AbortController()
      clock.sleep(ms, timer.signal).then(fire, () => {})
      // With a reason of its own: no DOMException made for a timer that was never to fire.
      stopTimer = () => timer.abort(STOPPED)
    }
  }
  arm()
  const onAbort = () => controller.abort(parent?.reason)
  const unlink = parent ? whenAborted(parent, onAbort) : () => {}
  if (parent?.aborted) onAbort()
  return {
    signal: controller.signal,
    timedOut: () => timedOut,
    stopTimer: () => stopTimer(),
    restart: (ms) => {
      if (controller.signal.aborted) return
      stopTimer()
      arm(ms)
    },
    dispose: () => {
      stopTimer()
      unlink()
    },
    cancel: () => controller.abort(),
  }
}

const STOPPED = 'stopped'

/**
 * `promise`, or a rejection with `signal`'s reason once it aborts first: a fetch (a wrapper, a
 * test double) that ignores its abort cannot hold a request past its limit. What the promise
 * does later is ignored.
 */
export function settleBy<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => {})
    return Promise.reject(signal.reason)
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      promise.catch(() => {})
      reject(signal.reason)
    }
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        resolve(value)
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(error)
      },
    )
  })
}
