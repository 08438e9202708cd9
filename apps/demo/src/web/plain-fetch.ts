/**
 * The page's own requests outside the client (the simulator panel, the race's naive loop): a
 * `fetch` whose failure to get any answer is told apart from every other error, so the page can
 * say the mock server is gone rather than "Failed to fetch".
 */

/** A plain `fetch` that got no answer. */
class Unreachable extends Error {
  override name = 'Unreachable'
}

/** Whether `error` is a plain `fetch`'s failure to get an answer. */
export function isUnreachable(error: unknown): boolean {
  return error instanceof Unreachable
}

/** `fetch`, its failure to get an answer thrown as an `Unreachable`. */
export async function plainFetch(url: string, init: RequestInit = {}): Promise<Response> {
  try {
    return await fetch(url, init)
  } catch (cause) {
    // Aborted by the page: not the server's doing.
    if ((cause as Error | undefined)?.name === 'AbortError') throw cause
    throw new Unreachable(`No answer from ${url}`, { cause })
  }
}
