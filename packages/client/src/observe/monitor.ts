/**
 * The monitor: one per client (and one for the legacy API). It keeps one observation per job id,
 * shared by every wait and watch on it, and one timer for all of them: when it fires, the
 * observations due go out together, one request for one job, batch requests of up to 100 ids
 * for several (where the source can). Checks due at the same instant share a tick; how checks of
 * many jobs are put together (a grid of instants, checks planned soon after coming along, checks
 * due waiting for one turn together under the rate limit) is gathering.ts's.
 */
import { WAKE_CHECK_MS } from '../clock.js'
import type { ClientCore } from '../core.js'
import { isApiError, isInvalidResponseError } from '../errors.js'
import type { ServerHints } from '../polling/hints.js'
import type { PollingStrategy } from '../polling/strategy.js'
import type { Pacer, Ticket } from '../request/pacing.js'
import type { Job } from '../types.js'
import { MAX_TIMER_MS } from '../validate.js'
import { type BatchOutcome, BatchWindow, failureOutcome } from './batch-window.js'
import { Cursor, type CursorState, type ResumeToken } from './cursor.js'
import { comeAlong, Gathering, MAX_BATCH, onGrid } from './gathering.js'
import { isBelow, TransportMemory } from './memory.js'
import { InFlight, Observation, type Planner, type Transport } from './observation.js'
import { type PageManners, pageManners } from './page.js'
import { PutOffStreams } from './put-off.js'
import { Schedule } from './schedule.js'
import type { Source, Sources } from './sources/source.js'
import { requestLimitMs, type Subscriber, Subscription, type WaitLimits } from './subscription.js'
import type { Tabs } from './tabs.js'

/** A job as its create answered, with the answer's hints. */
export interface Created {
  job: Job
  hints: ServerHints
  /**
   * The create made the job within this many ms (its round trip), so the job is about that old
   * at most; undefined for an idempotent replay of an earlier create.
   */
  madeWithinMs: number | undefined
  /** The answer's `ETag`: the job's, so that the first check may be answered 304. */
  etag?: string | undefined
}

/** How a subscription starts. */
export interface Start {
  /** The job as a create just answered, with its hints: the first check waits for them. */
  created?: Created | undefined
  /** A resume token's state: the schedule goes on from it, first check at once. */
  resume?: ResumeToken | undefined
  /**
   * When the wait ends at the latest (client clock), counted from before it (the create of
   * `createAndWait`, a resubmitted job's first wait, a resume token's): the wait's `timeoutMs`
   * then only names it, in its `TimeoutError`.
   */
  deadline?: number | undefined
  /**
   * Part of a wait for many jobs (`waitAll`, `waitAny`): its planned checks move earlier onto a
   * grid shared with the others'. A wait for one job keeps its strategy's planned times (a check
   * may still be taken along early by another's request: `#comeAlong`).
   */
  align?: boolean | undefined
}

