/**
 * While the browser is offline (`navigator.onLine` false), no request is sent: each waits for
 * the network to come back, within its own time limit, then goes; one that fails while the
 * browser is offline failed for that, not for the server: nothing against the circuit breaker,
 * no retry spent, and it waits too. (A `createAndWait` started offline failed in 10 s, telling
 * to check that the server is reachable, its retries having opened the circuit breaker.) Where
 * there is no page (Node, Bun, Deno, workers), never offline.
 */
import { whenAborted } from '../abort.js'
import { type Clock, sleepWaking } from '../clock.js'
import { currentPage } from '../observe/page.js'

/** Whether the page's browser says it is offline now. */
export function offline(): boolean {
  return currentPage()?.offline() ?? false
}

/**
 * Resolves with true once the browser is online (at once when it is, or where there is no
 * page), false when it is still offline after `withinMs`; rejects with the signal's reason when
 * it aborts first.
 */
export async function whenOnline(
  clock: Clock,
  withinMs: number,
  signal?: AbortSignal,
): Promise<boolean> {
  const page = currentPage()
  if (!page?.offline()) return true
  signal?.throwIfAborted()
  const stop = new AbortController()
  try {
    return await new Promise<boolean>((resolve, reject) => {
      const unlisten = page.onReturn((online) => {
        if (online) resolve(true)
      })
      const unlink = signal ? whenAborted(signal, () => reject(signal.reason)) : () => {}
      stop.signal.addEventListener('abort', () => {
        unlisten()
        unlink()
      })
      if (withinMs < Number.POSITIVE_INFINITY) {
        // (Looking at the clock now and then: a laptop may sleep meanwhile.)
        sleepWaking(clock, Math.max(0, withinMs), stop.signal).then(
          () => resolve(!page.offline()),
          () => {},
        )
      }
    })
  } finally {
    stop.abort()
  }
}
