/**
 * A held request's or a stream's signal. Such a request may be out for minutes, so others end it
 * early: a wait's deadline (for a plain last look), someone joining who wants every change (a
 * hold for the job's end alone would not tell them), the page coming back online (a connection
 * may have died without a word). Each of these asks the job again at once.
 */
import type { Observation } from '../observation.js'

export interface Held {
  /** Aborted with the caller's signal, or by an interrupt. */
  readonly signal: AbortSignal
  /** Whether it was interrupted (the job is then asked again), not left by its caller. */
  interrupted(): boolean
  /** Unhooks it from the observation and from the caller's signal. */
  done(): void
}

/**
 * Holds `observation`'s request open on `signal`: its `interrupt` and `holding` end it while it
 * is out, and so does its `widen` when the request asks for the job's end alone (`widens`).
 */
export function holdOpen(observation: Observation, signal: AbortSignal, widens: boolean): Held {
  const controller = new AbortController()
  const onAbort = () => controller.abort(signal.reason)
  signal.addEventListener('abort', onAbort, { once: true })
  const interrupt = () => controller.abort(new Error('interrupted'))
  observation.interrupt = interrupt
  observation.holding = interrupt
  if (widens) observation.widen = interrupt
  // In a page, one of the connections its origin's tabs hold together; none free, it is polled.
  const { planner } = observation
  const reason = 'the tabs of this origin hold as many connections as they may'
  const unclaim = planner.claimConnection(() => {
    if (!observation.ended && planner.fallback(observation, 'poll', reason, false)) interrupt()
  })
  return {
    signal: controller.signal,
    interrupted: () => controller.signal.aborted && !signal.aborted,
    done: () => {
      unclaim()
      signal.removeEventListener('abort', onAbort)
      if (observation.widen === interrupt) observation.widen = undefined
      if (observation.interrupt === interrupt) observation.interrupt = undefined
      if (observation.holding === interrupt) observation.holding = undefined
    },
  }
}

/** A plain check's stand-in: never interrupted (it is the look a deadline would want). */
export function notHeld(signal: AbortSignal): Held {
  return { signal, interrupted: () => false, done: () => {} }
}
