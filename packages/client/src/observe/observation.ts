/**
 * One job observed over time, shared by every wait and watch on it: the last answer, the
 * schedule (a cursor), and the subscriptions, each with its own deadline, limits and signal. A
 * check's answer reaches every subscription; the last one leaving ends the observation and
 * aborts its request in flight.
 */
import type { ClientCore } from '../core.js'
import { afterPrevious } from '../parse.js'
import type { ServerHints } from '../polling/hints.js'
import type { PollingStrategy } from '../polling/strategy.js'
import { isTerminalStatus, type Job } from '../types.js'
import { type Cursor, isStale } from './cursor.js'
import { FRESH_LOOK_MS, givenUpOn, judgeFailure } from './failures.js'
import type { Created } from './monitor.js'
import type { InFlight, Planner, Transport } from './planner.js'
import { LAST_LOOK_MS, requestLimitMs, type Subscription } from './subscription.js'

/** One job, observed for every wait and watch on it. */
export class Observation {
  readonly subscriptions = new Set<Subscription>()
  /** Answers received in this process (a resumed cursor's job is not fresh news). */
  answers = 0
  /** The request in flight for it, if any, and when its check began. */
  inFlight: InFlight | undefined
  #checkBeganAt = Number.NEGATIVE_INFINITY
  readonly startedAt: number
  ended = false
  /** Its stream (or held request) is put off while creates wait their turn (see `created`): polled. */
  putOff = false
  /** Its next check goes at once after the answer to the one out (see `checkSoon`). */
  #nextAtOnce = false
  /** How it is observed (the monitor picks it, and moves it down when one does not work). */
  transport: Transport = 'poll'
  /** Called once when it ends (a tab leading it then lets another lead). */
  onEnd: (() => void) | undefined
  /** Whether other tabs hear of its answers (they may be watching every change). */
  sharedWithTabs = false
  /** When its next check was planned (the plan's delay counts from then): see `planAt`. */
  plannedAt: number | undefined
  /** When its next check is due as a shown page plans it (a hidden one plans it later). */
  shownDueAt: number | undefined
  /** The server's `Retry-After` for its next check, as a time: no plan moves it sooner. */
  notBeforeAt: number | undefined
  /**
   * Whether the last answer said when to come back (`Retry-After`): its next check goes alone
   * while turns are free, as a batch's answer would not say it again (gathering.ts).
   */
  paced = false
  /**
   * Set while a held request asks for the job's end alone: ends it, to be asked again at once
   * for every change, when someone who wants them starts listening (sources/held.ts).
   */
  widen: (() => void) | undefined
  /**
   * Set while a held request or a stream is out: ends it, and the job is asked again at once. A
   * wait's deadline calls it, so that the last look is a plain check (see `guardDeadline`).
   */
  interrupt: (() => void) | undefined
  /** Set while a held request or a stream of this tab's own is out: ends it, as `interrupt`. */
  holding: (() => void) | undefined
  /**
   * Whether its stream's open waits for a turn or for its headers (sources/sse.ts): another job
   * finding that streams do not work here interrupts it, unsent if it still waits (monitor.ts).
   */
  opening = false

  constructor(
    readonly id: string,
    readonly core: ClientCore,
    readonly cursor: Cursor,
    readonly planner: Planner,
  ) {
    this.startedAt = core.clock.now()
  }

  /**
   * Adds a subscription to a live observation (`live`), or to one about to be planned. A live one
   * tells it the job as last seen (in a microtask, not inside the caller's call), checks at once
   * for a wait that brings a strategy of its own, and holds its deadline.
   */
  join(subscription: Subscription, live: boolean): void {
    const strategies = this.#strategies()
    this.subscriptions.add(subscription)
    if (!live) return
    if (subscription.subscriber.everyChange) {
      this.widen?.()
      this.openPutOff()
    }
    const { job } = this.cursor.state
    if (job && this.answers > 0) {
      queueMicrotask(() => {
        if (this.subscriptions.has(subscription))
          subscription.subscriber.next(job, true, subscription)
      })
    }
    // A check out since before it joined has the others' time limit: at its deadline, a stream
    // or a held request is interrupted for a plain last look, and a plain check is looked beside.
    if (this.inFlight) subscription.guardDeadline(0)
    else if (!strategies.has(subscription.strategy))
      this.planner.planAt(this, this.core.clock.now())
    else if (subscription.deadline < Infinity) this.planner.planAt(this, subscription.deadline)
  }

