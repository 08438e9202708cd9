/**
 * Pacing: every request of a client waits its turn here, so that many waits together stay
 * within the server's rate limit instead of being refused by it.
 *
 * The server says its limit (a quota per window, what is left, when the window resets: read in
 * rate-limit-headers.ts). The pacer mirrors the server's token bucket: a token per request,
 * refilled at the quota's rate, never above what the server last said was left; a fixed window
 * used up waits for its reset; a 429's `Retry-After` empties it until then (a write's that says
 * tokens are left holds only the writes: write-limit.ts). Requests wait in
 * the order their turns must come by (their time limits), so a wait's look near its deadline is
 * not made to miss it behind checks that have time.
 *
 * Creates with time to spare (those of `createBatch` and `createAndWait`) wait in a queue of
 * their own: while other requests wait too, they take seven turns in eight, so that a backlog of
 * new jobs neither holds back the checks of jobs already made nor is held back by them (the
 * monitor puts every job's check in one batch request a turn: monitor.ts).
 *
 * A stated limit may be shared (other processes, other machines with the same key), and a
 * server may state none and refuse some requests all the same: how much of the rate this client
 * takes then is share.ts's. A 429's `Retry-After` is waited out plus up to one of this client's
 * own intervals at random, so that clients refused together do not come back together. Each
 * turn comes up to an interval (a second at most) after its token, at random (see `#drain`): a
 * client taking each token as it came left none for another on the key.
 *
 * Until the first answer the limit is unknown, so the first request goes alone and the rest wait
 * for its answer (one round trip): a burst of a thousand waits learns the limit before it sends
 * a thousand requests. Every two seconds without an answer, twice as many more go as before (1,
 * 2, 4...): a first request that is never answered (a proxy holding it) does not hold the others
 * for its whole time limit, and a server slow to answer it is not sent the whole burst. A server
 * that states no limit is not paced, until it refuses some requests while it answers others:
 * then its limit is learned (share.ts). Writes refused have a limit of their own learned
 * (write-limit.ts), which they go under besides; a write's refusal teaches the limit of every
 * request too while none is learned (the first, or a minute after the last), else only while a
 * read was refused in the last minute. A quota
 * of a create a second, 30 createAndWaits: learned for every request, the checks went at the
 * creates' pace, each job known 4.1 s after its end on average, the last at 68 s; now 2.5 s and
 * 58 s. (A limit of every request learned from each refusal of a write gave 5.0 s and 60 s; one
 * of writes alone, the checks unpaced where the limit was every request's, took the turns that
 * creates needed: 150 createAndWaits of 40 s on a server of 5 a second stating none, 45 failed.)
 */
import { whenAborted } from '../abort.js'
import type { Clock } from '../clock.js'
import { MAX_TIMER_MS } from '../validate.js'
import { readLimit } from './rate-limit-headers.js'
import { RateShare } from './share.js'
import { WriteLimit, type WriteToken } from './write-limit.js'

/** A request given its turn: what `answered` is told it was. */
export type Ticket = number

/** One request waiting for its turn. */
interface Turn {
  /** When its turn must have come (the request's time limit): the soonest goes first. */
  by: number
  resolve: (ticket: Ticket) => void
  reject: (reason: unknown) => void
  /** Stops listening to its caller's signal. */
  unlink: () => void
  /** A create with time to spare (turns.ts): in the creates' queue (see `#next`). */
  background: boolean
  /** A write (POST): under the writes' learned limit too (write-limit.ts). */
  write: boolean
}

/** What a request asking for a turn is (turns.ts says). */
export interface Asking {
  /** A request the server may hold (a long-poll): never the probe (see `take`). */
  held?: boolean
  /** A create with time to spare: in the creates' queue (see `#next`); a write. */
  background?: boolean
  /** A write (POST): under the writes' learned limit too (write-limit.ts). */
  write?: boolean
}

