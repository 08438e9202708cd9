/**
 * What a client knows of the server's rate limit, and how each answer teaches it: the token
 * bucket the pacer gives turns under (pacing.ts).
 *
 * The server says its limit (a quota per window, what is left, when the window resets: read in
 * rate-limit-headers.ts). The bucket mirrors the server's: a token per request, refilled at the
 * quota's rate, never above what the server last said was left; a fixed window used up waits for
 * its reset; a 429's `Retry-After` empties it until then (a write's that says tokens are left
 * holds only the writes: write-limit.ts), plus up to one of this client's own intervals at
 * random, so that clients refused together do not come back together. A stated limit may be
 * shared (other processes, other machines with the same key), and a server may state none and
 * refuse some requests all the same: how much of the rate this client takes then is share.ts's.
 *
 * Until the first answer the limit is unknown: the first request goes alone (probe.ts). A server
 * that states no limit is not paced, until it refuses some requests while it answers others:
 * then its limit is learned (share.ts). Writes refused have a limit of their own learned
 * (write-limit.ts), which they go under besides; a write's refusal teaches the limit of every
 * request too while none is learned (the first, or a minute after the last), else only while a
 * read was refused in the last minute. A quota of a create a second, 30 createAndWaits: learned
 * for every request, the checks went at the creates' pace, each job known 4.1 s after its end on
 * average, the last at 68 s; now 2.5 s and 58 s. (A limit of every request learned from each
 * refusal of a write gave 5.0 s and 60 s; one of writes alone, the checks unpaced where the limit
 * was every request's, took the turns that creates needed: 150 createAndWaits of 40 s on a server
 * of 5 a second stating none, 45 failed.)
 */

import type { Clock } from '../clock.js'
import type { ApiError } from '../errors.js'
import { FrontLimit } from './front-limit.js'
import { Probe } from './probe.js'
import { readLimit, refusalDelay } from './rate-limit-headers.js'
import { RateShare } from './share.js'
import { Unavailable } from './unavailable.js'
import { WriteLimit, type WriteToken } from './write-limit.js'

/** What is known of the server's limit. */
export type Limit =
  /** No answer yet: the first request goes alone (probe.ts). */
  | { kind: 'unknown'; probe: Probe }
  /** The server states no limit. */
  | { kind: 'none' }
  /**
   * `tokens` at `at`, refilled at `perMs` up to `capacity`; `learned` when the server states no
   * limit but refused past one (share.ts).
   */
  | {
      kind: 'bucket'
      tokens: number
      at: number
      perMs: number
      capacity: number
      learned?: boolean
    }

/** How a request given a turn ended (see `ServerLimit.answered`). */
export type Outcome =
  | 'ok'
  | 'failed'
  /**
   * Answered with an error that shows the server took it (a 404, a 409): raises a limit learned
   * from refusals as an answer does; a failure otherwise (it says nothing of the server being
   * back after a 503, or of a proxy's limit: a route outside a maintenance may answer 404).
   */
  | 'taken'
  /** `again`: a request refused before (a retry): it counts once as a proxy's refusal. */
  | { refused: number | undefined; again?: boolean }
  /**
   * A 503 saying when the server takes requests again (`Retry-After`, ms), and how long the
   * client holds its requests for it (at most a minute by default): see unavailable.ts.
   */
  | { unavailable: number; holdMs: number; by?: ApiError | undefined }

/** A request's answer, and where its turn stands among the others (see `ServerLimit.answered`). */
export interface Answer {
  /** Its turn's ticket (pacing.ts): negative for a held request let go before the first answer. */
  ticket: number
  /** How many tickets were given so far. */
  tickets: number
  /** How many requests given a turn after this one are still out. */
  later: number
  /** How many requests given a turn are still out, this one not counted. */
  out: number
  /** Whether it was a write (what its turn took, for one under the writes' learned limit). */
  given: boolean | WriteToken | undefined
  /** Its answer's headers: undefined when none came. */
  headers: Headers | undefined
  outcome: Outcome
  /** Whether the server held it (what it said was left is as old as the hold). */
  held: boolean
}

/** How long after a refused read a write's refusal still teaches the limit of every request. */
const READS_REFUSED_MS = 60_000

/** The limit before any answer. */
function UNKNOWN(): Limit {
  return { kind: 'unknown', probe: new Probe() }
}

