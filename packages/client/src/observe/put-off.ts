/**
 * Streams put off while creates wait their turn under the rate limit (observation.ts, `created`:
 * each job polled in batches meanwhile). Once no create waits any more, they open as the pacer
 * has turns free for them, now and at each next free turn until none is left (a job checked when
 * a turn is free opens its stream then too: monitor.ts, `#tick`). Opened only at each job's next
 * check on which a turn was free, 150 streams at 10 requests a second opened up to 24 s after
 * the last create, in clumps (now 20 s, the turns shared with the batch checks). Where the turns
 * to open them all would not come within OPEN_ALL_MS (a quota of 100 requests an hour), they
 * stay polled in batches, one turn for up to 100 jobs: opened one per turn, 100 jobs of 10 min
 * were known 20 min late at the median, 50 min at worst (polled, within a minute).
 */
import type { ClientCore } from '../core.js'
import { MAX_TIMER_MS } from '../validate.js'
import type { Observation } from './observation.js'

/** How soon the turns to open every stream put off must come for them to open. */
const OPEN_ALL_MS = 10_000

export class PutOffStreams {
  readonly #core: ClientCore
  readonly #observations: ReadonlyMap<string, Observation>
  /** Whether they wait to hear that no create waits its turn any more. */
  #awaitingCreates = false
  /** Cancels the wait for the pacer's next free turn to open more of them. */
  #opening: AbortController | undefined

  constructor(core: ClientCore, observations: ReadonlyMap<string, Observation>) {
    this.#core = core
    this.#observations = observations
  }

  /** A stream was put off: they open once no create waits its turn. */
  added(): void {
    const { pacer } = this.#core
    if (!pacer || this.#awaitingCreates) return
    this.#awaitingCreates = true
    pacer.afterBackground(() => {
      this.#awaitingCreates = false
      this.#open()
    })
  }

  /** Nothing is observed any more: no wait for a free turn is left behind. */
  stop(): void {
    this.#opening?.abort()
    this.#opening = undefined
  }

  /**
   * Whether the streams put off (and `more`) may open as turns are free: there are turns for them
   * all soon. (Counted only where turns are short: for every job observed, there are mostly.)
   */
  mayOpen(more = 0): boolean {
    const { pacer } = this.#core
    if (!pacer || pacer.roomFor(this.#observations.size + more, OPEN_ALL_MS)) return true
    let count = more
    for (const observation of this.#observations.values()) if (observation.putOff) count++
    return pacer.roomFor(count, OPEN_ALL_MS)
  }

  #open(): void {
    this.stop()
    const { pacer, clock } = this.#core
    if (!pacer || this.#awaitingCreates) return
    const room = this.mayOpen()
    let free = room ? pacer.free() : 0
    let left = false
    for (const observation of this.#observations.values()) {
      if (!observation.putOff) continue
      if (free >= 1) {
        free--
        observation.openPutOff()
      } else left = true
    }
    if (!left) return
    const opening = new AbortController()
    this.#opening = opening
    // At the next free turn, or, without turns for them all, when there may be.
    const untilMs = room ? pacer.untilFree() : OPEN_ALL_MS
    clock.sleep(Math.min(MAX_TIMER_MS, Math.max(1, untilMs)), opening.signal).then(
      () => this.#open(),
      () => {},
    )
  }
}