/** What the pacer knows of the server's limit. */
type Limit =
  /**
   * No answer yet: the first request goes alone (the probe, out `since`); each PROBE_ALONE_MS
   * window without an answer lets `next` more go (1, 2, 4...: a slow start), `left` of them
   * still to go in this one.
   */
  | { kind: 'unknown'; probing: boolean; since: number; next: number; left: number }
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

/**
 * How long the first request goes alone while the limit is unknown: its answer normally comes in
 * milliseconds; one that does not (a proxy that holds a stream's headers, a black hole) must not
 * hold every other request of the client for its whole time limit, one after the other.
 */
const PROBE_ALONE_MS = 2_000

/** The limit before any answer. */
function UNKNOWN(): Limit {
  return { kind: 'unknown', probing: false, since: 0, next: 1, left: 0 }
}

/** How many turns in a row creates with time to spare take while other requests wait (`#next`). */
const CREATE_TURNS = 7
/** A turn this close to when it must come goes before the creates' (`#next`). */
const DUE_SOON_MS = 2_000
/** The most a turn is put off at random past its token's time (see `#drain`). */
const SPREAD_MS = 1_000
/** How long after a refused read a write's refusal still teaches the limit of every request. */
const READS_REFUSED_MS = 60_000

/** Spaces a client's requests to the server's stated rate limit. */
export class Pacer {
  readonly #clock: Clock
  readonly #random: () => number
  #limit: Limit = UNKNOWN()
  /**
   * Turns waiting, in the order they must come by: creates with time to spare (`background`)
   * apart from the rest, so that each side has its share when both wait (see `#next`).
   */
  readonly #queue: Turn[] = []
  readonly #backgroundQueue: Turn[] = []
  /** How many turns in a row went to creates with time to spare. */
  #backgroundInRow = 0
  /** Cancels the timer that releases the next turn, when one is set. */
  #timer: AbortController | undefined
  /**
   * Requests given a turn and not yet answered, by ticket (tickets grow in order of turns):
   * whether each is a write, or for a write under the writes' learned limit, where its token
   * came from (write-limit.ts).
   */
  readonly #inFlight = new Map<Ticket, boolean | WriteToken>()
  #tickets = 0
  /** A window's length as the resets stated without a policy suggest (the longest seen). */
  #windowMs = 0
  /** Until when the server pauses this client (a `Retry-After`, a fixed window used up). */
  #pausedUntil = 0
  /** How much of the server's rate this client takes. */
  readonly #share = new RateShare()
  /** The writes' own limit, when their refusals taught one (write-limit.ts). */
  readonly #writes = new WriteLimit()
  /** When a read was last refused where no limit is stated. */
  #readRefusedAt = Number.NEGATIVE_INFINITY
  /** When the older rate-limit headers were last read while the server stated no limit. */
  #olderReadAt = Number.NEGATIVE_INFINITY

  /** What to do once no create with time to spare waits. */
  #afterBackground: (() => void)[] = []

  /** How many requests wait for a turn. */
  get waiting(): number {
    return this.#queue.length + this.#backgroundQueue.length
  }

