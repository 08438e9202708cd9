/**
 * Per-request time limits. Each request needs an abort signal that fires when its time is up,
 * and passing a signal to fetch is not free: undici keeps a weak reference, a finalizer and a
 * listener for every request given one. On a loopback GET (Node 20) a new signal per request
 * costs 12-13 % of the client's CPU, a shared one 3-10 %. So requests with the client's usual
 * limit and no signal of the caller share one: up to 16 requests that start within the same short
 * window (1 % of the limit, at most 10 ms) share a signal and a timer set for the end of the
 * window plus the limit. Each request so gets at least its limit and at most one window more, and
 * a timer lives only while one of its requests does.
 */

/** The time limit of one request. */
export interface Deadline {
  signal: AbortSignal
  /** Whether the limit, rather than the caller, aborted the request. */
  timedOut(): boolean
  /** Ends the request's claim on the deadline (clears what nothing else needs). */
  dispose(): void
}

const MAX_WINDOW_MS = 10
/**
 * Requests one signal serves at most, in one window or carried on. Undici drops its listener on a
 * signal only at GC, and each request's fetch lists the listeners already there: a signal of many
 * requests costs each of them more than a new signal and timer would.
 */
const MAX_USES = 16

/** Deadlines of one limit, shared by the requests that start close together. */
export interface SharedDeadlines {
  readonly timeoutMs: number
  /** A deadline `timeoutMs` (plus at most one window) from now. */
  start(): Deadline
}

/** Deadlines of `timeoutMs`, shared by the requests that start close together. */
export function sharedDeadlines(timeoutMs: number): SharedDeadlines {
  const windowMs = Math.min(MAX_WINDOW_MS, timeoutMs / 100)
  let current: Window | undefined
  return {
    timeoutMs,
    start() {
      const now = Date.now()
      let window = current
      // A window whose requests are all done has no timer left. (One times out only after it
      // closes, and an idle one that timed out is not carried on.)
      if (!window || now >= window.closesAt || window.open === 0 || window.uses >= MAX_USES) {
        // An idle window's signal never fired: the next window may carry it on (a new signal
        // costs more than the rest of a request's bookkeeping; one after another, requests
        // would otherwise each make one).
        const idle = window?.open === 0 && !window.timedOut() && window.uses < MAX_USES
        window = current = openWindow(
          now + windowMs,
          windowMs + timeoutMs,
          idle ? window : undefined,
        )
      }
      window.open++
      window.uses++
      return window
    },
  }
}

/** The requests that started in one window: one signal, one timer. */
interface Window extends Deadline {
  closesAt: number
  /** Requests not yet done; the timer is cleared when the last is. */
  open: number
  /** Requests the signal has served, in this window and the idle ones it was carried on from. */
  uses: number
  controller: AbortController
}

/** A window with a timer of `timeoutMs`, carrying on the signal of `idle` if given. */
function openWindow(closesAt: number, timeoutMs: number, idle?: Window): Window {
  const controller = idle ? idle.controller : new AbortController()
  let timedOut = false
  // No limit (`requestTimeoutMs: Infinity`): no timer at all.
  const timer = Number.isFinite(timeoutMs)
    ? setTimeout(() => {
        timedOut = true
        controller.abort()
      }, timeoutMs)
    : undefined
  const window: Window = {
    closesAt,
    open: 0,
    uses: idle ? idle.uses : 0,
    controller,
    signal: controller.signal,
    timedOut: () => timedOut,
    dispose: () => {
      if (--window.open === 0) clearTimeout(timer)
    },
  }
  return window
}

/**
 * A deadline of its own for a request with the caller's signal or an unusual limit: it aborts
 * when the caller's signal does or when `timeoutMs` passes. Written by hand because
 * `AbortSignal.any` is missing on Node 18.
 */
export function ownDeadline(parent: AbortSignal | undefined, timeoutMs: number): Deadline {
  const own = openWindow(0, timeoutMs)
  own.open = 1
  if (!parent) return own
  const onAbort = () => own.controller.abort(parent.reason)
  parent.addEventListener('abort', onAbort, { once: true })
  if (parent.aborted) onAbort()
  return {
    signal: own.signal,
    timedOut: own.timedOut,
    dispose: () => {
      own.dispose()
      parent.removeEventListener('abort', onAbort)
    },
  }
}
