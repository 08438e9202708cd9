/**
 * Browser manners: while the page is hidden, checks are spaced four times wider; while the
 * browser is offline, nothing is sent; when the page is shown again or the network comes back,
 * the jobs are checked at once, a few milliseconds apart (browsers run the timers they deferred
 * all together). Where there is no page (Node, Bun, Deno, a worker) none of this exists.
 */

/** What the monitor needs to know of the page it runs in. */
export interface Page {
  hidden(): boolean
  offline(): boolean
  /** Calls `back` when the page is shown again or the network returns; returns the stopper. */
  onReturn(back: () => void): () => void
}

/** How much wider checks are spaced while the page is hidden. */
export const HIDDEN_FACTOR = 4

/** The page this code runs in, if it runs in one. */
export function currentPage(): Page | undefined {
  const { document, window, navigator } = globalThis as {
    document?: Document
    window?: Window
    navigator?: Navigator
  }
  if (!document || !window) return undefined
  return {
    hidden: () => document.visibilityState === 'hidden',
    offline: () => navigator?.onLine === false,
    onReturn(back) {
      const shown = () => {
        if (document.visibilityState === 'visible') back()
      }
      document.addEventListener('visibilitychange', shown)
      window.addEventListener('online', back)
      return () => {
        document.removeEventListener('visibilitychange', shown)
        window.removeEventListener('online', back)
      }
    },
  }
}
