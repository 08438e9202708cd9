/**
 * `waitAll` and `waitAny` as consumers of the monitor: one subscription per job under one
 * deadline and one signal. The monitor puts every job due in the same tick into batch requests,
 * so a thousand waits cost ten requests a round, not a thousand.
 */

import { whenAborted } from '../abort.js'
import type { Logger } from '../core.js'
import type { Emitter } from '../emitter.js'
import { JobFailedError } from '../errors.js'
import type { ClientEvents } from '../events.js'
import type { Redactor } from '../redact.js'
import { type CompletedJob, isTerminalStatus, type Job, type JobStatus } from '../types.js'
import type { Monitor } from './monitor.js'
import type { Subscription, WaitLimits } from './subscription.js'
import { callSafely } from './wait.js'

/** How one job of a batch ended: like `Promise.allSettled`, with the job as last seen. */
export type WaitOutcome =
  | { status: 'fulfilled'; job: CompletedJob }
  | {
      status: 'rejected'
      /** `JobFailedError` (error or canceled), `TimeoutError`, or what the checks failed with. */
      reason: unknown
      /** The job as last seen; undefined when no check of it succeeded. */
      job: Job | undefined
    }

/** Jobs of a batch by status (`unknown`: not seen yet), and how many have settled. */
export interface BatchProgress {
  total: number
  settled: number
  counts: Record<JobStatus | 'unknown', number>
}

/** What waiting on many jobs needs from the client. */
export interface ManyContext {
  monitor: Monitor
  events: Emitter<ClientEvents>
  logger: Logger
  /** The client's redactor, for the server's words a job's failure quotes. */
  redact: Redactor
}

/**
 * Waits for every job in `ids`; resolves with their outcomes in the order given. Rejects only
 * with the signal's reason.
 */
export function waitAll(
  context: ManyContext,
  ids: readonly string[],
  limits: WaitLimits,
  onProgress: ((progress: BatchProgress) => void) | undefined,
  /** Each job's `expectedMs`, by its place in `ids`. */
  expected?: readonly (number | undefined)[],
): Promise<WaitOutcome[]> {
  if (ids.length === 0) return Promise.resolve([])
  return new Promise((resolve, reject) => {
    const outcomes: (WaitOutcome | undefined)[] = ids.map(() => undefined)
    const seen: (JobStatus | 'unknown')[] = ids.map(() => 'unknown')
    const counts = {
      unknown: ids.length,
      pending: 0,
      running: 0,
      completed: 0,
      error: 0,
      canceled: 0,
    }
    let settled = 0
    const report = () => {
      const progress = { total: ids.length, settled, counts: { ...counts } }
      context.events.emit('batch:progress', progress)
      callSafely(context.logger, 'onProgress', () => onProgress?.(progress))
    }
    subscribeAll(context, ids, limits, expected, (stop) => {
      const settle = (i: number, outcome: WaitOutcome) => {
        if (outcomes[i]) return
        outcomes[i] = outcome
        settled++
        report()
        if (settled < ids.length) return
        stop()
        resolve(outcomes as WaitOutcome[])
      }
      return {
        next(i, job) {
          const before = seen[i] as JobStatus | 'unknown'
          if (before === job.status) return
          counts[before]--
          counts[job.status]++
          seen[i] = job.status
          if (job.status === 'completed') settle(i, { status: 'fulfilled', job })
          else if (isTerminalStatus(job.status)) {
            settle(i, { status: 'rejected', reason: new JobFailedError(job, context.redact), job })
          } else report()
        },
        end: (i, error, job) => settle(i, { status: 'rejected', reason: error, job }),
        aborted: reject,
      }
    })
  })
}

/**
 * Resolves with the first job in `ids` to complete, and stops waiting for the others; rejects
 * with an `AggregateError` of every job's reason when none completes, or with the signal's reason.
 */
export function waitAny(
  context: ManyContext,
  ids: readonly string[],
  limits: WaitLimits,
): Promise<CompletedJob> {
  if (ids.length === 0) return Promise.reject(new AggregateError([], 'No jobs to wait for.'))
  return new Promise((resolve, reject) => {
    const reasons: unknown[] = ids.map(() => undefined)
    let failed = 0
    subscribeAll(context, ids, limits, undefined, (stop) => {
      const fail = (i: number, reason: unknown) => {
        if (reasons[i] !== undefined) return
        reasons[i] = reason
        if (++failed < ids.length) return
        stop()
        reject(new AggregateError(reasons, 'None of the jobs completed.'))
      }
      return {
        next(i, job) {
          if (job.status === 'completed') {
            stop()
            resolve(job)
          } else if (isTerminalStatus(job.status)) fail(i, new JobFailedError(job, context.redact))
        },
        end: fail,
        aborted: reject,
      }
    })
  })
}

/** What `subscribeAll` tells, each callback with the id's index. */
interface ManySubscriber {
  next(i: number, job: Job): void
  end(i: number, error: unknown, job: Job | undefined): void
  aborted(reason: unknown): void
}

/**
 * One subscription per id under one deadline. The signal is listened to once for all of them (a
 * listener per job would be thousands on one signal). `make` builds the callbacks around `stop`,
 * which ends every subscription, those not yet made included.
 */
function subscribeAll(
  context: ManyContext,
  ids: readonly string[],
  limits: WaitLimits,
  /** Each job's `expectedMs`, by its place in `ids`. */
  expected: readonly (number | undefined)[] | undefined,
  make: (stop: () => void) => ManySubscriber,
): void {
  const { signal, ...own } = limits
  const subscriptions: Subscription[] = []
  let stopped = false
  let unlink = () => {}
  const stop = () => {
    stopped = true
    unlink()
    for (const s of subscriptions) s.close()
  }
  const subscriber = make(stop)
  const onAbort = () => {
    stop()
    subscriber.aborted(signal?.reason)
  }
  if (signal?.aborted) {
    onAbort()
    return
  }
  if (signal) unlink = whenAborted(signal, onAbort)
  for (const [i, id] of ids.entries()) {
    if (stopped) return
    let last: Job | undefined
    const next = (job: Job) => {
      last = job
      subscriber.next(i, job)
    }
    const end = (error: unknown) => subscriber.end(i, error, last)
    // Counts by status (`batch:progress`) follow every status change.
    const counted = { everyChange: true, next, end }
    const expectedMs = expected?.[i]
    const its = expectedMs === undefined ? own : { ...own, expectedMs }
    subscriptions.push(context.monitor.subscribe(id, its, counted, { align: true }))
  }
}
