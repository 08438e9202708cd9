/**
 * One abort listener per signal, however many calls share it: a caller's long-lived signal
 * passed to a hundred concurrent calls (each with its requests, turns under the rate limit and
 * retries) would otherwise carry a listener each, past the ten at which Node warns of a leak.
 */

/** The callbacks waiting on each signal, and the one listener that runs them. */
const listeners = new WeakMap<AbortSignal, { callbacks: Set<() => void>; fire: () => void }>()

/**
 * Calls `callback` once `signal` aborts (not if it already has: check `aborted` first); returns
 * the function that stops it.
 */
export function whenAborted(signal: AbortSignal, callback: () => void): () => void {
  let entry = listeners.get(signal)
  if (!entry) {
    const callbacks = new Set<() => void>()
    const fire = () => {
      listeners.delete(signal)
      // Each runs whatever another throws (as separate listeners would); the first error is
      // thrown after, where the platform reports a listener's.
      let failure: { error: unknown } | undefined
      for (const call of callbacks) {
        try {
          call()
        } catch (error) {
          failure ??= { error }
        }
      }
      if (failure) throw failure.error
    }
    entry = { callbacks, fire }
    listeners.set(signal, entry)
    signal.addEventListener('abort', fire, { once: true })
  }
  const own = entry
  // A wrapper of its own: the same function passed twice is two waits, each stopped alone.
  const call = () => callback()
  own.callbacks.add(call)
  return () => {
    own.callbacks.delete(call)
    if (own.callbacks.size > 0 || listeners.get(signal) !== own) return
    listeners.delete(signal)
    signal.removeEventListener('abort', own.fire)
  }
}

/**
 * A signal that aborts with `first` or `second`, whichever does first (`first` may be absent:
 * `second` itself then), and the function that stops following them once it is not needed (a
 * caller's long-lived signal would otherwise keep a callback for each). `AbortSignal.any` is
 * missing on Node 18.
 */
export function eitherSignal(
  first: AbortSignal | undefined,
  second: AbortSignal,
): { signal: AbortSignal; unlink: () => void } {
  // One aborted already, or only one given: no other to follow.
  if (second.aborted || !first) return { signal: second, unlink: () => {} }
  if (first.aborted) return { signal: first, unlink: () => {} }
  const controller = new AbortController()
  const stops = [first, second].map((s) => whenAborted(s, () => controller.abort(s.reason)))
  return {
    signal: controller.signal,
    unlink: () => {
      for (const stop of stops) stop()
    },
  }
}
