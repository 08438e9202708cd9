/**
 * How much of the server's rate this client takes (pacing.ts spaces its turns to it), when
 * others may take some too.
 *
 * A stated limit may be shared (other processes, other machines with the same key): a 429
 * saying the bucket is empty while this client kept to it says so, and this client's share of
 * the rate is halved (at most once per round of requests, down to 1/64), raised by 0.1 request
 * a second each second, and back to the whole after a minute without a refusal; while answers
 * say at least half the bucket is left (the others are not using it), doubled every 4 s. (A
 * client cut back by refusals while others on the key were busy went on at half the rate for
 * 35 s after they stopped, every answer saying the bucket was full: now 5 s. Doubled each
 * second, 20 clients sharing 2 requests a second overshot together: 157 s for 200 requests
 * instead of 125.)
 *
 * A server that states no limit and refuses some requests (a 429, saying when to come back or
 * not) while it answers others has its limit learned, as TCP learns a path's: half the last
 * second's answered rate at the first refusal, halved again at a refusal of a request sent after
 * that, and forgotten after a minute without refusals. Between refusals it rises as CUBIC's
 * window does (RFC 9438), on a curve of time since the last refusal: back to the rate refused
 * at in 8 s, slowly near it, then faster past it (and back to a little less than it, when
 * refused before reaching it: others take some). Raised by 0.1 request a second each second, a
 * rate halved from 5 a second took 25 s to come back (150 createAndWaits of 40 s on a server
 * of 5 a second stating nothing: 12 failed); raised half the way back each second, it came
 * back too soon (a quota of a create a second: every other create refused).
 *
 * Requests are known by their tickets (pacing.ts), which grow in the order turns are given: a
 * refusal of a request sent before the last halving was sent at the old rate and says nothing
 * of the new one.
 */
import type { Ticket } from './pacing.js'

/**
 * A learned limit's slowest rate (a request every 5 s), the rise of a share of a stated limit
 * (0.1 request a second more for each second it is kept to), and how long without a refusal
 * either is kept.
 */
const LEARNED_MIN_PER_MS = 0.2 / 1_000
const STEP_PER_MS = 0.1 / 1_000
const FORGET_MS = 60_000
/** The rise of a share behind a proxy's limit (front-limit.ts): of the stated rate, a second. */
const FRONT_STEP = 0.005
/** The least share of a stated limit this client keeps to when others take the rest. */
const MIN_SHARE = 1 / 64
/**
 * A learned rate's curve, `t` seconds after a refusal: w (1 + c (t - k)^3), w the rate refused
 * at, half the rate then at first and w again after k seconds (8 s when it starts from half w).
 */
const CUBIC_C = 0.5 / 8 ** 3

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
  /** The learned rate's curve since the last refusal (see CUBIC_C), `w` in requests a ms. */
  #curve = { w: 0, k: 0 }
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
    // The answers of the last two seconds (none for a first guess where none came lately: a
    // quota used up elsewhere refuses a client's first write).
    const { current, before, lastAt } = this.#answers
    const answered = now - lastAt < 2_000 ? Math.max(current, before) : 0
    const refusedAt = Math.max(2 * LEARNED_MIN_PER_MS, learnedPerMs ?? answered / 1_000)
    const perMs = refusedAt / 2
    // Refused before the rate was back where it was refused last: others take some of it, it
    // rises back to less.
    const w = refusedAt < this.#curve.w ? refusedAt * 0.75 : refusedAt
    this.#curve = { w, k: Math.cbrt(Math.max(0, w - perMs) / (CUBIC_C * w)) }
    return perMs
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
   * The rate to keep to after an answer to `ticket`'s request under a limit of `perMs`: a
   * `learned` one's on its curve since the last refusal (see CUBIC_C); this client's share of a
   * stated one 0.1 request a second more for each second since the last rise (doubled every
   * 4 s while the stated bucket is at least half full: `roomy`), at most twice the
   * rate at once, so that clients sharing a limit rise alike, as TCP's flows do each round trip. (Raised with each answer, the client
   * answered most rose fastest and took the whole limit: of two clients on one key at 2
   * requests a second, one finished at 128 s, the other at 276 s.) Undefined: a learned limit
   * kept a minute without a refusal is forgotten (it was a passing one, or is far above this
   * client's pace). `behind`: a limit in front of the stated one refused lately: the share is
   * not given back whole after a minute without refusals, nor doubled for a roomy bucket (the
   * server's says nothing of the proxy's).
   */
  raised(
    ticket: Ticket,
    now: number,
    perMs: number,
    learned: boolean,
    roomy = false,
    behind = false,
  ): number | undefined {
    if (ticket <= this.#halvedTicket || (!learned && this.#share === 1)) return perMs
    const seconds = (now - this.#raisedAt) / 1_000
    this.#raisedAt = now
    const kept = now - this.#halvedAt >= FORGET_MS && !behind
    if (learned) return kept ? undefined : this.#learned(now)
    // Back to the whole after a minute without a refusal; doubled every 4 s while the server's
    // bucket is at least half full (`roomy`).
    // Behind a proxy's limit, by FRONT_STEP of the stated rate each second (0.1 request a
    // second on a stated 50 took 140 s back from the halvings of a first burst: 300 creates
    // behind nginx's 20 a second took 65 s; 1 % a second, more refusals in a row, a read
    // refused four times failed).
    const share = kept ? 1 : this.#share
    const step = behind ? FRONT_STEP * seconds : (STEP_PER_MS * seconds) / this.#statedPerMs
    const grown = roomy && !behind ? share * 2 ** (seconds / 4) : share + step
    this.#share = Math.min(1, share * 2, grown)
    return this.#statedPerMs * this.#share
  }

  /** A learned rate at `now`, on the curve since the last refusal (see CUBIC_C). */
  #learned(now: number): number {
    const { w, k } = this.#curve
    const t = (now - this.#halvedAt) / 1_000
    return Math.max(LEARNED_MIN_PER_MS, w * (1 + CUBIC_C * (t - k) ** 3))
  }

  /** The rate halved at `now`, `last` the last ticket given by then. */
  #halved(last: Ticket, now: number): void {
    this.#halvedTicket = last
    this.#halvedAt = now
    this.#raisedAt = now
  }
}