  leave(subscription: Subscription): void {
    if (!this.subscriptions.delete(subscription) || this.subscriptions.size > 0) return
    this.#end()
  }

  /**
   * Whether only the job's end matters to everyone who hears of it: no watch, no `onProgress`,
   * no `job:status` listener, no other tab. A held request may then wait for the end alone.
   */
  endOnly(): boolean {
    if (this.sharedWithTabs || this.core.events.listens('job:status')) return false
    for (const subscription of this.subscriptions) {
      if (subscription.subscriber.everyChange) return false
    }
    return true
  }

  /**
   * Whether a check of it may be made early, for free (in a batch request going anyway): no
   * wait on it counts its checks (`maxAttempts`), the server did not ask to wait longer, and no
   * wait ends within a request's time limit (the batch's would be cut to it, for every job).
   */
  checkableEarly(now: number): boolean {
    if (this.inFlight || this.ended || (this.notBeforeAt ?? now) > now) return false
    if (this.nearestDeadline() - now < this.core.http.timeoutMs) return false
    for (const subscription of this.subscriptions) if (subscription.countsChecks) return false
    return true
  }

  /** The nearest deadline of its subscriptions (Infinity for none). */
  nearestDeadline(): number {
    let deadline = Infinity
    for (const s of this.subscriptions) deadline = Math.min(deadline, s.deadline)
    return deadline
  }

  /** The limit of a check's request: up to the nearest deadline, and a last look after it. */
  requestLimitMs(now: number): number | undefined {
    return requestLimitMs(this.nearestDeadline(), now)
  }

  /** When the check in flight (or the last one) began. */
  get checkBeganAt(): number {
    return this.#checkBeganAt
  }

  /** A check begins: counted, and the request it goes in noted. */
  begin(inFlight: InFlight): void {
    this.inFlight = inFlight
    this.#checkBeganAt = this.core.clock.now()
    this.cursor.state.checks++
  }