/** Observations by job id, and the timer that checks them. */
export class Monitor implements Planner {
  readonly #core: ClientCore
  readonly #sources: Sources
  /** What worked: shared by the monitors of one client (see memory.ts). */
  readonly #memory: TransportMemory
  /** Whether the transport is the client's to choose (`'auto'`): it may fall back. */
  readonly #auto: boolean
  readonly #observations = new Map<string, Observation>()
  readonly #schedule = new Schedule<Observation>()
  /** Where each observation stands in the schedule, to mark it stale when re-planned. */
  readonly #planned = new Map<Observation, ReturnType<Schedule<Observation>['add']>>()
  #timer: { at: number; controller: AbortController } | undefined
  /** Its manners in the page it runs in (browsers only): see page.ts. */
  readonly #page: PageManners | undefined = pageManners({
    now: () => this.#core.clock.now(),
    planAt: (observation, at) => this.planAt(observation, at),
    observations: () => this.#observations.values(),
    planned: () => this.#planned.keys(),
    batches: () => this.#batches() !== undefined,
    isPlanned: (observation) => this.#planned.has(observation),
    plan: (observation, delayMs) => this.plan(observation, delayMs),
  })

  /**
   * Checks due while requests wait for their turn under the rate limit (gathering.ts), or for
   * room in the window of batch requests out at once (batch-window.ts).
   */
  readonly #gathering: Gathering
  readonly #window = new BatchWindow()

  /** Streams put off while creates wait their turn, and when they open. */
  readonly #putOff: PutOffStreams

  /** Other tabs of the page's origin sharing jobs (`shareTabs`), where a browser offers it. */
  readonly #tabs: Tabs | undefined
  /** Whether checks due take along those planned soon after while turns are free too. */
  readonly #shareRequests: boolean

  /**
   * `transport`: how single-job waits start (polling by default); `auto`: whether it may fall
   * back to the next when it does not work. `tabs`: other tabs to share jobs with. `memory`:
   * what worked (transport, batches), shared with the client's other monitors. `shareRequests`:
   * whether checks due take along the checks planned soon after while turns are free too.
   */
  constructor(
    core: ClientCore,
    sources: Sources,
    options: {
      transport?: Transport
      auto?: boolean
      tabs?: Tabs | undefined
      memory?: TransportMemory
      shareRequests?: boolean
    } = {},
  ) {
    this.#core = core
    this.#sources = sources
    this.#memory = options.memory ?? new TransportMemory(options.transport ?? 'poll')
    this.#auto = options.auto ?? true
    this.#tabs = options.tabs
    this.#shareRequests = options.shareRequests ?? true
    this.#putOff = new PutOffStreams(core, this.#observations)
    this.#gathering = new Gathering(core, (pacer, turn) => this.#sendGathered(pacer, turn))
  }

  /** Subscribes to job `id`, starting its observation unless one is live. */
  subscribe(id: string, limits: WaitLimits, subscriber: Subscriber, start: Start = {}) {
    const now = this.#core.clock.now()
    const live = this.#observations.get(id)
    const observation =
      live ??
      new Observation(id, this.#core, new Cursor(start.resume && stateOf(start.resume)), this)
    // Made before a new observation is kept: one that throws (its signal) leaves none behind.
    const subscription = new Subscription(observation, limits, subscriber, now, {
      deadline: start.deadline,
      resumed: start.resume?.deadline,
      align: start.align === true,
    })
    const fresh = live === undefined
    if (fresh) {
      // A wait for many jobs polls them in batches; a push transport would hold one each (and a
      // page only a few).
      const push = !start.align && (this.#page?.mayHold() ?? true)
      observation.transport = push ? this.#memory.transport(now) : 'poll'
      // Where turns are too short to open a stream each soon, polled in batches until they are
      // not (put-off.ts); a created job's stream is put off as it is created (observation.ts).
      const short = observation.transport !== 'poll' && !start.created && !this.roomForStream()
      this.#observations.set(id, observation)
      if (short) {
        observation.putOff = true
        this.putOff()
      }
      this.#page?.observing()
    }
    observation.join(subscription, !fresh)
    if (fresh) {
      const { created } = start
      // Said of the tab that asks the server (`shareTabs`: a following tab only listens).
      const leads = (o: Observation) => {
        if (o.transport !== 'poll') {
          this.#core.events.emit('transport:selected', { id, transport: o.transport })
        }
      }
      const begin = (o: Observation) => {
        leads(o)
        if (created) o.created(created)
        else this.plan(o, 0)
      }
      if (this.#tabs) {
        this.#tabs.observe(observation, {
          begin,
          leads,
          plan: (o, ms) => this.plan(o, ms),
          shownElsewhere: (o, shown) => this.#page?.shownElsewhere(o, shown),
        })
      } else begin(observation)
    }
    return subscription
  }

  replan(strategy: PollingStrategy): void {
    const now = this.#core.clock.now()
    for (const [observation, due] of [...this.#planned]) {
      const delay = observation.delayNow(strategy, now)
      if (delay !== undefined && now + delay < due.at) this.plan(observation, delay)
    }
  }

  plan(observation: Observation, delayMs: number, notBeforeMs?: number): void {
    const now = this.#core.clock.now()
    observation.shownDueAt = now + delayMs
    // Kept for plans made again later (the page's return): the server's word stands.
    if (notBeforeMs !== undefined) {
      observation.notBeforeAt = now + notBeforeMs
      observation.paced = notBeforeMs > 0
    }
    const wanted = this.#page?.delay(delayMs, observation) ?? delayMs
    const capped = Math.min(wanted, MAX_TIMER_MS)
    let at = now + capped
    const queued = (this.#core.pacer?.waiting ?? 0) > 0
    const align = queued || [...observation.subscriptions].some((s) => s.align)
    if (align && this.#observations.size > 1 && capped >= 16) {
      at = onGrid(at, now, capped, observation.notBeforeAt ?? now, queued)
    }
    // Never past the nearest deadline: the last look is at it.
    this.planAt(observation, Math.min(at, Math.max(now, observation.nearestDeadline())))
  }

  /**
   * Someone now listens to every status change: held requests for the end alone widen, and
   * streams put off for creates waiting their turn open.
   */
  widenHolds(): void {
    for (const observation of this.#observations.values()) {
      observation.widen?.()
      observation.openPutOff()
    }
  }

  putOff(): void {
    this.#putOff.added()
  }

  roomForStream(): boolean {
    return this.#putOff.mayOpen(1)
  }

  relay(job: Job): void {
    this.#tabs?.post(job)
  }

  lookBeside(observation: Observation, signal: AbortSignal): void {
    const { look } = this.#sources.poll
    if (!look) return
    observation.cursor.state.checks++
    look(observation, signal).catch(() => {})
  }

  claimConnection(denied: () => void): () => void {
    const page = this.#page
    return page ? page.claimConnection(new URL(this.#core.http.baseUrl).host, denied) : () => {}
  }

  mayFallBack(observation: Observation, to: Transport): boolean {
    // A transport the user chose (not 'auto') is kept: its source copes, or fails the wait.
    return this.#auto && isBelow(to, observation.transport)
  }

  fallback(observation: Observation, to: Transport, reason: string, remember = true): boolean {
    const from = observation.transport
    if (!this.mayFallBack(observation, to)) return false
    observation.transport = to
    if (remember) this.#memory.movedDown(to, this.#core.clock.now())
    this.#core.events.emit('transport:fallback', { id: observation.id, from, to, reason })
    // Remembered: the server's (or the way to it); else this job's (a stream refused for now).
    this.#core.logger.warn?.(
      remember
        ? `${from} does not work here (${reason}): using ${to}`
        : `${from} failed for this job (${reason}): using ${to} for it`,
    )
    return true
  }

  planAt(observation: Observation, at: number): void {
    const current = this.#planned.get(observation)
    if (current && current.at <= at) return
    observation.plannedAt = this.#core.clock.now()
    if (current) this.#schedule.drop(current)
    this.#planned.set(observation, this.#schedule.add(at, observation))
    this.#arm()
  }

  release(observation: Observation): void {
    if (this.#observations.get(observation.id) === observation) {
      this.#observations.delete(observation.id)
    }
    this.#unplan(observation)
    this.#gathering.delete(observation)
    if (this.#observations.size === 0) {
      this.#page?.idle()
      this.#putOff.stop()
    }
    this.#arm()
  }

  /**
   * Sets the one timer for the earliest planned check (or clears it when none is). Set again
   * as a timer fires (`firedFor`, the time it was set for), it goes on from that time where the
   * clock is behind it: a clock stepped back since (see `#tick`).
   */
  #arm(firedFor = Number.NEGATIVE_INFINITY): void {
    const next = this.#schedule.next()
    const now = Math.max(this.#core.clock.now(), firedFor)
    // Kept if it fires by the next check (then set again), unless overdue: a timer the runtime
    // dropped (one of a Worker's request that ended) would otherwise hold every check back.
    const current = this.#timer
    if (current && next !== undefined && current.at <= next && current.at >= now) return
    this.#timer?.controller.abort()
    this.#timer = undefined
    if (next === undefined) return
    const delay = Math.min(WAKE_CHECK_MS, Math.max(0, next - now))
    // Past WAKE_CHECK_MS, it fires for an earlier time, and is set again then.
    const timer = { at: Math.min(next, now + delay), controller: new AbortController() }
    this.#timer = timer
    this.#core.clock.sleep(delay, timer.controller.signal).then(
      () => {
        if (this.#timer !== timer) return
        this.#timer = undefined
        this.#tick(timer.at)
      },
      () => {},
    )
  }

  /**
   * Sends the checks that are due: alone, or in batches. Due by `firedFor` too, the time the
   * timer was set for: a wall clock stepped back since would otherwise hold every check back
   * by the step (the timer itself counts real time).
   */
  #tick(firedFor: number): void {
    const all = this.#schedule.takeDue(Math.max(this.#core.clock.now(), firedFor))
    for (const observation of all) this.#planned.delete(observation)
    // Offline: parked until the network is back.
    if (this.#page?.park(all)) {
      this.#arm(firedFor)
      return
    }
    const { pacer } = this.#core
    // Streams put off while creates waited open as turns are free now, not all at once: 150
    // opened together waited behind each other (15 s at 10 requests a second), unchecked.
    let free = !pacer ? Infinity : pacer.creating ? 0 : pacer.free()
    // Only where there are turns to open every stream put off soon (asked once, if one is due).
    if (free >= 1 && all.some((o) => o.putOff) && !this.#putOff.mayOpen()) free = 0
    const due: Observation[] = []
    for (const observation of all) {
      if (observation.putOff && free >= 1) {
        free--
        observation.putOff = false
      }
      if (this.#polled(observation)) due.push(observation)
      else this.#one(observation)
    }
    const many = this.#batches()
    const turnsShort = pacer && (pacer.waiting > 0 || this.#gathering.waiting)
    if (many && (turnsShort || this.#gathering.size > 0)) {
      for (const observation of due) this.#gather(observation)
      this.#sendGatheredAsRoom()
    } else if (due.length > 0 && many) {
      // Checks near their wait's deadline go in batches of their own: in one with others, its
      // time limit (a second for a last look) would be every job's (300 waits with deadlines
      // apart, each batch answered in 3 s: 62 timed out whose jobs completed in time).
      const now = this.#core.clock.now()
      const near: Observation[] = []
      const far: Observation[] = []
      for (const observation of due) {
        const nearing = observation.nearestDeadline() - now < this.#core.http.timeoutMs
        ;(nearing ? near : far).push(observation)
      }
      // The last batch (or the only check) takes along the checks planned soon after it.
      if (this.#shareRequests && far.length > 0) this.#comeAlong(far, true)
      for (const part of [near, far]) {
        for (let i = 0; i < part.length; i += MAX_BATCH) {
          const group = part.slice(i, i + MAX_BATCH)
          if (group.length === 1) this.#one(group[0] as Observation)
          else if (this.#window.room) this.#many(many, group)
          else for (const observation of group) this.#gather(observation)
        }
      }
    } else {
      for (const observation of due) this.#one(observation)
    }
    this.#arm(firedFor)
  }

  /** The batch source, unless the server showed it cannot answer for many (lately). */
  #batches(): Source['many'] {
    return this.#memory.batches(this.#core.clock.now()) ? this.#sources.poll.many : undefined
  }

  /**
   * Whether `observation` is checked by polling now: its transport, or a stream put off while
   * creates wait their turn (observation.ts): polled in batches meanwhile, a turn for many jobs.
   */
  #polled(observation: Observation): boolean {
    return observation.transport === 'poll' || observation.putOff
  }

  /**
   * Puts a check due with those gathered (gathering.ts). A wait's last look goes alone, ahead of
   * other turns (turns.ts); it is planned for one that the turn or the room may not come for in
   * time.
   */
  #gather(observation: Observation): void {
    const deadline = observation.nearestDeadline()
    if (deadline <= this.#core.clock.now()) this.#one(observation)
    else {
      this.#gathering.add(observation)
      if (deadline < Infinity) this.planAt(observation, deadline)
    }
  }

  /**
   * Sends the checks gathered while the window of batch requests has room: on a turn each where
   * requests are paced (`#sendGathered` comes back here), else at once. A batch's return comes
   * back here too.
   */
  #sendGatheredAsRoom(): void {
    const { pacer } = this.#core
    if (pacer) {
      if (this.#window.room) this.#gathering.wait(pacer)
      return
    }
    while (this.#window.room && this.#gathering.size > 0) this.#sendGathered()
  }

  /**
   * The turn the checks gathered waited for came (gathering.ts), or room for a batch where
   * requests are not paced: they go, up to 100, with others planned soon after it has room
   * for, in one request.
   */
  #sendGathered(pacer?: Pacer, turn?: Ticket): void {
    /** The turn given for a request not sent. */
    const giveBack = () => {
      if (pacer && turn !== undefined) pacer.release(turn)
    }
    // A batch went meanwhile and took the last room: the turn goes back, its return sends these.
    if (!this.#window.room) {
      giveBack()
      return
    }
    const group = this.#gathering.take((observation) => {
      if (observation.ended || observation.inFlight || !this.#polled(observation)) return false
      this.#unplan(observation)
      return true
    })
    // Offline since they were gathered: parked until the network is back.
    const parked = this.#page?.park(group) ?? false
    // The server may have shown meanwhile that its batch endpoint does not work.
    const many = this.#batches()
    if (many && !parked) this.#comeAlong(group, false)
    if (parked || group.length === 0) giveBack()
    else if (group.length === 1 || !many) {
      for (const [i, observation] of group.entries()) this.#one(observation, i ? undefined : turn)
    } else this.#many(many, group, turn)
    if (pacer) this.#sendGatheredAsRoom()
    this.#arm()
  }

  /** Adds to `group` the checks planned soon after it (gathering.ts), now instead. */
  #comeAlong(group: Observation[], turnsFree: boolean): void {
    const { clock, http } = this.#core
    const planned = { planned: this.#planned, polled: (o: Observation) => this.#polled(o) }
    const early = comeAlong(group, clock.now(), turnsFree, {
      ...planned,
      timeoutMs: http.timeoutMs,
    })
    for (const observation of early) {
      this.#unplan(observation)
      group.push(observation)
    }
  }

  /** Drops `observation`'s planned check (it goes now). */
  #unplan(observation: Observation): void {
    const current = this.#planned.get(observation)
    if (current) this.#schedule.drop(current)
    this.#planned.delete(observation)
  }

  #one(observation: Observation, turn?: number): void {
    const inFlight = new InFlight(1)
    observation.begin(inFlight)
    const source =
      (!this.#polled(observation) && this.#sources[observation.transport]) || this.#sources.poll
    source.one(observation, inFlight.controller.signal, turn).catch((error: unknown) => {
      observation.failed(error)
    })
  }

  #many(many: NonNullable<Source['many']>, group: Observation[], turn?: number): void {
    const { clock, http } = this.#core
    const inFlight = new InFlight(group.length)
    for (const observation of group) observation.begin(inFlight)
    const sent = this.#window.sent(group.length)
    const startedAt = clock.now()
    // Cut short by a wait's deadline: a limit of its own, not the link's (subscription.ts).
    const limitMs = requestLimitMs(Math.min(...group.map((o) => o.nearestDeadline())), startedAt)
    const cutShort = limitMs !== undefined && limitMs < http.timeoutMs
    // Back in the window with what it says of the link (batch-window.ts), and the checks
    // gathered for room go.
    const back = (outcome: BatchOutcome) => {
      this.#window.back(sent, outcome)
      this.#sendGatheredAsRoom()
    }
    const { signal } = inFlight.controller
    many(group, signal, turn).then(
      ({ alone, stop, unsent }) => {
        // No batch endpoint that works: everything goes one by one for a while (memory.ts).
        if (stop) this.#memory.batchesFailed(this.#core.clock.now())
        for (const observation of alone) {
          observation.cursor.state.checks--
          if (!observation.ended) this.#one(observation)
        }
        const tookMs = clock.now() - startedAt
        back(stop || unsent ? undefined : { answered: true, tookMs, limitMs: http.timeoutMs })
      },
      (error: unknown) => {
        for (const observation of group) observation.failed(error)
        const tookMs = clock.now() - startedAt
        const answered = isApiError(error) || isInvalidResponseError(error)
        back(
          answered
            ? { answered, tookMs, limitMs: http.timeoutMs }
            : failureOutcome(error, signal.aborted, cutShort),
        )
      },
    )
  }
}

/** The cursor's part of a resume token. */
function stateOf(token: ResumeToken): CursorState {
  const { id: _id, deadline: _deadline, ...state } = token
  return state
}