/** What one client knows of the server's rate limit. */
export class ServerLimit {
  readonly #clock: Clock
  readonly #random: () => number
  #limit: Limit = UNKNOWN()
  /** A window's length as the resets stated without a policy suggest (the longest seen). */
  #windowMs = 0
  /** Until when the server pauses this client (a `Retry-After`, a fixed window used up). */
  #pausedUntil = 0
  /**
   * Whether the stated window is a fixed one (the quota back whole at each reset), not a bucket
   * refilled as it goes: learned from two refusals for an empty window that ask to wait far past
   * the next token such a bucket would give (an hour's 20 requests, read as one every 3 minutes:
   * each refused, and each refusal halved this client's share, as if others took the tokens).
   */
  #fixedWindow = false
  /** Such refusals so far: the second makes the window a fixed one (one may be a limit behind). */
  #longRefusals = 0
  /** The newest ticket answered: an older answer's count of what is left is stale. */
  #newestAnswered = Number.NEGATIVE_INFINITY
  /** How much of the server's rate this client takes. */
  readonly #share = new RateShare()
  /** The writes' own limit, when their refusals taught one (write-limit.ts). */
  readonly writes = new WriteLimit()
  /** Whether the server said it is unavailable for now (a 503 with `Retry-After`). */
  readonly #unavailable = new Unavailable()
  /** The same for writes alone: a write's 503 (creates refused in a read-only maintenance). */
  readonly #writesUnavailable = new Unavailable()
  /**
   * The first ticket given after a read was refused though the server said tokens are left,
   * until one given since is answered: a request sent after such a refusal was known and
   * refused so too holds every request (`#pause`); the first refusal, its own alone (its retry
   * waits it out). One now and then (a gateway's, a route's) held them all a second each: 100
   * jobs followed by their streams, 15 % of the requests refused so, were known 23 s late at
   * p95 (the streams opened one a pause).
   */
  #refusedFrom: number | undefined
  /** When a read was last refused where no limit is stated. */
  #readRefusedAt = Number.NEGATIVE_INFINITY
  /** A limit in front of the stated one (a proxy's), when one refuses requests often. */
  readonly #front = new FrontLimit()
  /** When the older rate-limit headers were last read while the server stated no limit. */
  #olderReadAt = Number.NEGATIVE_INFINITY

  /** `random`: uniform in [0, 1), to spread the returns of clients refused together. */
  constructor(clock: Clock, random: () => number) {
    this.#clock = clock
    this.#random = random
  }

  /** What is known now. */
  get limit(): Readonly<Limit> {
    return this.#limit
  }

