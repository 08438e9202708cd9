/**
 * Pacing: every request of a client waits its turn here, so that many waits together stay
 * within the server's rate limit instead of being refused by it. What the server's limit is, and
 * how each answer teaches it, is server-limit.ts's; the turns are given here.
 *
 * Requests wait in the order their turns must come by (their time limits), so a wait's look near
 * its deadline is not made to miss it behind checks that have time. Creates with time to spare
 * (those of `createBatch` and `createAndWait`) wait in a queue of their own: while other requests
 * wait too, they take seven turns in eight, so that a backlog of new jobs neither holds back the
 * checks of jobs already made nor is held back by them (the monitor puts every job's check in one
 * batch request a turn: monitor.ts). Writes held back by their own learned limit (write-limit.ts)
 * let the others pass. Each turn comes up to an interval (a second at most) after its token, at
 * random (server-limit.ts's `untilTurnMs`): a client taking each token as it came left none for
 * another on the key.
 */

import { whenAborted } from '../abort.js'
import { type Clock, WAKE_CHECK_MS } from '../clock.js'
import type { ApiError } from '../errors.js'
import { type Outcome, ServerLimit } from './server-limit.js'
import type { WriteToken } from './write-limit.js'

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
  /** See `Asking.refuse`. */
  refuse: ((pausedMs: number) => unknown) | undefined
}

/** What a request asking for a turn is (turns.ts says). */
export interface Asking {
  /** A request the server may hold (a long-poll): never the probe (see `take`). */
  held?: boolean
  /** A create with time to spare: in the creates' queue (see `#next`); a write. */
  background?: boolean
  /** A write (POST): under the writes' learned limit too (write-limit.ts). */
  write?: boolean
  /** A wait's last look at its deadline: not under a limit learned (see `take`). */
  lastLook?: boolean
  /**
   * While it waits, the server says (a 503 with `Retry-After`) that it takes no request for
   * `pausedMs`: the error to fail it with at once, or undefined to wait on (turns.ts).
   */
  refuse?: (pausedMs: number) => unknown
}

/** How many turns in a row creates with time to spare take while other requests wait (`#next`). */
const CREATE_TURNS = 7
/** A turn this close to when it must come goes before the creates' (`#next`). */
const DUE_SOON_MS = 2_000
/** The most a turn is put off at random past its token's time (see `#drain`). */
const SPREAD_MS = 1_000

/** Spaces a client's requests to the server's rate limit. */
export class Pacer {
  readonly #clock: Clock
  readonly #server: ServerLimit
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
  /**
   * Held requests let go unpaced while the limit was unknown (each a negative ticket of its own)
   * and not yet answered: for each, the last ticket given before it. What an earlier request's
   * answer says is left may not count them (they may reach the server after it): one hold let
   * go beside a new client's first check ran the stated bucket a token over (a 429).
   */
  readonly #unpaced = new Map<Ticket, Ticket>()
  #unpacedGiven = 0

  /** What to do once no create with time to spare waits. */
  #afterBackground: (() => void)[] = []

  /** How many requests were given a turn and are not answered yet. */
  get out(): number {
    return this.#inFlight.size
  }

  /** How many requests wait for a turn. */
  get waiting(): number {
    return this.#queue.length + this.#backgroundQueue.length
  }

  /** Whether no answer has told the server's limit yet (held requests then go unpaced: `take`). */
  get unknown(): boolean {
    return this.#server.limit.kind === 'unknown'
  }

