/**
 * How the monitor (monitor.ts) puts checks of many jobs together in batch requests.
 *
 * - **The grid** (`onGrid`): the checks of a wait for many jobs (`waitAll`, `waitAny`), and every
 *   check while requests wait for their turn under the rate limit, are brought forward to a grid
 *   of at most an eighth of their delay (a power of two in ms, the same for every job), so checks
 *   planned near each other fall on the same instant, and none moves by more than 1/8 of its
 *   delay. A wait for one job otherwise keeps its strategy's planned times (moving a check planned
 *   at the server's ETA earlier would cost a look before the end and another after it).
 * - **Coming along** (`comeAlong`): a batch request takes along the checks planned within 1/8 of
 *   their delay after it, as many as it has room for (asking for more jobs costs no request).
 * - **Gathering** (`Gathering`): while requests wait for their turn, the checks due wait for one
 *   turn together, and take along those due soon after when it comes. Each check formed its own
 *   request as it fell due, each waiting for a turn with the few due with it: 1,000 jobs at 5
 *   requests a second took 2.4 ids a request (now 10).
 *
 * 200 jobs created together on a server without ETAs, turns free: 256 requests (1,626 each check
 * alone). 2,000 `createAndWait`s at 50 requests a second, jobs of 8 s, on a server without hints:
 * 551 checks, each job known 0.2 s after its end on average (5.7 s and 2,313 checks alone, 0.6 s
 * and 1,377 on the grid alone); with ETAs, 365 checks and 0.2 s (4.3 s and 2,248, 0.2 s and 724).
 */
import type { ClientCore } from '../core.js'
import type { Pacer, Ticket } from '../request/pacing.js'
import { takeTurn } from '../request/turns.js'
import type { Observation } from './observation.js'
import type { Due } from './schedule.js'

/** The most ids in one batch request (the protocol's limit). */
export const MAX_BATCH = 100

/**
 * Where a check planned `delayMs` from `now` (at `at`) goes on the grid: earlier, onto the grid's
 * instant before it, but not before the server's word (`notBeforeAt`, its `Retry-After`): then at
 * it, or, while turns are short (`queued`), on the grid's instant after it.
 */
export function onGrid(
  at: number,
  now: number,
  delayMs: number,
  notBeforeAt: number,
  queued: boolean,
): number {
  const grid = 2 ** Math.floor(Math.log2(delayMs / 8))
  const notBefore = Math.min(notBeforeAt, now + delayMs)
  const earlier = Math.floor(at / grid) * grid
  const later = queued ? Math.ceil(notBefore / grid) * grid : notBefore
  return Math.max(now, earlier < notBefore ? later : earlier)
}

/** What `comeAlong` needs to know of the monitor's checks. */
export interface Planned {
  /** Each planned check, and when it was planned from (`plannedAt`) and for (`at`). */
  planned: Iterable<[Observation, Due<Observation>]>
  /** Whether an observation is checked by polling now (not on a stream). */
  polled: (observation: Observation) => boolean
  /** The client's request time limit: a check nearer its deadline goes alone. */
  timeoutMs: number
}

/**
 * The checks to take along, early, in the last batch of `group` (those planned soonest, as many
 * as it has room for): none earlier than 1/8 of its delay, as on the grid, so a strategy's
 * schedule holds. Not with a check near its deadline (the batch's time limit would be its: 1 s
 * for a last look), nor, while turns are free (`turnsFree`), with or for checks the server paces
 * (a batch's answer would not say when to come back, and one was checked again long before it
 * said).
 */
export function comeAlong(
  group: readonly Observation[],
  now: number,
  turnsFree: boolean,
  { planned, polled, timeoutMs }: Planned,
): Observation[] {
  const near = (o: Observation) => o.nearestDeadline() - now < timeoutMs
  const paced = (o: Observation) => turnsFree && o.paced
  if (group.some(near) || (group.length === 1 && paced(group[0] as Observation))) return []
  // Room in the last batch: none in a full one.
  const room = group.length === 0 ? MAX_BATCH : (MAX_BATCH - (group.length % MAX_BATCH)) % MAX_BATCH
  const early: [number, Observation][] = []
  for (const [observation, due] of planned) {
    const nearly = due.at - now <= (due.at - (observation.plannedAt ?? now)) / 8
    if (nearly && !paced(observation) && polled(observation) && observation.checkableEarly(now)) {
      early.push([due.at, observation])
    }
  }
  early.sort((a, b) => a[0] - b[0])
  return early.slice(0, room).map(([, observation]) => observation)
}

/**
 * Checks due while requests wait for their turn under the rate limit: they wait for one turn
 * together, and when it comes `send` is given it (see the top of this file).
 */
export class Gathering {
  readonly #core: ClientCore
  readonly #send: (pacer: Pacer, turn: Ticket) => void
  readonly #gathered = new Set<Observation>()
  /** Aborts the wait for the turn, when none is wanted any more. */
  #waiting: AbortController | undefined

  constructor(core: ClientCore, send: (pacer: Pacer, turn: Ticket) => void) {
    this.#core = core
    this.#send = send
  }

  /** How many checks are gathered. */
  get size(): number {
    return this.#gathered.size
  }

  /** Whether the gathered checks wait for a turn. */
  get waiting(): boolean {
    return this.#waiting !== undefined
  }

  add(observation: Observation): void {
    this.#gathered.add(observation)
  }

  /** `observation` is checked no more: the wait for a turn ends when none is left. */
  delete(observation: Observation): void {
    this.#gathered.delete(observation)
    if (this.#gathered.size === 0 && this.#waiting) {
      this.#waiting.abort()
      this.#waiting = undefined
    }
  }

  /** Takes out up to MAX_BATCH gathered checks, keeping those `usable` still. */
  take(usable: (observation: Observation) => boolean): Observation[] {
    const group: Observation[] = []
    for (const observation of this.#gathered) {
      if (group.length === MAX_BATCH) break
      this.#gathered.delete(observation)
      if (usable(observation)) group.push(observation)
    }
    return group
  }

  /** Waits for a turn for the checks gathered, unless none is or one is waited for already. */
  wait(pacer: Pacer): void {
    if (this.#waiting || this.#gathered.size === 0) return
    const waiting = new AbortController()
    this.#waiting = waiting
    const asking = { method: 'GET', path: '/v1/jobs?ids=', signal: waiting.signal } as const
    takeTurn(this.#core, pacer, asking, undefined).then(
      (turn) => {
        if (this.#waiting === waiting) this.#waiting = undefined
        this.#send(pacer, turn)
      },
      (error: unknown) => {
        if (this.#waiting === waiting) this.#waiting = undefined
        if (waiting.signal.aborted) return
        // Refused the turn (the server said it takes no request for longer than a call waits):
        // each check gathered fails with its word, and is made again when it said.
        while (this.#gathered.size > 0) {
          for (const observation of this.take(() => true)) {
            if (!observation.ended) observation.failed(error)
          }
        }
      },
    )
  }
}
