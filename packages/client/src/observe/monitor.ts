/**
 * The monitor: one per client (and one for the legacy API). It keeps one observation per job id,
 * shared by every wait and watch on it, and one timer for all of them: when it fires, the
 * observations due go out together, one request for one job, batch requests of up to 100 ids
 * for several (where the source can: batching.ts). Checks due at the same instant share a tick;
 * how checks of many jobs are put together (a grid of instants, checks planned soon after coming
 * along, checks due waiting for one turn together under the rate limit) is gathering.ts's.
 */
import type { ClientCore } from '../core.js'
import type { ServerHints } from '../polling/hints.js'
import type { PollingStrategy } from '../polling/strategy.js'
import type { Ticket } from '../request/pacing.js'
import type { Job } from '../types.js'
import { MAX_TIMER_MS } from '../validate.js'
import { Batching } from './batching.js'
import { Cursor, type CursorState, type ResumeToken } from './cursor.js'
import { onGrid } from './gathering.js'
import { isBelow, TransportMemory } from './memory.js'
import { Observation } from './observation.js'
import { type PageManners, pageManners } from './page.js'
import { InFlight, type Planner, type Transport } from './planner.js'
import { PutOffStreams } from './put-off.js'
import type { Source, Sources } from './sources/source.js'
import { type Subscriber, Subscription, type WaitLimits } from './subscription.js'
import type { Tabs } from './tabs.js'
import { Timetable } from './timetable.js'

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
   * may still be taken along early by another's batch request: batching.ts).
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
  /** Planned checks, and the one timer for them (timetable.ts). */
  readonly #timetable: Timetable<Observation>
  /** Its manners in the page it runs in (browsers only): see page.ts. */
  readonly #page: PageManners | undefined = pageManners({
    now: () => this.#core.clock.now(),
    planAt: (observation, at) => this.planAt(observation, at),
    observations: () => this.#observations.values(),
    planned: () => this.#timetable.planned.keys(),
    batches: () => this.#batches() !== undefined,
    isPlanned: (observation) => this.#timetable.planned.has(observation),
    plan: (observation, delayMs) => this.plan(observation, delayMs),
  })

  /** Batch requests out, and the checks gathered for room or a turn (batching.ts). */
  readonly #batching: Batching

  /** Streams put off while creates wait their turn, and when they open. */
  readonly #putOff: PutOffStreams

  /** Other tabs of the page's origin sharing jobs (`shareTabs`), where a browser offers it. */
  readonly #tabs: Tabs | undefined

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
    this.#putOff = new PutOffStreams(core, this.#observations)
    this.#timetable = new Timetable(core.clock, (due) => this.#tick(due))
    this.#batching = new Batching(
      core,
      {
        one: (observation, turn) => this.#one(observation, turn),
        batches: () => this.#batches(),
        batchesFailed: () => this.#memory.batchesFailed(this.#core.clock.now()),
        polled: (observation) => this.#polled(observation),
        planned: this.#timetable.planned,
        planAt: (observation, at) => this.planAt(observation, at),
        unplan: (observation) => this.#timetable.unplan(observation),
        park: (group) => this.#page?.park(group) ?? false,
        arm: () => this.#timetable.arm(),
      },
      options.shareRequests ?? true,
    )
  }

  /** Subscribes to job `id`, starting its observation unless one is live. */
  subscribe(
    id: string,
    limits: WaitLimits & { expectedMs?: number | undefined },
    subscriber: Subscriber,
    start: Start = {},
  ) {
    const now = this.#core.clock.now()
    const live = this.#observations.get(id)
    const observation =
      live ??
      new Observation(id, this.#core, new Cursor(start.resume && stateOf(start.resume)), this)
    // The caller's estimate of the job's duration: the latest given, else a resumed one's.
    const { expectedMs = start.resume?.expectedMs } = limits
    if (expectedMs !== undefined) observation.cursor.state.expectedMs = expectedMs
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
    for (const [observation, due] of [...this.#timetable.planned]) {
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
    if (remember) {
      this.#memory.movedDown(to, this.#core.clock.now())
      // The other jobs' opens still out for nothing: interrupted, unsent if they wait for their
      // turn, and asked again with `to`. 150 waits behind a rate limit each sent an open long
      // after the first was answered 404. (Streams that opened are kept: they work.)
      for (const other of this.#observations.values()) {
        if (other.opening && isBelow(to, other.transport)) {
          this.#moveDown(other, to)
          other.interrupt?.()
        }
      }
    }
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
    const now = this.#core.clock.now()
    if (this.#timetable.planAt(observation, at)) observation.plannedAt = now
  }

  release(observation: Observation): void {
    if (this.#observations.get(observation.id) === observation) {
      this.#observations.delete(observation.id)
    }
    this.#timetable.unplan(observation)
    this.#batching.delete(observation)
    if (this.#observations.size === 0) {
      this.#page?.idle()
      this.#putOff.stop()
    }
    this.#timetable.arm()
  }

  /** Sends the checks that are due (`all`): alone, or in batches. */
  #tick(all: Observation[]): void {
    // Offline: parked until the network is back.
    if (this.#page?.park(all)) return
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
    if (many) this.#batching.send(due, many)
    else for (const observation of due) this.#one(observation)
  }

  /**
   * Under 'auto', an observation yet to make its first check on a transport the client has since
   * found not to work here (another job's fallback) moves down to what does. One that checked
   * keeps its own: its stream may work (a job's failure is remembered for the next jobs).
   */
  #catchUp(observation: Observation): void {
    const to = this.#memory.transport(this.#core.clock.now())
    const fresh = observation.cursor.state.checks === 0
    if (this.#auto && fresh && isBelow(to, observation.transport)) this.#moveDown(observation, to)
  }

  /** `observation` goes by `to`, as another job found its transport does not work here. */
  #moveDown(observation: Observation, to: Transport): void {
    const from = observation.transport
    observation.transport = to
    const reason = 'another job found it does not work here'
    this.#core.events.emit('transport:fallback', { id: observation.id, from, to, reason })
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

  #one(observation: Observation, turn?: Ticket): void {
    this.#catchUp(observation)
    const inFlight = new InFlight(1)
    observation.begin(inFlight)
    const source =
      (!this.#polled(observation) && this.#sources[observation.transport]) || this.#sources.poll
    source.one(observation, inFlight.controller.signal, turn).catch((error: unknown) => {
      observation.failed(error)
    })
  }
}

/** The cursor's part of a resume token. */
function stateOf(token: ResumeToken): CursorState {
  const { id: _id, deadline: _deadline, ...state } = token
  return state
}