  /** Tokens in the bucket now: 0 before the first answer, Infinity when the server states none. */
  tokens(): number {
    const limit = this.#limit
    const now = this.#clock.now()
    // None while the server said it takes no request.
    if (this.#unavailable.untilMs(now) > 0) return 0
    if (limit.kind !== 'bucket') return limit.kind === 'none' ? Infinity : 0
    return refill(limit, now)
  }

  /** Whether writes wait for their own limit now (write-limit.ts). */
  writesHeld(): boolean {
    return this.writesUntilMs() > 0
  }

  /** In how many ms writes may go by their own limit and what the server said of them. */
  writesUntilMs(): number {
    const now = this.#clock.now()
    return Math.max(this.writes.untilMs(now), this.#writesUnavailable.untilMs(now))
  }

  /**
   * Takes a turn now if the limits allow one (a `write`'s: the writes' too, whose token the pacer
   * takes as it gives the turn).
   */
  admit(write: boolean): boolean {
    if (write && this.writesHeld()) return false
    const now = this.#clock.now()
    if (!this.#unavailable.allows(now) || !this.#admitted(now)) return false
    this.#unavailable.went(now)
    if (write) this.#writesUnavailable.went(now)
    return true
  }

  /** Takes a turn now if the limit allows one (see `admit`). */
  #admitted(now: number): boolean {
    const limit = this.#limit
    if (limit.kind === 'none') return true
    if (limit.kind === 'unknown') return limit.probe.admit(now)
    limit.tokens = refill(limit, now)
    limit.at = now
    if (limit.tokens < 1) return false
    limit.tokens -= 1
    return true
  }

  /**
   * A turn given and not used (no request was sent) gives its token back: not while the server
   * pauses this client (a `Retry-After`, a fixed window used up), whose pause is not cut short.
   * (Below none left otherwise: a debt of the requests still out.)
   */
  gaveBack(given: boolean | WriteToken | undefined): void {
    const limit = this.#limit
    if (limit.kind === 'bucket' && this.#clock.now() >= this.#pausedUntil) {
      limit.tokens = Math.min(limit.capacity, limit.tokens + 1)
    }
    if (typeof given === 'object') this.writes.gaveBack(given)
  }

  /**
   * In how many ms the next turn may come by the limit (not the writes'): the next token's time,
   * and up to one interval more at random (a second at most, and less than the server's bucket
   * holds beyond two tokens: a token past a full bucket is lost; none for a turn due `soon`, a
   * wait's last look). Turns that come exactly as the tokens do take every one: another client
   * on the same key, asking at other times, was refused each time and starved (its waits timed
   * out on jobs long ended). Spread so, the server's bucket is often a token ahead for it; the
   * tokens left meanwhile go at the next turn.
   */
  untilTurnMs(soon: boolean, spreadMaxMs: number): number {
    const now = this.#clock.now()
    return Math.max(this.#unavailable.untilMs(now), this.#limitTurnMs(now, soon, spreadMaxMs))
  }

  /** In how many ms requests may go by what the server said of its being unavailable (0: now). */
  unavailableMs(): number {
    return Math.max(0, this.#unavailable.untilMs(this.#clock.now()))
  }

  /**
   * How much is left of the time the server said it takes no request (a 503's `Retry-After`),
   * for a write (`write`) or any request (0: none).
   */
  pausedMs(write: boolean): number {
    const now = this.#clock.now()
    const writes = write ? this.#writesUnavailable.saidMs(now) : 0
    return Math.max(this.#unavailable.saidMs(now), writes)
  }

  /** The refusal that said so (see `pausedMs`), when one does. */
  pausedBy(write: boolean): ApiError | undefined {
    const now = this.#clock.now()
    const writes = write ? this.#writesUnavailable.saidMs(now) : 0
    const unavailable =
      write && writes > this.#unavailable.saidMs(now) ? this.#writesUnavailable : this.#unavailable
    return unavailable.refusal
  }

  /** In how many ms the next turn may come by the limit alone (see `untilTurnMs`). */
  #limitTurnMs(now: number, soon: boolean, spreadMaxMs: number): number {
    const limit = this.#limit
    if (limit.kind === 'unknown') return limit.probe.untilMs(now)
    if (limit.kind === 'none') return 0
    const spreadMs = soon
      ? 0
      : this.#random() * Math.min(1, limit.capacity - 2) * Math.min(1 / limit.perMs, spreadMaxMs)
    return (1 - refill(limit, now)) / limit.perMs + Math.max(0, spreadMs)
  }

  /**
   * A request given a turn ended (`answer`). A server that states no limit and refuses some
   * requests (with a 429, saying when to come back or not) while it answers others has its limit
   * learned (share.ts).
   */
  answered(answer: Answer): void {
    const { ticket, tickets, later, headers, outcome, held } = answer
    const now = this.#clock.now()
    const limit = this.#limit
    // Once a server is seen stating no limit, the older forms are read only on other answers
    // than a plain success, and once a second: reading eight headers on every answer cost
    // about 5 % of a request's handling.
    const older = limit.kind !== 'none' || outcome !== 'ok' || now - this.#olderReadAt >= 1_000
    if (older && limit.kind === 'none') this.#olderReadAt = now
    const stated = headers && readLimit(headers, now, older)
    const write = answer.given !== undefined && answer.given !== false
    if (typeof outcome === 'object' && 'unavailable' in outcome) {
      // Up to a second more at random: clients told together do not come back together.
      const spreadMs = this.#random() * Math.min(1_000, outcome.holdMs)
      // A write's may be the writes' alone (creates refused, reads answered): reads go on.
      ;(write ? this.#writesUnavailable : this.#unavailable).said(
        now + outcome.holdMs + spreadMs,
        now + outcome.unavailable,
        outcome.by,
      )
    } else {
      this.#unavailable.answered(outcome === 'ok')
      if (write) this.#writesUnavailable.answered(outcome === 'ok')
    }
    const refused = typeof outcome === 'object' && 'refused' in outcome
    if (stated) {
      // Without a policy's window, the longest time to a reset seen stands for it.
      const resetMs = (stated.resetS ?? 0) * 1_000
      this.#windowMs = Math.max(this.#windowMs, resetMs)
      const statedPerMs = stated.quota / (stated.windowS ? stated.windowS * 1_000 : this.#windowMs)
      // Refused for an empty bucket though it kept to the policy: others share it. (Not a
      // refusal that says tokens are left: about something else; nor under a fixed window
      // whose length is still a guess: the guess's.)
      const emptied = refused && stated.remaining === 0 && stated.windowS !== undefined
      // (Seconds of `Retry-After` are whole: one more is the next token's too.)
      // (The refusal's own delay, not the pause's: that is capped at what a call waits out.)
      const waitMs = emptied && headers ? (refusalDelay(headers, now) ?? 0) : 0
      if (waitMs > 1_000 + 2 / statedPerMs) this.#fixedWindow = ++this.#longRefusals >= 2
      else if (emptied && limit.kind === 'bucket' && !limit.learned)
        this.#share.halve(ticket, tickets, now)
      // A refused request took a token here, and none from the server's bucket: it is given
      // back (the tokens of the requests still out were counted against what an earlier answer
      // said was left, and a burst refused would otherwise leave a debt of a token each), when
      // the refusal says what is left, which then bounds it.
      const bounded = stated.remaining !== undefined && !held && ticket >= 0
      if (refused && bounded && limit.kind === 'bucket') limit.tokens += 1
      const perMs = this.#share.ofStated(statedPerMs)
      // Requests given their turn after this one may have reached the server after it: what it
      // says is left is not theirs to count on.
      const remaining =
        stated.remaining === undefined || held ? undefined : stated.remaining - later
      // (A fixed window's is what is left, whole again after each reset: not refilled as it goes.)
      const exact = this.#fixedWindow && remaining !== undefined && ticket >= this.#newestAnswered
      let tokens =
        limit.kind === 'bucket' && !exact
          ? Math.min(refill(limit, now), remaining ?? Infinity)
          : (remaining ?? stated.quota - later)
      // A fixed window used up: nothing more until it resets.
      if ((!stated.windowS || this.#fixedWindow) && stated.remaining === 0) {
        tokens = Math.min(tokens, 1 - resetMs * perMs)
        this.#pausedUntil = Math.max(this.#pausedUntil, now + resetMs)
      }
      this.#limit = { kind: 'bucket', tokens, at: now, perMs, capacity: stated.quota }
      // The limit stated paces the writes too: none learned is kept for them.
      this.writes.forget()
    } else if (refused && headers && limit.kind === 'bucket' && !limit.learned) {
      // A request refused stating no limit where answers state one, often, others answered
      // lately: a limit in front of the stated one (front-limit.ts). This client's share of
      // the stated rate halves. (Each request counted once: two creates refused by a quota of
      // their own at the proxy, tried four times each, halved every read's rate.)
      if (!outcome.again) this.#front.answered(true)
      if (this.#front.often() && this.#share.learns(now)) {
        this.#share.halve(ticket, tickets, now)
        this.#front.found(now)
      }
    } else if (refused && this.learns(now, write)) {
      // A refusal where no limit is stated, while others are answered: a limit to learn, whether
      // it says when to come back or not (one that did was not learned from, and its pause held
      // nothing back: 60 creates on a server of 5 a second all came back each second after it,
      // 251 refusals; 150 createAndWaits, 1,744 refusals, 31 waits failed, now 5 and 0). A
      // write's, of the writes' limit, and of every request's as the top of this file says.
      if (write) this.writes.refused(ticket, tickets, now)
      else this.#readRefusedAt = now
      const forAll = !write || limit.kind === 'none' || now - this.#readRefusedAt < READS_REFUSED_MS
      const learnedPerMs = limit.kind === 'bucket' ? limit.perMs : undefined
      const perMs = forAll ? this.#share.learn(ticket, tickets, now, learnedPerMs) : undefined
      if (perMs !== undefined) {
        this.#limit = { kind: 'bucket', tokens: 0, at: now, perMs, capacity: 1, learned: true }
      }
    } else if (headers && limit.kind === 'unknown' && outcome === 'ok') {
      // No limit stated by a success. (An error answer's may be a gateway's, not the API's: a
      // bare 404 to a batch took the limit for none, and 1,000 single checks went at once, 801
      // refused.)
      this.#limit = { kind: 'none' }
    } else if (limit.kind === 'unknown' && ticket >= 0 && answer.out === 0) {
      // No answer, and none of the requests let go is out any more (a held one never probes):
      // the next one goes alone in their place.
      this.#limit = UNKNOWN()
    }
    const tokensLeft = (stated?.remaining ?? 0) > 0
    // A read refused while tokens are left: that request's alone (its retry waits it out), a
    // gateway's refusal now and then; one sent after such a refusal was known holds them all.
    const after = this.#refusedFrom !== undefined && ticket >= this.#refusedFrom
    const alone = refused && tokensLeft && !write && !after
    if (refused && !alone) this.#pause(outcome.refused, write && tokensLeft)
    if (alone) this.#refusedFrom ??= tickets + 1
    else if (outcome === 'ok' && after) this.#refusedFrom = undefined
    this.#newestAnswered = Math.max(this.#newestAnswered, ticket)
    // The server's bucket at least half full: others on the key leave this client room.
    const left = stated?.remaining
    const roomy = left !== undefined && !held && left >= (stated?.quota ?? Infinity) / 2
    const behind = this.#front.there(now)
    if (outcome === 'ok' && stated) this.#front.answered(false)
    if (outcome === 'ok' || outcome === 'taken') {
      this.#learnFromAnswer(ticket, write, now, roomy, behind)
    }
  }

  /**
   * Nothing more until the server said (`retryAfterMs`, and up to one interval more, at random:
   * not back with every client refused at the same time), then one token's worth: a 429 asks the
   * client to wait (RFC 6585), though what it says is left is not empty (a limit of every request
   * behind the one stated, as GitHub's secondary limits are: each request refused on its own, 60
   * requests behind one of 2 a second drew 501 refusals, 116 so; 87 where each refusal held them
   * all, the first too: see `#refusedFrom`). A write refused while tokens are left
   * (`writesOnly`) holds only the writes (a quota of creates: the status checks go on).
   * Not for a limit learned (no limit stated): the refusal may be one route's (a quota of
   * creates), and its own retry waits it out; the learned rate spaces the rest.
   */
  #pause(retryAfterMs: number | undefined, writesOnly: boolean): void {
    const current = this.#limit
    if (retryAfterMs === undefined || current.kind !== 'bucket' || current.learned) return
    const now = this.#clock.now()
    const spreadMs = this.#random() * Math.min(1 / current.perMs, Math.max(1_000, retryAfterMs))
    const until = now + retryAfterMs + spreadMs
    if (writesOnly) this.writes.pause(until)
    else {
      current.tokens = Math.min(current.tokens, 1 - (until - now) * current.perMs)
      this.#pausedUntil = Math.max(this.#pausedUntil, until)
    }
  }

  /** An answer: a learned rate rises back (share.ts), or is dropped when back where it was. */
  #learnFromAnswer(
    ticket: number,
    write: boolean,
    now: number,
    roomy: boolean,
    behind: boolean,
  ): void {
    if (write) this.writes.answered(ticket, now)
    this.#share.count(now)
    const current = this.#limit
    if (current.kind !== 'bucket') return
    const learned = current.learned === true
    const perMs = this.#share.raised(ticket, now, current.perMs, learned, roomy, behind)
    if (perMs === undefined) this.#limit = { kind: 'none' }
    else current.perMs = perMs
  }

  /**
   * Whether a limit in front of the stated one refused a request lately (see `answered`) while
   * others are answered: not a proxy refusing everything (a quota used up), whose refusals
   * are failures, retried within the budget.
   */
  behind(now: number): boolean {
    return this.#front.there(now) && this.#share.learns(now)
  }

  /**
   * Whether a 429 now (of a `write`) is a limit to learn: the server states none (or one was
   * learned) and answered other requests lately (a quota used up refuses them all).
   */
  learns(now: number, write = false): boolean {
    const limit = this.#limit
    const learned = limit.kind === 'bucket' && limit.learned === true
    if (limit.kind !== 'none' && !learned) return false
    const perMs = Math.min(
      learned ? limit.perMs : Infinity,
      (write && this.writes.perMs) || Infinity,
    )
    return this.#share.learns(now, perMs === Infinity ? undefined : perMs)
  }
}

/** Tokens of `limit` at `now` (none added, none taken, for a clock stepped back since). */
function refill(
  limit: { tokens: number; at: number; perMs: number; capacity: number },
  now: number,
) {
  return Math.min(limit.capacity, limit.tokens + Math.max(0, now - limit.at) * limit.perMs)
}
