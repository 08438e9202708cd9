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
 * Slow is told against the fastest answer seen lately, per id asked, not the time limit alone: a
 * server that takes 6 s for every batch, however many are out, is not a congested link, and
 * holding its batches to one at a time would make each round of checks twenty times longer; nor
 * is one whose time grows with the ids asked (a batch of 2 ids is no yardstick for one of 100).
 * Only what a batch says of the link counts: not one its waits ended, one never sent (the
 * circuit open), nor one cut short by a wait's deadline (a limit of a second, not the link's).
 */
import { isCircuitOpenError, isNetworkError, isTimeoutError } from '../errors.js'

/** Batch requests out at once before any came back (a browser's connections to one host). */
const FIRST = 6
/** The most batch requests out at once. */
const MOST = 32
/**
 * How much the fastest answer seen may grow with each answer after it (a route or a server
 * that became slower for good is learned in a few dozen answers).
 */
const FORGET = 1.1

/**
 * A batch request out: how many ids it asked, the fastest answer known when it went, and whether
 * it is alone (no other batch out the whole time: its time is the link's own, not a share).
 */
export interface SentBatch {
  ids: number
  fastestPerIdMs: number
  alone: boolean
}

/** How a batch request came back, for the window (see `outcomeOf`). */
export type BatchOutcome =
  /** Answered (whatever it said: a refusal came back too) within `tookMs`. */
  | { answered: true; tookMs: number; limitMs: number }
  /** No answer within the request's whole time limit, or none at all: the link may have failed. */
  | { answered: false }
  /** Says nothing of the link. */
  | undefined

/**
 * What a batch request that failed with `error` says of the link: nothing when its waits ended
 * it (`aborted`), when it was never sent (the circuit open), or when a wait's deadline cut its
 * time limit short (`cutShort`); an answer when one came (an API error, a body that did not
 * read); else none came.
 */
export function failureOutcome(error: unknown, aborted: boolean, cutShort: boolean): BatchOutcome {
  if (aborted || isCircuitOpenError(error)) return undefined
  if (isTimeoutError(error)) return cutShort ? undefined : { answered: false }
  return isNetworkError(error) ? { answered: false } : undefined
}

/** The batch requests a monitor may have out at once, and has. */
export class BatchWindow {
  #size = FIRST
  readonly #out = new Set<SentBatch>()
  /** The fastest answer seen lately, in ms per id asked (see `FORGET`). */
  #fastestPerIdMs = Number.POSITIVE_INFINITY

  /** Whether another batch request may go now. */
  get room(): boolean {
    return this.#out.size < Math.floor(this.#size)
  }

  /** A batch request of `ids` ids goes: what `back` is given when it comes back. */
  sent(ids: number): SentBatch {
    for (const other of this.#out) other.alone = false
    const sent = { ids, fastestPerIdMs: this.#fastestPerIdMs, alone: this.#out.size === 0 }
    this.#out.add(sent)
    return sent
  }

  /**
   * A batch request `sent` came back. Slow: over half its time limit, and over twice as long a
   * id as the fastest answer seen before it went (none yet: the first answers may all have
   * shared the link).
   */
  back(sent: SentBatch, outcome: BatchOutcome): void {
    this.#out.delete(sent)
    if (outcome === undefined) return
    let slow = true
    if (outcome.answered) {
      const { tookMs, limitMs } = outcome
      // A millisecond at least: an answer within one tick of the clock is no yardstick.
      const perIdMs = Math.max(1, tookMs) / sent.ids
      const known = sent.fastestPerIdMs < Number.POSITIVE_INFINITY
      slow = tookMs > limitMs / 2 && (!known || perIdMs > 2 * sent.fastestPerIdMs)
      // One that went alone is the yardstick from now on (the server or the link became
      // slower for good: known at once, not after dozens of answers).
      this.#fastestPerIdMs = sent.alone ? perIdMs : Math.min(perIdMs, this.#fastestPerIdMs * FORGET)
    }
    this.#size = slow ? Math.max(1, this.#size / 2) : Math.min(MOST, this.#size + 1)
  }
}
