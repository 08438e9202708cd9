/**
 * Opens that go one at a time until one works: the SSE source's (sse.ts). A server without event
 * streams is then told by one open, not one per job.
 */
import type { Clock } from '../../clock.js'
import { settleBy } from '../../request/deadlines.js'

/** The longest the other jobs' opens wait for the leading one (see `firstOpen`). */
const FIRST_OPEN_WAIT_MS = 3_000

/**
 * Until a stream was read here, an open goes alone (`claim`): the other jobs' opens wait until it
 * is answered and what its answer means is decided (`done`), FIRST_OPEN_WAIT_MS at most, so a
 * server without streams is told by one open, not one per job (150 waits of 'auto' begun together
 * sent 150 opens, each answered 404; its fallback now interrupts the waiting ones: monitor.ts),
 * and so again when streams are tried anew ten minutes on. Once a stream was read, opens go as
 * they come. The bound: an open held back by a proxy until its time limit does not hold the
 * others' as long.
 */
export function firstOpen(clock: Clock) {
  let out: { promise: Promise<void>; resolve: () => void } | undefined
  let over = false
  return {
    /** Whether this open leads (it calls `done`): none does once a stream was read. */
    claim(): boolean {
      if (over || out) return false
      let resolve = () => {}
      const promise = new Promise<void>((r) => {
        resolve = r
      })
      out = { promise, resolve }
      return true
    },
    /**
     * Resolves once the leading open is decided (at once without one), or FIRST_OPEN_WAIT_MS on;
     * rejects as `signal` aborts.
     */
    async settled(signal: AbortSignal): Promise<void> {
      if (!out || over) return
      const timer = new AbortController()
      try {
        const bound = clock.sleep(FIRST_OPEN_WAIT_MS, timer.signal)
        await Promise.race([settleBy(out.promise, signal), bound])
      } finally {
        timer.abort()
      }
    },
    /** The leading open is decided; `read`: a stream was read, and no open waits again. */
    done(read: boolean): void {
      if (read) over = true
      const decided = out
      out = undefined
      decided?.resolve()
    },
  }
}