  /** A job just created: the create's answer says when a first look is worth making. */
  created({ job, hints, madeWithinMs, etag }: Created): void {
    // Already over (a create replayed for its idempotency key): an answer like any other.
    if (isTerminalStatus(job.status)) {
      this.answered(job, hints, etag)
      return
    }
    const now = this.core.clock.now()
    const datedAge = this.core.dates.ageOf(job, hints.serverTime, { madeWithinMs })
    this.cursor.saw(job, etag, now, datedAge)
    // An answer of this process: the next one's change is bounded by it (see `answered`).
    this.answers++
    // The server made the job during the create's round trip: halfway through it, on average
    // (a 200 ms round trip otherwise puts every check 100 ms late).
    if (madeWithinMs !== undefined) {
      this.cursor.bornBy(now - Math.min(madeWithinMs / 2, this.core.trips.outboundMs()))
    }
    if (!this.#observe(job, now)) return
    // The create's answer is the first look at the job: its waits are told (a page shows it
    // pending; `onProgress` has its id and a resume token before any check, for a process that
    // stops before the job ends). In a microtask, not inside the call that subscribed.
    const told = [...this.subscriptions]
    queueMicrotask(() => {
      for (const s of told) if (this.subscriptions.has(s)) s.subscriber.next(job, true, s)
    })
    // A stream or a held request costs the same whenever it starts: it starts at once, unless
    // creates wait for turns under the rate limit: then it starts when the strategy would first
    // look, or once no create waits if sooner, the job polled in batches meanwhile (each turn a
    // stream takes at once delays a create that starts work; not one held back by the writes'
    // own limit: `pacer.creating`). So for a wait that wants every change too (`onProgress`):
    // 400 createAndWaits at 50 requests a second, each opening its stream at once, knew their
    // 3 s jobs' ends 4.5 s late at the median, 0.09 s without `onProgress`.
    const { pacer } = this.core
    const short = () => pacer?.creating || !this.planner.roomForStream()
    const deferred = this.transport !== 'poll' && pacer !== undefined && short()
    if (this.transport === 'poll' || deferred) this.#planNext(hints, now, true)
    else this.planner.plan(this, 0)
    if (deferred) {
      this.putOff = true
      this.planner.putOff()
    }
  }

  /** A stream (or held request) put off for creates waiting their turn opens now: someone wants every change. */
  openPutOff(): void {
    if (!this.putOff) return
    this.putOff = false
    this.checkSoon()
  }

  /** Its next check at once: now, or as soon as the check out is answered. */
  checkSoon(): void {
    if (this.ended) return
    if (this.inFlight) this.#nextAtOnce = true
    else this.planner.plan(this, 0)
  }

  /**
   * A check's answer: `job`, or undefined for a 304 (unchanged since the ETag sent). `next` says
   * what follows: the strategy's delay (`plan`), another check at once (`now`: a held request
   * answered), or nothing: `stream` (an event of a stream that stays open, not a check),
   * `relayed` (another tab's answer: that tab asks, this one listens) and `look` (this tab's own
   * check at a deadline while another tab asks: each wait's limits are checked, nothing planned).
   */
  answered(
    answer: Job | undefined,
    hints: ServerHints,
    etag?: string,
    next: 'plan' | 'now' | 'stream' | 'relayed' | 'look' = 'plan',
  ): void {
    const pushed = next === 'stream' || next === 'relayed' || next === 'look'
    if (!pushed) this.inFlight = undefined
    if (this.ended) return
    const previous = this.cursor.state.job
    const stale = answer && previous && isStale(answer, previous)
    const job = stale || !answer ? undefined : afterPrevious(answer, previous)
    if (job && next !== 'relayed') this.planner.relay(job)
    const { clock, events } = this.core
    const now = clock.now()
    const known = job ?? previous
    // The job changed since the last answer of this process (a resumed token's was seen on
    // another clock), so no earlier than that answer: a bound for the `Date` (see ServerDates).
    const { seenAt } = this.cursor.state
    const changed = job && previous && this.answers > 0 && job.updated_at !== previous.updated_at
    const changedWithinMs = changed && seenAt !== undefined ? now - seenAt : undefined
    const datedAge = known && this.core.dates.ageOf(known, hints.serverTime, { changedWithinMs })
    this.cursor.saw(job, stale ? undefined : etag, now, datedAge)
    const seen = job ?? previous
    this.answers++
    // Read (a 304 too): its absence from now on is no lag (fresh-jobs.ts).
    this.core.fresh.seen(this.id)
    if (seen) {
      const changed = !previous || seen.status !== previous.status
      if (!this.#observe(seen, now)) return
      events.emit('job:status', { job: seen, attempt: this.cursor.state.checks, changed })
      for (const s of [...this.subscriptions]) {
        if (!this.subscriptions.has(s)) continue
        if (!pushed || next === 'look') s.attempts++
        s.failures = 0
        s.lastFailure = undefined
        s.subscriber.next(seen, changed, s)
      }
      if (isTerminalStatus(seen.status)) {
        if (seen.status === 'completed') events.emit('job:completed', { job: seen })
        else events.emit('job:failed', { job: seen })
        // Every subscriber has the final job: the observation ends with the last of them.
        for (const s of [...this.subscriptions]) s.close()
        this.#end()
        return
      }
    } else {
      for (const s of this.subscriptions) s.attempts++
    }
    if (next === 'now' || next === 'look') {
      for (const s of [...this.subscriptions]) s.checkLimits(now)
      if (!this.ended && next === 'now') this.planner.plan(this, 0)
      return
    }
    if (pushed) return
    this.#next(hints, now, true)
  }

  /**
   * A stream ended or dropped without the job's end: opened again after `retryMs` (the stream's
   * `retry:`), as a browser's `EventSource` would, or when the strategy says without one. No
   * answer, and no check spent (a stream makes none). A `retry:` longer than `honouredMs` is
   * waited out only until the strategy's next check (`honouredMs` at least): a stream ending
   * after each event with a `retry:` of minutes (one set to keep browsers away after the end,
   * behind a balancer cutting idle streams) left the job unwatched that long (a job of 3 s known
   * 297 s late).
   */
  dropped(retryMs: number | undefined, honouredMs = Number.POSITIVE_INFINITY): void {
    this.inFlight = undefined
    if (this.ended) return
    const now = this.core.clock.now()
    if (retryMs === undefined) {
      this.#next({}, now)
      return
    }
    if (retryMs <= honouredMs) {
      this.#nextIn(retryMs, now)
      return
    }
    const { random } = this.core
    const strategies = this.#strategies()
    const planned = this.cursor.nextDelay(strategies, {}, now, this.startedAt, random, this.#fail)
    if (!this.ended) this.#nextIn(Math.min(retryMs, Math.max(planned, honouredMs)), now)
  }

  /** Ask again at once (the transport changed): the check in flight is over. */
  requeue(): void {
    this.inFlight = undefined
    this.cursor.state.checks--
    if (!this.ended) this.planner.plan(this, 0)
  }

  /**
   * While a check is out: each wait still ends at its deadline, `lastLookMs` after it (the time a
   * check at the deadline may take); a stream or a held request (0) is interrupted at the deadline
   * instead, for a plain last look.
   */
  guardDeadlines(lastLookMs = LAST_LOOK_MS): void {
    for (const s of this.subscriptions) s.guardDeadline(lastLookMs)
  }

  /** A check failed (after the request layer's retries): see failures.ts for what it means. */
  failed(error: unknown): void {
    this.inFlight = undefined
    // What follows a failure is the failure's to say (its next check opens a stream put off).
    this.#nextAtOnce = false
    if (this.ended) return
    const now = this.core.clock.now()
    const { breaker, trips } = this.core
    // A job just created, not readable yet, looked at again (fresh-jobs.ts): unless a wait's
    // deadline comes first, which ends with the failure itself (a `NotFoundError`).
    const ageMs = this.core.fresh.ageOf(this.id, now)
    const fresh = ageMs !== undefined && now + FRESH_LOOK_MS < this.nearestDeadline()
    const verdict = judgeFailure(
      error,
      now,
      breaker,
      this.#lastLooking(now),
      trips.answered,
      fresh ? ageMs : undefined,
    )
    for (const s of this.subscriptions) s.lastFailure = error
    if (verdict.kind === 'fatal') {
      this.#endAll(verdict.error ?? error)
      return
    }
    if (verdict.kind === 'look-again') {
      // At a set time: a plan is never past the deadline, which this look already is.
      this.planner.planAt(this, now + verdict.inMs)
      return
    }
    for (const s of [...this.subscriptions]) {
      s.attempts++
      // Asked to come back only after its deadline and its last look's second: it ends now,
      // not with a look against the server's word.
      if (verdict.kind === 'paced') {
        const nextAt = now + verdict.retryAfterMs
        if (nextAt >= s.deadline + LAST_LOOK_MS) s.checkLimits(now, nextAt)
        continue
      }
      const shown = givenUpOn(error, trips.answered)
      if (verdict.opening !== undefined) s.failedOpening(verdict.opening, shown)
      else if (verdict.kind === 'failed') s.failedCheck(shown)
    }
    // A check sent before a wait's deadline that failed after it (a request that hung to its
    // limit, the deadline) was not the wait's last look: that is made now, the others end.
    const owed = [...this.subscriptions].filter((s) => s.owesLastLook(now, this.#checkBeganAt))
    if (owed.length > 0) {
      for (const s of [...this.subscriptions]) if (!owed.includes(s)) s.checkLimits(now)
      if (this.ended) return
      // What is left of the second after the deadline, not a whole one again.
      for (const s of owed) s.guardDeadline(LAST_LOOK_MS)
      this.planner.planAt(this, now)
      return
    }
    // The breaker's probe time is the client's own: looked at then, whatever the strategy. A
    // stream refused for now opens again when the server said: its open is the check (opened
    // at the strategy's next, near the job's ETA, a job whose ETA overstated was known 100 s
    // after its end).
    const reopen = verdict.kind === 'paced' && this.transport === 'sse' && !this.putOff
    if (verdict.kind === 'refused' || reopen) this.#nextIn(verdict.retryAfterMs, now)
    else this.#next(verdict.kind === 'failed' ? {} : { retryAfterMs: verdict.retryAfterMs }, now)
  }

  /** Whether a wait is within the second after its deadline, its last look's. */
  #lastLooking(now: number): boolean {
    const deadline = this.nearestDeadline()
    return deadline <= now && now < deadline + LAST_LOOK_MS
  }

  /** After a check: each subscription's limits, then the next check if anyone still waits. */
  #next(hints: ServerHints, now: number, answered = false): void {
    for (const s of [...this.subscriptions]) s.checkLimits(now)
    if (!this.ended) this.#planNext(hints, now, answered)
  }

  /** After a check: each subscription's limits, then the next check in `delayMs` exactly. */
  #nextIn(delayMs: number, now: number): void {
    for (const s of [...this.subscriptions]) s.checkLimits(now)
    if (!this.ended) this.planner.plan(this, delayMs, delayMs)
  }

  /**
   * Plans the next check as the strategies say; a strategy that throws ends the waits that
   * brought it, and the others go on. After an answer (`answered`), the check is sent early by
   * the way there, to reach the server when planned: never before the server's `Retry-After`,
   * nor (as it goes a round trip after the last was sent) faster than planned. After a failure,
   * which may have taken no time, not.
   */
  #planNext(hints: ServerHints, now: number, answered = false): void {
    this.#hints = hints
    const notBefore = hints.retryAfterMs ?? 0
    if (this.#nextAtOnce) {
      this.#nextAtOnce = false
      this.planner.plan(this, notBefore, notBefore)
      return
    }
    const { random } = this.core
    const strategies = this.#strategies()
    let delay = this.cursor.nextDelay(strategies, hints, now, this.startedAt, random, this.#fail)
    if (this.ended) return
    // A refusal's `Retry-After` (a 429 or 503) is when the server takes requests again: never
    // sooner, however long (a strategy follows a job's hints up to `maxHintMs` only). Checked
    // every 5 min against an hour's quota, each was refused, and the refusals halved the rate.
    if (!answered) delay = Math.max(delay, notBefore)
    const early = answered ? Math.min(this.core.trips.outboundMs(), delay - notBefore) : 0
    this.planner.plan(this, delay - Math.max(0, early), notBefore)
  }

  /** The hints its last check was planned by (a plan made again reads them alike). */
  #hints: ServerHints = {}

  /** Ends every subscription with `error`. */
  #endAll(error: unknown): void {
    for (const s of [...this.subscriptions]) {
      s.close()
      s.subscriber.end(error)
    }
  }

  /** A strategy threw: the waits that brought it end with its error (one wait's, not all's). */
  #fail = (strategy: PollingStrategy, error: unknown): void => {
    for (const s of [...this.subscriptions]) {
      if (s.strategy !== strategy) continue
      s.close()
      s.subscriber.end(error)
    }
  }

