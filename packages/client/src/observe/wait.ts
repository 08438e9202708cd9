/**
 * `wait` as a consumer of the monitor: one subscription, settled by the job's terminal status
 * (whatever it is: jobs.ts decides what a failed job means), a limit, a failure or the signal.
 */
import type { Logger } from '../core.js'
import { callReporting } from '../emitter.js'
import { isTerminalStatus, type Job } from '../types.js'
import type { Monitor, Start } from './monitor.js'
import type { WaitLimits, WaitState } from './subscription.js'

/**
 * Called with the job after every status check (after a create, first as created), and the
 * wait's state; may be async (a rejection is logged).
 */
export type OnProgress = (job: Job, state: WaitState) => void

/** Resolves with job `id` once it is terminal. */
export function waitForEnd(
  monitor: Monitor,
  id: string,
  limits: WaitLimits,
  start: Start,
  onProgress: OnProgress | undefined,
  logger: Logger,
): Promise<Job> {
  return new Promise((resolve, reject) => {
    if (limits.signal?.aborted) return reject(limits.signal.reason)
    monitor.subscribe(
      id,
      limits,
      {
        everyChange: onProgress !== undefined,
        next(job, _changed, subscription) {
          // Like an event listener, a throwing callback never stops the wait.
          callSafely(logger, 'onProgress', () => onProgress?.(job, subscription))
          if (isTerminalStatus(job.status)) resolve(job)
        },
        end: reject,
      },
      start,
    )
  })
}

/** Calls a user's callback; what it throws (or rejects with) is logged, not let loose. */
export function callSafely(logger: Logger, name: string, call: () => unknown): void {
  callReporting(call, (error) => logger.error?.(`${name} threw`, { error: String(error) }))
}
