/**
 * How the monitor (monitor.ts) sends the polled checks due of many jobs: in batch requests of up
 * to 100 ids, as many out at once as the window has room for (batch-window.ts); checks that do
 * not fit, or that wait for a turn under the rate limit, are gathered and go as room or a turn
 * comes (gathering.ts). Checks near their wait's deadline go in batches of their own.
 */
import type { ClientCore } from '../core.js'
import { isApiError, isInvalidResponseError } from '../errors.js'
import { notSent } from '../request/key.js'
import type { Pacer, Ticket } from '../request/pacing.js'
import { type BatchOutcome, BatchWindow, failureOutcome } from './batch-window.js'
import { comeAlong, Gathering, MAX_BATCH } from './gathering.js'
import type { Observation } from './observation.js'
import { InFlight } from './planner.js'
import type { Due } from './schedule.js'
import type { Source } from './sources/source.js'
import { requestLimitMs } from './subscription.js'

/** A batch source's request for many jobs. */
type Many = NonNullable<Source['many']>

/** What batching asks of the monitor. */
export interface BatchHost {
  /** Sends `observation`'s check alone, on `turn` when one was given for it. */
  one(observation: Observation, turn?: Ticket): void
  /** The batch source, unless the server showed lately that it cannot answer for many. */
  batches(): Many | undefined
  /** The batch endpoint does not work: checks go one by one for a while (memory.ts). */
  batchesFailed(): void
  /** Whether `observation` is checked by polling now (not on a stream). */
  polled(observation: Observation): boolean
  /** Each planned check. */
  planned: ReadonlyMap<Observation, Due<Observation>>
  planAt(observation: Observation, at: number): void
  /** Drops `observation`'s planned check (it goes now). */
  unplan(observation: Observation): void
  /** Parks `group` while offline (browsers); true if it did. */
  park(group: Observation[]): boolean
  /** Sets the monitor's timer again for what is planned now. */
  arm(): void
}

/** Batch requests out, and the checks gathered for room or a turn. */
export class Batching {
  readonly #core: ClientCore
  readonly #host: BatchHost
  /** Whether checks due take along those planned soon after while turns are free too. */
  readonly #shareRequests: boolean
  /**
   * Checks due while requests wait for their turn under the rate limit (gathering.ts), or for
   * room in the window of batch requests out at once (batch-window.ts).
   */
  readonly #gathering: Gathering
  readonly #window = new BatchWindow()

  constructor(core: ClientCore, host: BatchHost, shareRequests: boolean) {
    this.#core = core
    this.#host = host
    this.#shareRequests = shareRequests
    this.#gathering = new Gathering(core, (pacer, turn) => this.#sendGathered(pacer, turn))
  }

  /** Sends the polled checks `due` now, in batches through `many`, or gathers them. */
  send(due: Observation[], many: Many): void {
    const { pacer } = this.#core
    const turnsShort = pacer && (pacer.waiting > 0 || this.#gathering.waiting)
    if (turnsShort || this.#gathering.size > 0) {
      for (const observation of due) this.#gather(observation)
      this.#sendGatheredAsRoom()
      return
    }
    if (due.length === 0) return
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
        if (group.length === 1) this.#host.one(group[0] as Observation)
        else if (this.#window.room) this.#many(many, group)
        else for (const observation of group) this.#gather(observation)
      }
    }
  }

  /** Forgets `observation` (it ended, or no one waits for it). */
  delete(observation: Observation): void {
    this.#gathering.delete(observation)
  }

  /**
   * Puts a check due with those gathered (gathering.ts). A wait's last look goes alone, ahead of
   * other turns (turns.ts); it is planned for one that the turn or the room may not come for in
   * time.
   */
  #gather(observation: Observation): void {
    const deadline = observation.nearestDeadline()
    if (deadline <= this.#core.clock.now()) this.#host.one(observation)
    else {
      this.#gathering.add(observation)
      if (deadline < Infinity) this.#host.planAt(observation, deadline)
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
    const host = this.#host
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
      if (observation.ended || observation.inFlight || !host.polled(observation)) return false
      host.unplan(observation)
      return true
    })
    // Offline since they were gathered: parked until the network is back.
    const parked = host.park(group)
    // The server may have shown meanwhile that its batch endpoint does not work.
    const many = host.batches()
    if (many && !parked) this.#comeAlong(group, false)
    if (parked || group.length === 0) giveBack()
    else if (group.length === 1 || !many) {
      for (const [i, observation] of group.entries()) host.one(observation, i ? undefined : turn)
    } else this.#many(many, group, turn)
    if (pacer) this.#sendGatheredAsRoom()
    host.arm()
  }

  /** Adds to `group` the checks planned soon after it (gathering.ts), now instead. */
  #comeAlong(group: Observation[], turnsFree: boolean): void {
    const { clock, http } = this.#core
    const host = this.#host
    const early = comeAlong(group, clock.now(), turnsFree, {
      planned: host.planned,
      polled: (o) => host.polled(o),
      timeoutMs: http.timeoutMs,
    })
    for (const observation of early) {
      host.unplan(observation)
      group.push(observation)
    }
  }

  #many(many: Many, group: Observation[], turn?: Ticket): void {
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
        if (stop) this.#host.batchesFailed()
        for (const observation of alone) {
          observation.cursor.state.checks--
          if (!observation.ended) this.#host.one(observation)
        }
        const tookMs = clock.now() - startedAt
        back(stop || unsent ? undefined : { answered: true, tookMs, limitMs: http.timeoutMs })
      },
      (error: unknown) => {
        for (const observation of group) observation.failed(error)
        const tookMs = clock.now() - startedAt
        // (Not one never sent: refused while the server said it takes none, say.)
        const answered =
          !notSent.has(error as object) && (isApiError(error) || isInvalidResponseError(error))
        back(
          answered
            ? { answered, tookMs, limitMs: http.timeoutMs }
            : failureOutcome(error, signal.aborted, cutShort),
        )
      },
    )
  }
}
