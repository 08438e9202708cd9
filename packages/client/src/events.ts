/** The client's events: each name with its payload. */

import type { Transport } from './observe/planner.js'
import type { BatchProgress } from './observe/wait-many.js'
import type { CircuitState } from './request/breaker.js'
import type { CompletedJob, Job, UncompletedJob } from './types.js'

/** Every event the client emits, by name. */
export interface ClientEvents {
  /** A job was created. */
  'job:created': { job: Job }
  /** A status check of a job being waited for answered (`changed` when the status moved). */
  'job:status': { job: Job; attempt: number; changed: boolean }
  /** A job being waited for completed. */
  'job:completed': { job: CompletedJob }
  /** A job being waited for ended in `error` or was canceled. */
  'job:failed': { job: UncompletedJob }
  /** A wait ran out of time or attempts. */
  'job:timeout': { id: string; job: Job | undefined; elapsedMs: number; attempts: number }
  /**
   * A request failed transiently and will be sent again in about `delayMs`: its backoff, or its
   * turn under the server's rate limit when that comes later.
   */
  'request:retry': {
    method: string
    path: string
    attempt: number
    delayMs: number
    error: unknown
  }
  /** A request failed for good, or a status check failed and the wait goes on. */
  'request:error': { method: string; path: string; error: unknown }
  /** A job of a `waitAll` changed status or settled: the jobs by status. */
  'batch:progress': BatchProgress
  /** A job is observed by a push transport (the client's choice for it). */
  'transport:selected': { id: string; transport: Exclude<Transport, 'poll'> }
  /** A transport did not work with this server: the job (and the client's next ones) use `to`. */
  'transport:fallback': {
    id: string
    from: Transport
    to: Transport
    reason: string
  }
  /**
   * The circuit breaker opened: calls fail fast for a while. Also told when a probe ends without
   * a verdict (its caller left, or a wait's early last look failed): the same opening goes on.
   */
  'circuit:open': { state: CircuitState }
  /** The circuit breaker lets one probe through. */
  'circuit:half-open': { state: CircuitState }
  /** The circuit breaker closed again. */
  'circuit:close': { state: CircuitState }
}

/**
 * Any one of the client's events, as a listener of every event (`client.on('*', …)`) is given
 * it: a union on `name`, so a `switch` on it narrows `payload` and can be checked exhaustive.
 */
export type ClientEvent = {
  [K in keyof ClientEvents]: { name: K; payload: ClientEvents[K] }
}[keyof ClientEvents]
