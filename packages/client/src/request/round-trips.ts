/**
 * How long a request takes to reach the server, from the round trips of the plain requests
 * answered lately: half the shortest of the last few (the rest of a round trip is the server at
 * work, the way back, a slow moment). A check planned for when a job is N s old is sent that much
 * earlier, so it reaches the server then: over a 200 ms round trip, the end is known 100 ms sooner.
 * And whether the server ever answered this client at all (observe/failures.ts).
 */

/** Round trips kept. */
const KEPT = 8
/** Never more than this early: a longer way there is a network in trouble, not a path to plan by. */
const MAX_OUTBOUND_MS = 500

/** The recent round trips of one client. */
export class RoundTrips {
  #ms: number[] = []
  /** Whether any request of the client was answered, with any status. */
  answered = false

  /** A plain request (not held, not a stream) was answered `ms` after it was sent. */
  add(ms: number): void {
    if (!(ms >= 0)) return
    this.#ms.push(ms)
    if (this.#ms.length > KEPT) this.#ms.shift()
  }

  /** How long a request takes to reach the server, as well as the client can tell (0 unknown). */
  outboundMs(): number {
    if (this.#ms.length === 0) return 0
    return Math.min(MAX_OUTBOUND_MS, Math.min(...this.#ms) / 2)
  }
}
