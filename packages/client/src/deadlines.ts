/**
 * Per-request time limits. Each request needs an abort signal that fires when its time is up,
 * and passing a signal to fetch is not free: the signal itself, its timer, and (in undici) the
 * listener bookkeeping of a signal it has not seen before cost about a tenth of a loopback GET.
 * So requests with the client's usual limit and no signal of the caller share one: requests that
 * start within the same short window (1 % of the limit, at most 10 ms) share a signal and a timer
 * set for the end of the window plus the limit. Each request so gets at least its limit and at
 * most one window more, and a timer lives only while one of its requests does.
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

/** Requests that started in one window: their shared deadline and how many are still open. */
interface Window {
  closesAt: number
  open: number
  deadline: Deadline
}

/** Deadlines of `timeoutMs`, shared by the requests that start close together. */
export class SharedDeadlines {
  readonly timeoutMs: number
  readonly #windowMs: number
  #current: Window | undefined

  constructor(timeoutMs: number) {
    this.timeoutMs = timeoutMs
    this.#windowMs = Math.min(MAX_WINDOW_MS, timeoutMs / 100)
  }

  /** A deadline `timeoutMs` (plus at most one window) from now. */
  start(): Deadline {
    const now = Date.now()
    let window = this.#current
    // A window whose requests are all done has no timer left; one that timed out is spent.
    if (!window || now >= window.closesAt || window.open === 0 || window.deadline.timedOut()) {
      window = this.#current = {
        closesAt: now + this.#windowMs,
        open: 0,
        deadline: ownDeadline(undefined, this.#windowMs + this.timeoutMs),
      }
    }
    const { deadline } = window
    const shared = window
    shared.open++
    return {
      signal: deadline.signal,
      timedOut: deadline.timedOut,
      dispose: () => {
        if (--shared.open === 0) deadline.dispose()
      },
    }
  }
}

/**
 * A deadline of its own for a request with the caller's signal or an unusual limit: it aborts
 * when the caller's signal does or when `timeoutMs` passes. Written by hand because
 * `AbortSignal.any` is missing on Node 18.
 */
export function ownDeadline(parent: AbortSignal | undefined, timeoutMs: number): Deadline {
  const controller = new AbortController()
  let timedOut = false
  const onAbort = () => controller.abort(parent?.reason)
  parent?.addEventListener('abort', onAbort, { once: true })
  if (parent?.aborted) onAbort()
  const timer = setTimeout(() => {
    timedOut = true
    controller.abort()
  }, timeoutMs)
  return {
    signal: controller.signal,
    timedOut: () => timedOut,
    dispose: () => {
      clearTimeout(timer)
      parent?.removeEventListener('abort', onAbort)
    },
  }
}
