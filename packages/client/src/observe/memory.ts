/**
 * What a client learned of the server's ways, one per client whatever number of monitors it has
 * (`isolateCalls`): the transport new single-job observations start with, which moves down when
 * one does not work, and whether batches work. Both go back to the best RETRY_BEST_MS later (what
 * failed may have been a bad minute, a route missing during a deployment). The transport goes on
 * in a saved state (`client.exportState()`), passed over there for SAVED_MS.
 */
import type { Transport } from './planner.js'

/** How long a transport (or batches) that failed is passed over for the client's next jobs. */
const RETRY_BEST_MS = 600_000

/**
 * How long a transport that failed is passed over by clients made from a saved state: a program
 * that waits for one job a run (a CLI) found it again at every run, at 3 requests a job on a
 * server without push; a server's transports seldom change, and one that comes is tried a day on.
 */
const SAVED_MS = 86_400_000

/** What a client found of the server's transports, in its saved state. */
export interface SavedTransport {
  /** The transport its waits start with: a better one did not work. */
  use: 'long-poll' | 'poll'
  /** When it found so (epoch ms, the client's clock). */
  since: number
  /** The server it found so of (its base URL): another's is not taken for it. */
  server: string
}

/** The transports from the best to the last resort. */
const DOWNGRADES: readonly Transport[] = ['sse', 'long-poll', 'poll']

/** Whether `to` is a transport below `from` (a fallback, not a step up). */
export function isBelow(to: Transport, from: Transport): boolean {
  return DOWNGRADES.indexOf(to) > DOWNGRADES.indexOf(from)
}

/** See the module's comment. */
export class TransportMemory {
  readonly #best: Transport
  #preferred: Transport
  /** When `#preferred` last moved down. */
  #downgradedAt = 0
  /** When `#preferred` goes back to the best. */
  #retryBestAt = 0
  /** When the server last showed it cannot answer for several jobs in one request. */
  #batchFailedAt = Number.NEGATIVE_INFINITY

  /**
   * `best`: the transport to start with, and to go back to; `saved`: a saved state's, for the
   * server at `server` (read where the client chooses its transport, `'auto'`).
   */
  constructor(
    best: Transport,
    readonly server = '',
    saved?: unknown,
  ) {
    this.#best = best
    this.#preferred = best
    const { use, since, server: of } = (saved ?? {}) as Partial<SavedTransport>
    // Read from storage a user controls: only a transport below the best, at a time, of this server.
    const known = of === server && Number.isFinite(since)
    if (known && use && DOWNGRADES.includes(use) && isBelow(use, best)) {
      this.#preferred = use
      this.#downgradedAt = since as number
      this.#retryBestAt = (since as number) + SAVED_MS
    }
  }

  /** The transport a new observation starts with at `now`. */
  transport(now: number): Transport {
    // (A saved time over an hour later than now, by a clock set back or a state edited, too.)
    const over = now >= this.#retryBestAt || this.#retryBestAt - now > SAVED_MS + 3_600_000
    if (this.#preferred !== this.#best && over) this.#preferred = this.#best
    return this.#preferred
  }

  /** `to` did work where a better one did not: the client's next jobs start with it. */
  movedDown(to: Transport, now: number): void {
    if (isBelow(this.#preferred, to)) return
    this.#preferred = to
    this.#downgradedAt = now
    this.#retryBestAt = now + RETRY_BEST_MS
  }

  /** What it found, for a saved state: undefined while the best works (or is tried again). */
  toJSON(now: number): SavedTransport | undefined {
    const use = this.transport(now)
    if (use === 'sse' || use === this.#best) return undefined
    return { use, since: this.#downgradedAt, server: this.server }
  }

  /** Whether to ask for several jobs in one request at `now`. */
  batches(now: number): boolean {
    return now - this.#batchFailedAt >= RETRY_BEST_MS
  }

  /** The server showed it cannot answer for several jobs in one request. */
  batchesFailed(now: number): void {
    this.#batchFailedAt = now
  }
}