  /**
   * Whether creates with time to spare (`background`) wait for turns that other requests would
   * take: not while the writes' own limit alone holds them back, no other limit known (a stream
   * opened or a check sent then delays no create; under a limit of every request too, a stream
   * opened takes a turn a create would have: 40 createAndWaits, the last create 3.5 s later).
   */
  get creating(): boolean {
    if (this.#backgroundQueue.length === 0) return false
    return this.#server.limit.kind !== 'none' || !this.#server.writesHeld()
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
    if (this.#ahead() > 0) return 0
    return Math.floor(this.#server.tokens())
  }

  /**
   * Whether `count` more requests (not writes) would all have their turns within `withinMs`, as
   * the limit is known (before its first answer, taken as so).
   */
  roomFor(count: number, withinMs: number): boolean {
    const limit = this.#server.limit
    if (limit.kind !== 'bucket') return true
    return this.#server.tokens() - this.#ahead() + limit.perMs * withinMs >= count
  }

  /**
   * In how many ms a request (not a write) asking then would be let go at once (every turn
   * waiting before it given first): 0 when the server states no limit, Infinity before its
   * first answer.
   */
  untilFree(): number {
    const limit = this.#server.limit
    const held = this.#server.unavailableMs()
    if (limit.kind !== 'bucket') return limit.kind === 'none' ? held : Infinity
    const short = this.#ahead() + 1 - this.#server.tokens()
    return Math.max(held, short / limit.perMs)
  }

  /**
   * How much is left of the time the server said it takes no request (a 503 with
   * `Retry-After`), for a write or not (0: none).
   */
  pausedMs(write: boolean): number {
    return this.#server.pausedMs(write)
  }

  /** The 503 that said so (see `pausedMs`), when one does. */
  pausedBy(write: boolean): ApiError | undefined {
    return this.#server.pausedBy(write)
  }

  /** How many turns waiting would go before a request that is not a write (see `#next`). */
  #ahead(): number {
    if (!this.#server.writesHeld()) return this.waiting
    return this.#queue.filter((turn) => !turn.write).length
  }

  /** `random`: uniform in [0, 1), to spread the returns of clients refused together. */
  constructor(clock: Clock, random: () => number = Math.random) {
    this.#clock = clock
    this.#server = new ServerLimit(clock, random)
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
    if (held && this.#server.limit.kind === 'unknown') {
      const ticket = -++this.#unpacedGiven
      this.#unpaced.set(ticket, this.#tickets)
      return Promise.resolve(ticket)
    }
    // A limit learned from refusals (none stated) may be one route's (every stream open
    // refused, its rate halved to a 64th): the look that finds a job done by the deadline goes.
    const { limit } = this.#server
    if (asking.lastLook && limit.kind === 'bucket' && limit.learned) {
      return Promise.resolve(this.#given(false, write))
    }
    if (this.waiting === 0 && this.#server.admit(write)) {
      return Promise.resolve(this.#given(background, write))
    }
    return new Promise((resolve, reject) => {
      const { refuse } = asking
      const turn: Turn = { by, resolve, reject, unlink: () => {}, background, write, refuse }
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
   * and the next turn may come. (Not a held request's given while the limit was unknown, negative:
   * it took no token.)
   */
  release(ticket: Ticket): void {
    if (ticket >= 0) this.#server.gaveBack(this.#inFlight.get(ticket))
    this.answered(ticket, undefined, 'failed')
  }

  /**
   * The next turn to give. While checks (and other calls) and creates with time to spare both
   * wait, the creates take CREATE_TURNS turns in a row, then the others one, unless the others'
   * turn must come within DUE_SOON_MS (a wait's last look, a request near its time limit). A
   * check goes at least every eighth turn, for every job due in one batch request (gathering.ts),
   * and the creates that start work get most turns. Creates behind every check once gave every
   * other turn to checks of a few jobs each; checks behind every create waited for the whole
   * backlog (1,000 jobs at 5 requests a second: known 100 s after their end, each result 228 s
   * after its call on average; now 0.8 s and 118 s). A check of many jobs given a turn sooner
   * (after 14/n creates for n jobs due) made 200 createAndWaits at 5 a second known 0.6 s sooner
   * at p95, but each result 1.7 s later on average: a create put off delays its job's result by
   * the turn, a check brought forward makes known sooner only the jobs already ended (eight
   * clients on one key: no better either). Writes held back by their own limit are passed over.
   */
  #next(): Turn | undefined {
    const held = this.#server.writesHeld()
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
    const { writes } = this.#server
    const passing = !write && writes.engaged && this.#server.writesHeld()
    if (background) this.#backgroundInRow++
    else if (!passing) this.#backgroundInRow = 0
    const ticket = ++this.#tickets
    this.#inFlight.set(ticket, write && (writes.took(this.#clock.now()) ?? true))
    return ticket
  }

  /**
   * The request of `ticket` ended: `headers` are its answer's (undefined when none came);
   * `outcome` says how: answered (`'ok'`), failed otherwise, or refused with a 429 (`refused`:
   * when it says to come back, if it does); `held`, when the server held it (what it said was
   * left is as old as the hold, so only the policy is read). What it teaches of the limit is
   * server-limit.ts's.
   */
  answered(ticket: Ticket, headers: Headers | undefined, outcome: Outcome, held = false): void {
    const given = this.#inFlight.get(ticket)
    // Counted without a walk through thousands of held requests: at most those still in
    // flight, and at most those given their turn after this one.
    this.#inFlight.delete(ticket)
    const out = this.#inFlight.size
    this.#unpaced.delete(ticket)
    let unpacedLater = 0
    for (const before of this.#unpaced.values()) if (before >= ticket) unpacedLater++
    const later = ticket < 0 ? 0 : Math.min(out, this.#tickets - ticket) + unpacedLater
    const tickets = this.#tickets
    this.#server.answered({ ticket, tickets, later, out, given, headers, outcome, held })
    if (typeof outcome === 'object' && 'unavailable' in outcome) this.#refusePaused()
    this.#drain()
  }

  /** The server said it takes no request for a while: the turns that would not wait fail now. */
  #refusePaused(): void {
    for (const queue of [this.#queue, this.#backgroundQueue]) {
      for (const turn of [...queue]) {
        const error = turn.refuse?.(this.#server.pausedMs(turn.write))
        if (error === undefined) continue
        queue.splice(queue.indexOf(turn), 1)
        turn.unlink()
        turn.reject(error)
      }
    }
  }

  /**
   * Whether a 429 now (of a `write`) that says nothing of when is a limit this client paces to:
   * the server states none (or one was learned) and answered other requests lately (a quota used
   * up refuses them all), or one in front of the stated limit refused lately (a proxy's) while
   * others are answered.
   */
  learns(now: number, write = false): boolean {
    return this.#server.learns(now, write) || this.#server.behind(now)
  }

  /** Lets waiting turns go while the limit allows; otherwise sets a timer for the next one. */
  #drain(): void {
    this.#timer?.abort()
    this.#timer = undefined
    for (;;) {
      const turn = this.#next()
      if (!turn || !this.#server.admit(turn.write)) break
      // The first of its queue, or of those not held back by the writes' limit.
      const queue = turn.background ? this.#backgroundQueue : this.#queue
      queue.splice(queue.indexOf(turn), 1)
      turn.unlink()
      turn.resolve(this.#given(turn.background, turn.write))
    }
    this.#afterCreates()
    const now = this.#clock.now()
    const next = this.#next()
    // Only writes wait, held back by their own limit: until its next token at least.
    const writesMs = next ? 0 : this.#server.writesUntilMs()
    if (this.waiting === 0) return
    const unlimited = this.#server.limit.kind === 'none' && writesMs === 0
    if (unlimited && this.#server.unavailableMs() === 0) return
    const timer = new AbortController()
    this.#timer = timer
    // Whole milliseconds, at least one: a wait of a fraction of one may not move a clock whose
    // epoch dwarfs it, and the turn would never come. No spread for a turn due soon (a wait's
    // last look).
    const soon = (next?.by ?? Infinity) - DUE_SOON_MS <= now
    const untilMs = Math.max(writesMs, this.#server.untilTurnMs(soon, SPREAD_MS))
    // (At most WAKE_CHECK_MS, then reckoned again: a machine may wake from sleep meanwhile.)
    const waitMs = Math.min(WAKE_CHECK_MS, Math.max(1, Math.ceil(untilMs)))
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
