/**
 * A client's calls in flight, and how `client.close()` ends them: every wait, watch and batch
 * runs under a signal that aborts with its caller's or at `close()`, whichever comes first, so
 * closing ends each (its streams, held requests and retry pauses) the way the call's own signal
 * would, with the close's reason; a single request (a get, a create, a cancel) is let finish
 * (`single`); every call made after the close rejects at once. `close()` resolves once every call
 * out has settled: nothing of the client is left running.
 */
import { eitherSignal } from './abort.js'

/** A call's signal, and what to call once the call has ended. */
export interface Followed {
  signal: AbortSignal
  end: () => void
}

/** The calls of one client, until it is closed. */
export class Calls {
  readonly #closing = new AbortController()
  /** How many calls are out (a count, not a promise each: `jobs.get` is a hot path). */
  #open = 0
  /** What `close()` calls wait on: told once no call is out. */
  #onIdle: (() => void)[] = []

  /** Aborted at `close()`, with its reason (the core's `closing`: a request's retry pauses). */
  get closing(): AbortSignal {
    return this.#closing.signal
  }

  /**
   * Follows a call given `signal` (its caller's, if any), until its `end`. Closed already: the
   * signal is aborted with the close's reason.
   */
  follow(signal: AbortSignal | undefined): Followed {
    const counted = this.#counted()
    const { signal: linked, unlink } = eitherSignal(signal, this.#closing.signal)
    return {
      signal: linked,
      end: () => {
        unlink()
        counted()
      },
    }
  }

  /** Runs a call under a signal `follow` gives, ending it when it settles. */
  run<T>(signal: AbortSignal | undefined, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const { signal: linked, end } = this.follow(signal)
    return settled(end, () => {
      linked.throwIfAborted()
      return call(linked)
    })
  }

  /**
   * Runs one request of its caller's (a get, a create, a cancel) under the caller's signal
   * alone, counted until it settles: `close()` lets the attempt out finish (a create cut short
   * could leave a job made and its answer lost), but no retry starts after it (core.ts races the
   * pause before one against `closing`). Made after the close: rejected, unsent. (No signal of
   * the close's on the attempt: linked to every request, it cost `jobs.get` 4 % of its CPU, past
   * the benchmark's guard: docs/client-benchmarks.md.)
   */
  single<T>(call: () => Promise<T>): Promise<T> {
    const closing = this.#closing.signal
    if (closing.aborted) return Promise.reject(closing.reason)
    return settled(this.#counted(), call)
  }

  /** Counts a call out; what ends it (once). */
  #counted(): () => void {
    this.#open++
    let ended = false
    return () => {
      if (ended) return
      ended = true
      if (--this.#open > 0) return
      for (const idle of this.#onIdle.splice(0)) idle()
    }
  }

  /** Ends every call out with `reason`, and every later call; resolves once all have settled. */
  close(reason: unknown): Promise<void> {
    if (!this.#closing.signal.aborted) this.#closing.abort(reason)
    if (this.#open === 0) return Promise.resolve()
    return new Promise((resolve) => this.#onIdle.push(resolve))
  }
}

/** `call()`'s promise, `end` told once it settles (or at once when `call` throws). */
function settled<T>(end: () => void, call: () => Promise<T>): Promise<T> {
  let promise: Promise<T>
  try {
    promise = call()
  } catch (error) {
    end()
    return Promise.reject(error)
  }
  promise.then(end, end)
  return promise
}
