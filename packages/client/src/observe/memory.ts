/**
 * What a client learned of the server's ways, one per client whatever number of monitors it has
 * (`isolateCalls`): the transport new single-job observations start with, which moves down when
 * one does not work, and whether batches work. Both go back to the best RETRY_BEST_MS later (what
 * failed may have been a bad minute, a route missing during a deployment).
 */
import type { Transport } from './planner.js'

/** How long a transport (or batches) that failed is passed over for the client's next jobs. */
const RETRY_BEST_MS = 600_000

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
  /** When the server last showed it cannot answer for several jobs in one request. */
  #batchFailedAt = Number.NEGATIVE_INFINITY

  /** `best`: the transport to start with, and to go back to. */
  constructor(best: Transport) {
    this.#best = best
    this.#preferred = best
  }

  /** The transport a new observation starts with at `now`. */
  transport(now: number): Transport {
    if (this.#preferred !== this.#best && now - this.#downgradedAt >= RETRY_BEST_MS) {
      this.#preferred = this.#best
    }
    return this.#preferred
  }

  /** `to` did work where a better one did not: the client's next jobs start with it. */
  movedDown(to: Transport, now: number): void {
    if (isBelow(this.#preferred, to)) return
    this.#preferred = to
    this.#downgradedAt = now
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