  /**
   * Shows the strategies an answer (learning ones take in durations and ETAs); false when the
   * waits all ended (each whose strategy threw ends).
   */
  #observe(job: Job, now: number): boolean {
    const ageMs = this.cursor.ageMs(now)
    for (const strategy of this.#strategies()) {
      try {
        if (strategy.observe?.(job, ageMs) === 'replan') this.planner.replan(strategy)
      } catch (error) {
        this.#fail(strategy, error)
      }
    }
    return !this.ended
  }

  /**
   * The delay `strategy` gives this observation now, for a check planned before it changed its
   * mind: undefined unless it polls with it and no check is out. Never before the server's
   * `Retry-After`.
   */
  delayNow(strategy: PollingStrategy, now: number): number | undefined {
    const strategies = this.#strategies()
    if (this.ended || this.inFlight || this.transport !== 'poll' || !strategies.has(strategy)) {
      return undefined
    }
    const { random } = this.core
    const hints = this.#hints
    const delay = this.cursor.peekDelay(strategies, hints, now, this.startedAt, random, this.#fail)
    if (this.ended || !(delay < Infinity)) return undefined
    return Math.max(delay, (this.notBeforeAt ?? now) - now)
  }

  /** The strategies of its subscriptions, each once. */
  #strategies(): Set<PollingStrategy> {
    const strategies = new Set<PollingStrategy>()
    for (const s of this.subscriptions) strategies.add(s.strategy)
    if (strategies.size === 0) strategies.add(this.core.polling)
    return strategies
  }

  #end(): void {
    if (this.ended) return
    this.ended = true
    this.onEnd?.()
    this.inFlight?.drop()
    this.inFlight = undefined
    this.planner.release(this)
  }
}
