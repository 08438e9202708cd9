/**
 * A small typed event emitter. `on` returns the unsubscribe function; dispatch iterates over a
 * copy, so a listener may unsubscribe while being called; a listener that throws (or an async one
 * that rejects) is reported to `onListenerError` and never breaks the caller (a wait keeps
 * polling), nor the process (no unhandled rejection).
 */

/**
 * Calls a user's callback; what it throws, or the promise it returns rejects with, goes to
 * `report` instead of the caller (or the process's unhandled rejections).
 */
export function callReporting(call: () => unknown, report: (error: unknown) => void): void {
  try {
    const returned = call()
    if (typeof (returned as PromiseLike<unknown> | undefined)?.then === 'function') {
      ;(returned as PromiseLike<unknown>).then(undefined, report)
    }
  } catch (error) {
    report(error)
  }
}

/** A listener of one event type. */
export type Listener<Payload> = (payload: Payload) => void

/** Any one of `Events`: its name and payload, a union on `name`. */
export type AnyEvent<Events extends object> = {
  [K in keyof Events]: { name: K; payload: Events[K] }
}[keyof Events]

/** Emits the events of `Events`, a map from event name to payload. */
export class Emitter<Events extends object> {
  readonly #listeners = new Map<keyof Events, Set<Listener<never>>>()
  /** Listeners of every event. */
  readonly #any = new Set<Listener<AnyEvent<Events>>>()
  readonly #onListenerError: (error: unknown, type: keyof Events | '*') => void

  /** `onListenerError`: told what a listener threw, and of which type (`'*'`: of every event). */
  constructor(onListenerError: (error: unknown, type: keyof Events | '*') => void) {
    this.#onListenerError = onListenerError
  }

  /** Calls `listener` for every `type` event; returns a function that stops it. */
  on<K extends keyof Events>(type: K, listener: Listener<Events[K]>): () => void {
    if (typeof listener !== 'function') {
      throw new TypeError(
        `A listener of '${String(type)}' must be a function (got ${typeof listener}).`,
      )
    }
    let set = this.#listeners.get(type)
    if (!set) {
      set = new Set()
      this.#listeners.set(type, set)
    }
    set.add(listener as Listener<never>)
    return () => this.off(type, listener)
  }

  /** Stops calling `listener` for `type`. */
  off<K extends keyof Events>(type: K, listener: Listener<Events[K]>): void {
    this.#listeners.get(type)?.delete(listener as Listener<never>)
  }

  /** Calls `listener` for every event, with its name; returns a function that stops it. */
  onAny(listener: Listener<AnyEvent<Events>>): () => void {
    if (typeof listener !== 'function') {
      throw new TypeError(`A listener of '*' must be a function (got ${typeof listener}).`)
    }
    this.#any.add(listener)
    return () => this.offAny(listener)
  }

  /** Stops calling `listener` for every event. */
  offAny(listener: Listener<AnyEvent<Events>>): void {
    this.#any.delete(listener)
  }

  /** Whether anyone listens to `type`. */
  listens(type: keyof Events): boolean {
    return this.#any.size > 0 || (this.#listeners.get(type)?.size ?? 0) > 0
  }

  /**
   * Calls every listener of `type` with `payload`, then every listener of every event (those
   * listening when it began: one added meanwhile hears the next, as for `type`).
   */
  emit<K extends keyof Events>(type: K, payload: Events[K]): void {
    const set = this.#listeners.get(type)
    if ((!set || set.size === 0) && this.#any.size === 0) return
    const any = this.#any.size > 0 ? [...this.#any] : undefined
    const report = (error: unknown) => this.#onListenerError(error, type)
    for (const listener of [...(set ?? [])]) {
      callReporting(() => (listener as Listener<Events[K]>)(payload), report)
    }
    if (!any) return
    // One event for all of them, which none can change for the others.
    const event = Object.freeze({ name: type, payload }) as AnyEvent<Events>
    const reportAny = (error: unknown) => this.#onListenerError(error, '*')
    for (const listener of any) callReporting(() => listener(event), reportAny)
  }
}
