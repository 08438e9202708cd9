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

/**
 * Whether a source's held requests or streams ask for the job's end alone (`until=terminal`), as
 * far as the server showed. One with it refused (a 400 or 422, perhaps a server strict about
 * parameters it does not know, or about the job itself) is asked once without it; answered so,
 * `until` was what the server refused, and every later one goes without it (`said`, the debug
 * line saying so). Until then one refusal does not take the end alone from every job.
 */
export class UntilTerminal {
  #refused = false
  readonly #suspect = new WeakSet<Observation>()
  readonly #say: () => void

  constructor(say: () => void) {
    this.#say = say
  }

  /** Whether `observation`'s next request asks for its end alone (no one wants every change). */
  asks(observation: Observation): boolean {
    return !this.#refused && !this.#suspect.has(observation) && observation.endOnly()
  }

  /** Its request with `until` was refused: the next goes without it. */
  suspect(observation: Observation): void {
    this.#suspect.add(observation)
  }

  /** Refused without it too: the refusal was about something else. */
  cleared(observation: Observation): void {
    this.#suspect.delete(observation)
  }

  /** Answered: without `until` after a refusal with it, the server refuses `until`. */
  answered(observation: Observation): void {
    if (!this.#suspect.delete(observation)) return
    this.#refused = true
    this.#say()
  }
}
