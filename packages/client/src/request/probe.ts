/**
 * Requests while the server's limit is unknown (no answer yet): the first goes alone, the
 * probe, and the rest wait for its answer (one round trip), so a burst of a thousand waits
 * learns the limit before it sends a thousand requests. Every PROBE_ALONE_MS without an answer,
 * twice as many more go as before (1, 1, 2, 4...): a first request never answered (a proxy
 * holding it) does not hold the others for its whole time limit, and a server slow to answer it
 * is not sent the whole burst.
 */

/**
 * How long the first request goes alone while the limit is unknown: its answer normally comes in
 * milliseconds; one that does not (a proxy that holds a stream's headers, a black hole) must not
 * hold every other request of the client for its whole time limit, one after the other.
 */
const PROBE_ALONE_MS = 2_000

/** Turns given before the server's limit is known. */
export class Probe {
  /** Whether the probe went (out since `#since`). */
  #probing = false
  #since = 0
  /** How many more go in the next window without an answer. */
  #next = 1
  /** How many still go in this one. */
  #left = 0

  /** Takes a turn now if one is free (see the top of this file). */
  admit(now: number): boolean {
    if (!this.#probing) {
      this.#probing = true
      this.#since = now
      return true
    }
    if (now - this.#since >= PROBE_ALONE_MS) {
      this.#since = now
      this.#left = this.#next
      this.#next *= 2
    }
    if (this.#left === 0) return false
    this.#left--
    return true
  }

  /** In how many ms the next window opens (more turns come). */
  untilMs(now: number): number {
    return this.#since + PROBE_ALONE_MS - now
  }
}
