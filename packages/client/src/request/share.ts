/**
 * How much of the server's rate this client takes (pacing.ts spaces its turns to it), when
 * others may take some too.
 *
 * A stated limit may be shared (other processes, other machines with the same key): a 429
 * saying the bucket is empty while this client kept to it says so, and this client's share of
 * the rate is halved (at most once per round of requests, down to 1/64), raised by 0.1 request
 * a second each second, and back to the whole after a minute without a refusal.
 *
 * A server that states no limit and refuses some requests (a 429, saying when to come back or
 * not) while it answers others has its limit learned, as TCP learns a path's: half the last
 * second's answered rate at the first refusal, halved again at a refusal of a request sent after
 * that, raised by 0.1 request a second each second, and forgotten after a minute without
 * refusals.
 *
 * Requests are known by their tickets (pacing.ts), which grow in the order turns are given: a
 * refusal of a request sent before the last halving was sent at the old rate and says nothing
 * of the new one.
 */
import type { Ticket } from './pacing.js'

/**
 * A learned limit's slowest rate (a request every 5 s), the rise of a learned limit or a share
 * (0.1 request a second more for each second it is kept to), and how long without a refusal
 * either is kept.
 */
const LEARNED_MIN_PER_MS = 0.2 / 1_000
const STEP_PER_MS = 0.1 / 1_000
const FORGET_MS = 60_000
/** The least share of a stated limit this client keeps to when others take the rest. */
const MIN_SHARE = 1 / 64

/** A client's share of the server's rate: of a stated limit, or of one learned from refusals. */
export class RateShare {
  /** This client's share of a stated limit's rate (others may use the rest), and that rate. */
  #share = 1
  #statedPerMs = 0
  /** When the rate was last halved, and the last ticket given by then. */
  #halvedAt = 0
  #halvedTicket = 0
  /** When the rate was last raised or halved. */
  #raisedAt = 0
  /** Answers in the current second (from `since`) and in the one before; the last one's time. */
  #answers = { since: 0, current: 0, before: 0, lastAt: Number.NEGATIVE_INFINITY }

  /** The rate this client keeps to of a limit stated at `perMs`: its share of it. */
  ofStated(perMs: number): number {
    this.#statedPerMs = perMs
    return perMs * this.#share
  }

  /**
   * A 429 of `ticket`'s request saying a stated limit's bucket is empty while this client kept
   * to it: its share halves, unless the request was sent before the last halving (`last`: the
   * last ticket given).
   */
  halve(ticket: Ticket, last: Ticket, now: number): void {
    if (ticket <= this.#halvedTicket) return
    this.#halved(last, now)
    this.#share = Math.max(MIN_SHARE, this.#share * 0.5)
  }

  /**
   * A bare 429 of `ticket`'s request (`last`: the last ticket given) where the server states no
   * limit (`learnedPerMs` undefined) or one was learned: the learned rate, half the last
   * second's answers or half the learned one; undefined when the refusal says nothing new.
   */
  learn(ticket: Ticket, last: Ticket, now: number, learnedPerMs?: number): number | undefined {
    if (learnedPerMs !== undefined && ticket <= this.#halvedTicket) return undefined
    this.#halved(last, now)
    const { current, before } = this.#answers
    const perMs = learnedPerMs !== undefined ? learnedPerMs / 2 : Math.max(current, before) / 2_000
    return Math.max(LEARNED_MIN_PER_MS, perMs)
  }

  /**
   * Whether a bare 429 now is a limit to learn, where the server states none (`learnedPerMs`
   * undefined) or one was learned: it answered other requests lately (a quota used up refuses
   * them all): within two seconds, or two of the learned rate's intervals when slower.
   */
  learns(now: number, learnedPerMs?: number): boolean {
    const lately = Math.max(2_000, learnedPerMs ? 2 / learnedPerMs : 0)
    return now - this.#answers.lastAt < lately
  }

  /** An answer: counted for a learned limit's first guess (see `learn`). */
  count(now: number): void {
    const count = this.#answers
    if (now - count.since >= 1_000) {
      count.before = now - count.since >= 2_000 ? 0 : count.current
      count.current = 0
      count.since = now
    }
    count.current++
    count.lastAt = now
  }

  /**
   * The rate to keep to after an answer to `ticket`'s request under a limit of `perMs`
   * (`learned`, or this client's share of a stated one): 0.1 request a second more for each
   * second since the last rise, at most twice the rate at once, so that clients sharing a limit
   * rise alike, as TCP's flows do each round trip. (Raised with each answer, the client
   * answered most rose fastest and took the whole limit: of two clients on one key at 2
   * requests a second, one finished at 128 s, the other at 276 s.) Undefined: a learned limit
   * kept a minute without a refusal is forgotten (it was a passing one, or is far above this
   * client's pace).
   */
  raised(ticket: Ticket, now: number, perMs: number, learned: boolean): number | undefined {
    if (ticket <= this.#halvedTicket || (!learned && this.#share === 1)) return perMs
    const rise = (STEP_PER_MS * (now - this.#raisedAt)) / 1_000
    this.#raisedAt = now
    const kept = now - this.#halvedAt >= FORGET_MS
    if (learned) return kept ? undefined : perMs + Math.min(perMs, rise)
    // Back to the whole after a minute without a refusal.
    const share = kept ? 1 : this.#share
    this.#share = Math.min(1, share * 2, share + rise / this.#statedPerMs)
    return this.#statedPerMs * this.#share
  }

  /** The rate halved at `now`, `last` the last ticket given by then. */
  #halved(last: Ticket, now: number): void {
    this.#halvedTicket = last
    this.#halvedAt = now
    this.#raisedAt = now
  }
}
