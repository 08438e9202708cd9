/**
 * A client's calls in flight, and how `client.close()` ends them: every call runs under a signal
 * that aborts with its caller's or at `close()`, whichever comes first, so closing ends each wait,
 * watch, stream, held request and retry pause the way the call's own signal would (with the
 * close's reason), and every call made after it rejects at once. `close()` resolves once every
 * call out has settled: nothing of the client is left running.
 */
import { whenAborted } from './abort.js'

/** A call's signal, and what to call once the call has ended. */
export interface Followed {
  signal: AbortSignal
  end: () => void
}

/** The calls of one client, until it is closed. */
export class Calls {
  readonly #closing = new AbortController()
  /** Each call out: settled once it ends. */
  readonly #open = new Set<Promise<void>>()

  /**
   * Follows a call given `signal` (its caller's, if any), until its `end`. Closed already: the
   * signal is aborted with the close's reason.
   */
  follow(signal: AbortSignal | undefined): Followed {
    const closing = this.#closing.signal
    let resolve = () => {}
    const ended = new Promise<void>((r) => {
      resolve = r
    })
    this.#open.add(ended)
    // The close's signal alone, or the caller's aborted already: no other to follow.
    let linked = closing.aborted || !signal ? closing : signal
    let unlink = () => {}
    if (signal && !signal.aborted && !closing.aborted) {
      // One listener per signal, however many calls share it (abort.ts).
      const controller = new AbortController()
      const stops = [signal, closing].map((s) => whenAborted(s, () => controller.abort(s.reason)))
      linked = controller.signal
      unlink = () => {
        for (const stop of stops) stop()
      }
    }
    return {
      signal: linked,
      end: () => {
        unlink()
        this.#open.delete(ended)
        resolve()
      },
    }
  }

  /** Runs a call (a promise) under a signal `follow` gives, ending it when it settles. */
  async run<T>(signal: AbortSignal | undefined, call: (signal: AbortSignal) => Promise<T>) {
    const followed = this.follow(signal)
    try {
      followed.signal.throwIfAborted()
      return await call(followed.signal)
    } finally {
      followed.end()
    }
  }

  /** Ends every call out with `reason`, and every later call; resolves once all have settled. */
  async close(reason: unknown): Promise<void> {
    if (!this.#closing.signal.aborted) this.#closing.abort(reason)
    await Promise.all(this.#open)
  }
}
