/**
 * What an observation (observation.ts) needs of the monitor that plans its checks, how it is
 * observed, and the request it has out.
 */
import type { PollingStrategy } from '../polling/strategy.js'
import type { Job } from '../types.js'
import type { Observation } from './observation.js'

/** How a job is observed: polled (alone or in batches), held requests, or an event stream. */
export type Transport = 'poll' | 'long-poll' | 'sse'

/** Where the observation's plans go: the monitor. */
export interface Planner {
  /** Plans the next check of `observation` `delayMs` from now (0: at once). */
  /** `notBeforeMs`: however the plan is moved (to share a batch), not sooner than that. */
  plan(observation: Observation, delayMs: number, notBeforeMs?: number): void
  /** Plans the check at a subscription's deadline (exactly then, not aligned). */
  planAt(observation: Observation, at: number): void
  /**
   * A stream (or held request) is put off while creates wait their turn: polled in batches
   * meanwhile, and opened once none waits.
   */
  putOff(): void
  /** Whether there are turns to open one more stream soon (put-off.ts). */
  roomForStream(): boolean
  /** The observation ended: forget it. */
  release(observation: Observation): void
  /** An answer from the server: other tabs sharing the job hear of it too. */
  relay(job: Job): void
  /** A wait's look at its deadline beside the check out, where the source has one. */
  lookBeside(observation: Observation, signal: AbortSignal): void
  /**
   * `observation`'s transport does not work here: it uses `to`, and so do the client's next jobs
   * unless `remember` is false (what failed may be this job's path only, or passing). False when
   * it keeps its transport (one the user chose, not 'auto'): the source copes or fails the wait.
   */
  fallback(observation: Observation, to: Transport, reason: string, remember?: boolean): boolean
  /**
   * `strategy` moved what it learned so far that the checks it placed are misplaced: the jobs
   * polled with it are checked sooner where it now says so.
   */
  replan(strategy: PollingStrategy): void
  /** Whether `observation` may fall back to `to` (its transport is the client's to choose). */
  mayFallBack(observation: Observation, to: Transport): boolean
  /**
   * A stream or held request of `observation` opens: in a page, it takes one of the connections
   * the origin's tabs hold together, or `denied` is called (page.ts). Returns the release.
   */
  claimConnection(denied: () => void): () => void
}

/** A request in flight for one or more observations: aborted once none of them is wanted. */
export class InFlight {
  readonly controller = new AbortController()
  open: number

  constructor(observations: number) {
    this.open = observations
  }

  /** One of its observations ended. */
  drop(): void {
    if (--this.open === 0) this.controller.abort()
  }
}
