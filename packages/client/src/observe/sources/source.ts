/**
 * What a source is: one way of looking at jobs (polling one job, a batch of them, a held request,
 * an event stream), as the monitor uses it (monitor.ts). The sources are the other files here.
 */
import type { Observation } from '../observation.js'

/** How a monitor looks at jobs. */
export interface Source {
  /**
   * Checks one job, reporting to the observation (`answered` or `failed`); `turn`: its turn
   * under the rate limit, given before (see `HttpRequest.turn`).
   */
  one(observation: Observation, signal: AbortSignal, turn?: number): Promise<void>
  /**
   * Checks one job for a wait at its deadline, beside the check out (its answer is told as a
   * look: nothing planned). Absent: no such look, the wait's guard ends it.
   */
  look?(observation: Observation, signal: AbortSignal): Promise<void>
  /**
   * Checks several jobs in one request; resolves with those it could not tell about (`alone`:
   * checked one by one now), whether the monitor stops asking in batches (`stop`: the server
   * has no batch endpoint that works), and whether no request went out (`unsent`). Absent: no
   * batch form.
   */
  many?(
    observations: Observation[],
    signal: AbortSignal,
    turn?: number,
  ): Promise<{ alone: Observation[]; stop?: boolean | undefined; unsent?: boolean | undefined }>
}

/** How a monitor looks at jobs, by transport; polling is always there. */
export interface Sources {
  poll: Source
  'long-poll'?: Source | undefined
  sse?: Source | undefined
}
