/**
 * How many batch requests a monitor has out at once: a window that opens by one with each batch
 * answered in its usual time and halves with each that got no answer or came back slowly, as a
 * TCP congestion window does (additive increase, multiplicative decrease).
 *
 * Why: the first checks of 2,000 jobs sent 20 batch requests at once. On a slow link (64 kbit/s,
 * answers of ~27 kB each) the 20 answers shared it, each next answer queued behind the others,
 * and answers whose headers did not come within the time limit were asked again from nothing:
 * a quarter of the waits failed. Held to a few, each answer comes within seconds and the rest go
 * as they come back; on a fast link the window opens within the first round of batches.
 *
 * Slow is told against the fastest answer seen lately, not the time limit alone: a server that
 * takes 6 s for every batch, however many are out, is not a congested link, and holding its
 * batches to one at a time would make each round of checks twenty times longer.
 */

/** Batch requests out at once before any came back (a browser's connections to one host). */
const FIRST = 6
/** The most batch requests out at once. */
const MOST = 32
/**
 * How much the fastest answer seen may grow with each answer after it (a route or a server
 * that became slower for good is learned in a few dozen answers).
 */
const FORGET = 1.1

/** How a batch request came back, for the window. */
export type BatchOutcome =
  /** Answered (whatever it said: a refusal came back too) within `tookMs`. */
  | { answered: true; tookMs: number; limitMs: number }
  /** No answer (a time limit, a network failure): the link may be what failed. */
  | { answered: false }
  /** Ended by its waits before it came back: says nothing of the link. */
  | undefined

/** The batch requests a monitor may have out at once, and has. */
export class BatchWindow {
  #size = FIRST
  #out = 0
  /** The fastest answer seen lately, in ms (see `FORGET`). */
  #fastestMs = Number.POSITIVE_INFINITY

  /** Whether another batch request may go now. */
  get room(): boolean {
    return this.#out < Math.floor(this.#size)
  }

  /** A batch request goes: what `back` is given when it comes back. */
  sent(): { fastestMs: number } {
    this.#out++
    return { fastestMs: this.#fastestMs }
  }

  /**
   * A batch request `sent` came back. Slow: over half its time limit, and over twice the fastest
   * answer seen before it went (none yet: the first answers may all have shared the link).
   */
  back(sent: { fastestMs: number }, outcome: BatchOutcome): void {
    this.#out--
    if (outcome === undefined) return
    let slow = true
    if (outcome.answered) {
      const { tookMs, limitMs } = outcome
      const known = sent.fastestMs < Number.POSITIVE_INFINITY
      slow = tookMs > limitMs / 2 && (!known || tookMs > 2 * sent.fastestMs)
      this.#fastestMs = Math.min(tookMs, this.#fastestMs * FORGET)
    }
    this.#size = slow ? Math.max(1, this.#size / 2) : Math.min(MOST, this.#size + 1)
  }
}