  /**
   * Whether creates with time to spare (`background`) wait for turns that other requests would
   * take: not while the writes' own limit alone holds them back, no other limit known (a stream
   * opened or a check sent then delays no create; under a limit of every request too, a stream
   * opened takes a turn a create would have: 40 createAndWaits, the last create 3.5 s later).
   */
  get creating(): boolean {
    if (this.#backgroundQueue.length === 0) return false
    return this.#limit.kind !== 'none' || this.#writes.untilMs(this.#clock.now()) === 0
  }

  /**
   * Calls `callback` once no create with time to spare waits for a turn others would take
   * (`creating`): at once if none does, else in a microtask of its own (not inside the pacer's
   * work, which it may add to).
   */
  afterBackground(callback: () => void): void {
    if (!this.creating) callback()
    else this.#afterBackground.push(callback)
  }

  /** How many requests (not writes) may go at once now, none waiting for a turn before them. */
  free(): number {
    const limit = this.#limit
    if (this.#ahead() > 0 || limit.kind === 'unknown') return 0
    return limit.kind === 'none' ? Infinity : Math.floor(refill(limit, this.#clock.now()))
  }

  /**
   * In how many ms a request (not a write) asking then would be let go at once (every turn
   * waiting before it given first): 0 when the server states no limit, Infinity before its
   * first answer.
   */
  untilFree(): number {
    const limit = this.#limit
    if (limit.kind !== 'bucket') return limit.kind === 'none' ? 0 : Infinity
    const short = this.#ahead() + 1 - refill(limit, this.#clock.now())
    return Math.max(0, short / limit.perMs)
  }

  /** How many turns waiting would go before a request that is not a write (see `#next`). */
  #ahead(): number {
    if (this.#writes.untilMs(this.#clock.now()) === 0) return this.waiting
    return this.#queue.filter((turn) => !turn.write).length
  }

  /** `random`: uniform in [0, 1), to spread the returns of clients refused together. */
  constructor(clock: Clock, random: () => number = Math.random) {
    this.#clock = clock
    this.#random = random
  }

  /**
   * Resolves with a ticket when a request may be sent; rejects with the signal's reason if it
   * aborts first. A request the server may hold (a long-poll) never goes as the probe: its
   * answer could be half a minute away, and every other request would wait for it. Waiting
   * requests go in the order their turns must come `by` (in ms on the clock), then of asking:
   * each is given a time (core.ts), so none waits for ever behind later ones; writes held back
   * by their own limit let the others pass.
   */
  take(signal: AbortSignal | undefined, by: number, asking: Asking = {}): Promise<Ticket> {
    const { held = false, background = false } = asking
    const write = background || asking.write === true
    signal?.throwIfAborted()
    if (held && this.#limit.kind === 'unknown') return Promise.resolve(-1)
    if (this.waiting === 0 && this.#admit(write)) {
      return Promise.resolve(this.#given(background, write))
    }
    return new Promise((resolve, reject) => {
      const turn: Turn = { by, resolve, reject, unlink: () => {}, background, write }
      const queue = background ? this.#backgroundQueue : this.#queue
      if (signal) {
        turn.unlink = whenAborted(signal, () => {
          queue.splice(queue.indexOf(turn), 1)
          reject(signal.reason)
          this.#drain()
        })
      }
      queue.splice(placeFor(queue, by), 0, turn)
      this.#drain()
    })
  }

  /**
   * A turn given and not used (no request was sent: see `HttpRequest.turn`): its token back,
   * and the next turn may come.
   */
  release(ticket: Ticket): void {
    const limit = this.#limit
    // Not while the server pauses this client (a `Retry-After`, a fixed window used up): its
    // pause is not cut short. (Below none left otherwise: a debt of the requests still out.)
    // (Not a held request's given while the limit was unknown, -1: it took no token.)
    if (ticket >= 0 && limit.kind === 'bucket' && this.#clock.now() >= this.#pausedUntil) {
      limit.tokens = Math.min(limit.capacity, limit.tokens + 1)
    }
    const given = this.#inFlight.get(ticket)
    if (typeof given === 'object') this.#writes.gaveBack(given)
    this.answered(ticket, undefined, 'failed')
  }

  /**
   * The next turn to give. While checks (and other calls) and creates with time to spare both
   * wait, the creates take CREATE_TURNS turns in a row, then the others one, unless the others'
   * turn must come within DUE_SOON_MS (a wait's last look, a request near its time limit). A
   * check goes at least every eighth turn, for every job due in one batch request (monitor.ts),
   * and the creates that start work get most turns. Creates behind every check once gave every
   * other turn to checks of a few jobs each; checks behind every create waited for the whole
   * backlog (1,000 jobs at 5 requests a second: known 100 s after their end, each result 228 s
   * after its call on average; now 0.8 s and 118 s). Writes held back by their own limit are
   * passed over.
   */
  #next(): Turn | undefined {
    const held = this.#writes.untilMs(this.#clock.now()) > 0
    const front = held ? this.#queue.find((turn) => !turn.write) : this.#queue[0]
    const back = held ? undefined : this.#backgroundQueue[0]
    if (!front || !back) return front ?? back
    const due = front.by - DUE_SOON_MS <= this.#clock.now()
    return due || this.#backgroundInRow >= CREATE_TURNS ? front : back
  }

  /** Calls what waited for no create to wait for turns (`afterBackground`), if none does now. */
  #afterCreates(): void {
    if (this.#afterBackground.length === 0 || this.creating) return
    const callbacks = this.#afterBackground
    this.#afterBackground = []
    queueMicrotask(() => {
      for (const callback of callbacks) callback()
    })
  }

  /**
   * A new ticket for a turn (to a create with time to spare: `background`; to a `write`), in
   * flight until answered.
   */
  #given(background: boolean, write: boolean): Ticket {
    // A read passing writes held back by their own limit takes no turn of theirs.
    const writes = this.#writes
    const passing = !write && writes.engaged && writes.untilMs(this.#clock.now()) > 0
    if (background) this.#backgroundInRow++
    else if (!passing) this.#backgroundInRow = 0
    const ticket = ++this.#tickets
    this.#inFlight.set(ticket, write && (this.#writes.took(this.#clock.now()) ?? true))
    return ticket
  }

  /**
   * The request of `ticket` ended: `headers` are its answer's (undefined when none came);
   * `outcome` says how: answered (`'ok'`), failed otherwise, or refused with a 429 (`refused`:
   * when it says to come back, if it does); `held`, when the server held it (what it said was
   * left is as old as the hold, so only the policy is read). A server that states no limit and
   * refuses some requests (with a 429, saying when to come back or not) while it answers others
   * has its limit learned (share.ts).
   */
  answered(
    ticket: Ticket,
    headers: Headers | undefined,
    outcome: 'ok' | 'failed' | { refused: number | undefined },
    held = false,
  ): void {
    const now = this.#clock.now()
    const limit = this.#limit
    // Once a server is seen stating no limit, the older forms are read only on other answers
    // than a plain success, and once a second: reading eight headers on every answer cost
    // about 5 % of a request's handling.
    const older = limit.kind !== 'none' || outcome !== 'ok' || now - this.#olderReadAt >= 1_000
    if (older && limit.kind === 'none') this.#olderReadAt = now
    const stated = headers && readLimit(headers, now, older)
    const given = this.#inFlight.get(ticket)
    const write = given !== undefined && given !== false
    // Requests given their turn after this one may have reached the server after it: what it
    // says is left is not theirs to count on.
    // Counted without a walk through thousands of held requests: at most those still in
    // flight, and at most those given their turn after this one.
    this.#inFlight.delete(ticket)
    const later = ticket < 0 ? 0 : Math.min(this.#inFlight.size, this.#tickets - ticket)
    const refused = typeof outcome === 'object'
    if (stated) {
      // Without a policy's window, the longest time to a reset seen stands for it.
      const resetMs = (stated.resetS ?? 0) * 1_000
      this.#windowMs = Math.max(this.#windowMs, resetMs)
      const statedPerMs = stated.quota / (stated.windowS ? stated.windowS * 1_000 : this.#windowMs)
      // Refused for an empty bucket though it kept to the policy: others share it. (Not a
      // refusal that says tokens are left: about something else; nor under a fixed window
      // whose length is still a guess: the guess's.)
      const emptied = refused && stated.remaining === 0 && stated.windowS !== undefined
      if (emptied && limit.kind === 'bucket' && !limit.learned)
        this.#share.halve(ticket, this.#tickets, now)
      // A refused request took a token here, and none from the server's bucket: it is given
      // back (the tokens of the requests still out were counted against what an earlier answer
      // said was left, and a burst refused would otherwise leave a debt of a token each), when
      // the refusal says what is left, which then bounds it.
      const bounded = stated.remaining !== undefined && !held && ticket >= 0
      if (refused && bounded && limit.kind === 'bucket') limit.tokens += 1
      const perMs = this.#share.ofStated(statedPerMs)
      const remaining =
        stated.remaining === undefined || held ? undefined : stated.remaining - later
      let tokens =
        limit.kind === 'bucket'
          ? Math.min(refill(limit, now), remaining ?? Infinity)
          : (remaining ?? stated.quota - later)
      // A fixed window used up: nothing more until it resets.
      if (!stated.windowS && stated.remaining === 0) {
        tokens = Math.min(tokens, 1 - resetMs * perMs)
        this.#pausedUntil = Math.max(this.#pausedUntil, now + resetMs)
      }
      this.#limit = { kind: 'bucket', tokens, at: now, perMs, capacity: stated.quota }
      // The limit stated paces the writes too: none learned is kept for them.
      this.#writes.forget()
    } else if (refused && this.learns(now, write)) {
      // A refusal where no limit is stated, while others are answered: a limit to learn, whether
      // it says when to come back or not (one that did was not learned from, and its pause held
      // nothing back: 60 creates on a server of 5 a second all came back each second after it,
      // 251 refusals; 150 createAndWaits, 1,744 refusals, 31 waits failed, now 5 and 0). A
      // write's, of the writes' limit, and of every request's as the top of this file says.
      if (write) this.#writes.refused(ticket, this.#tickets, now)
      else this.#readRefusedAt = now
      const forAll = !write || limit.kind === 'none' || now - this.#readRefusedAt < READS_REFUSED_MS
      const learnedPerMs = limit.kind === 'bucket' ? limit.perMs : undefined
      const perMs = forAll ? this.#share.learn(ticket, this.#tickets, now, learnedPerMs) : undefined
      if (perMs !== undefined) {
        this.#limit = { kind: 'bucket', tokens: 0, at: now, perMs, capacity: 1, learned: true }
      }
    } else if (headers && limit.kind === 'unknown') {
      this.#limit = { kind: 'none' }
    } else if (limit.kind === 'unknown' && ticket >= 0 && this.#inFlight.size === 0) {
      // No answer, and none of the requests let go is out any more (a held one never probes):
      // the next one goes alone in their place.
      this.#limit = UNKNOWN()
    }
    const current = this.#limit
    const retryAfterMs = refused ? outcome.refused : undefined
    // Not for a limit learned (no limit stated): the refusal may be one route's (a quota of
    // creates), and its own retry waits it out; the learned rate spaces the rest.
    if (retryAfterMs !== undefined && current.kind === 'bucket' && !current.learned) {
      // Nothing more until the server said (and up to one interval more, at random: not back
      // with every client refused at the same time), then one token's worth: a 429 asks the
      // client to wait (RFC 6585), though what it says is left is not empty (a limit of every
      // request behind the one stated, as GitHub's secondary limits are: each request refused
      // on its own, 60 requests behind one of 2 a second drew 501 refusals, 88 so). A write
      // refused while tokens are left holds only the writes (a quota of creates: the status
      // checks go on).
      const spreadMs = this.#random() * Math.min(1 / current.perMs, Math.max(1_000, retryAfterMs))
      const until = now + retryAfterMs + spreadMs
      if (write && (stated?.remaining ?? 0) > 0) this.#writes.pause(until)
      else {
        current.tokens = Math.min(current.tokens, 1 - (until - now) * current.perMs)
        this.#pausedUntil = Math.max(this.#pausedUntil, until)
      }
    }
    if (outcome === 'ok') {
      if (write) this.#writes.answered(ticket, now)
      this.#share.count(now)
      if (current.kind === 'bucket') {
        const perMs = this.#share.raised(ticket, now, current.perMs, current.learned === true)
        if (perMs === undefined) this.#limit = { kind: 'none' }
        else current.perMs = perMs
      }
    }
    this.#drain()
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
      (write && this.#writes.perMs) || Infinity,
    )
    return this.#share.learns(now, perMs === Infinity ? undefined : perMs)
  }

  /**
   * Takes a turn now if the limits allow one (a `write`'s: the writes' too, its token taken as
   * it is given: `#given`).
   */
  #admit(write: boolean): boolean {
    if (write && this.#writes.untilMs(this.#clock.now()) > 0) return false
    return this.#admitUnderLimit()
  }

  /** Takes a turn now if the server's limit (stated, learned, or unknown yet) allows one. */
  #admitUnderLimit(): boolean {
    const limit = this.#limit
    if (limit.kind === 'none') return true
    const now = this.#clock.now()
    if (limit.kind === 'unknown') {
      if (!limit.probing) {
        limit.probing = true
        limit.since = now
        return true
      }
      // Each window without an answer lets twice as many go as the one before (1, 1, 2, 4...).
      if (now - limit.since >= PROBE_ALONE_MS) {
        limit.since = now
        limit.left = limit.next
        limit.next *= 2
      }
      if (limit.left === 0) return false
      limit.left--
      return true
    }
    limit.tokens = refill(limit, now)
    limit.at = now
    if (limit.tokens < 1) return false
    limit.tokens -= 1
    return true
  }

  /** Lets waiting turns go while the limit allows; otherwise sets a timer for the next one. */
  #drain(): void {
    this.#timer?.abort()
    this.#timer = undefined
    for (;;) {
      const turn = this.#next()
      if (!turn || !this.#admit(turn.write)) break
      // The first of its queue, or of those not held back by the writes' limit.
      const queue = turn.background ? this.#backgroundQueue : this.#queue
      queue.splice(queue.indexOf(turn), 1)
      turn.unlink()
      turn.resolve(this.#given(turn.background, turn.write))
    }
    this.#afterCreates()
    const limit = this.#limit
    const now = this.#clock.now()
    const next = this.#next()
    // Only writes wait, held back by their own limit: until its next token at least.
    const writesMs = next ? 0 : this.#writes.untilMs(now)
    if (this.waiting === 0 || (limit.kind === 'none' && writesMs === 0)) return
    const timer = new AbortController()
    this.#timer = timer
    // Whole milliseconds, at least one: a wait of a fraction of one may not move a clock whose
    // epoch dwarfs it, and the turn would never come.
    // The next token's time, and up to one interval more at random (a second at most, and less
    // than the server's bucket holds beyond two tokens: a token past a full bucket is lost; none
    // for a turn due soon, a wait's last look). Turns that come exactly as the tokens do take
    // every one: another client on the same key, asking at other times, was refused each time
    // and starved (its waits timed out on jobs long ended). Spread so, the server's bucket is
    // often a token ahead for it; the tokens left meanwhile go at the next turn.
    const soon = (next?.by ?? Infinity) - DUE_SOON_MS <= now
    const spreadMs =
      limit.kind === 'bucket' && !soon
        ? this.#random() * Math.min(1, limit.capacity - 2) * Math.min(1 / limit.perMs, SPREAD_MS)
        : 0
    const limitMs =
      limit.kind === 'bucket'
        ? (1 - refill(limit, now)) / limit.perMs + Math.max(0, spreadMs)
        : limit.kind === 'unknown'
          ? limit.since + PROBE_ALONE_MS - now
          : 0
    const untilMs = Math.max(writesMs, limitMs)
    const waitMs = Math.min(MAX_TIMER_MS, Math.max(1, Math.ceil(untilMs)))
    this.#clock.sleep(waitMs, timer.signal).then(
      () => this.#drain(),
      () => {},
    )
  }
}

/** Where a turn due `by` goes in `queue`: after every turn due no later (binary search). */
function placeFor(queue: Turn[], by: number): number {
  let lo = 0
  let hi = queue.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if ((queue[mid] as Turn).by <= by) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** Tokens of `limit` at `now` (none added, none taken, for a clock stepped back since). */
function refill(
  limit: { tokens: number; at: number; perMs: number; capacity: number },
  now: number,
) {
  return Math.min(limit.capacity, limit.tokens + Math.max(0, now - limit.at) * limit.perMs)
}
