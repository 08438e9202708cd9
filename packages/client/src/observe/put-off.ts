/**
 * Streams put off while creates wait their turn under the rate limit (observation.ts, `created`:
 * each job polled in batches meanwhile). Once no create waits any more, they open as the pacer
 * has turns free for them, now and at each next free turn until none is left (a job checked when
 * a turn is free opens its stream then too: monitor.ts, `#tick`). Opened only at each job's next
 * check on which a turn was free, 150 streams at 10 requests a second opened up to 24 s after
 * the last create, in clumps (now 20 s, the turns shared with the batch checks).
 */
import type { ClientCore } from '../core.js'
import { MAX_TIMER_MS } from '../validate.js'
import type { Observation } from './observation.js'

export class PutOffStreams {
  readonly #core: ClientCore
  readonly #observations: () => Iterable<Observation>
  /** Whether they wait to hear that no create waits its turn any more. */
  #awaitingCreates = false
  /** Cancels the wait for the pacer's next free turn to open more of them. */
  #opening: AbortController | undefined

  constructor(core: ClientCore, observations: () => Iterable<Observation>) {
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

  #open(): void {
    this.stop()
    const { pacer, clock } = this.#core
    if (!pacer || this.#awaitingCreates) return
    let free = pacer.free()
    let left = false
    for (const observation of this.#observations()) {
      if (!observation.putOff) continue
      if (free >= 1) {
        free--
        observation.openPutOff()
      } else left = true
    }
    if (!left) return
    const opening = new AbortController()
    this.#opening = opening
    clock.sleep(Math.min(MAX_TIMER_MS, Math.max(1, pacer.untilFree())), opening.signal).then(
      () => this.#open(),
      () => {},
    )
  }
}
