/**
 * Progress between checks, for UIs: from the last answer's progress and `eta_ms` (or the pace
 * progress moved at between the last two answers), an estimate for now that never reaches 100 %
 * before the server says so.
 */
import { isTerminalStatus, type Job } from '../types.js'
import type { CursorState } from './cursor.js'

/** Where a job probably is now. */
export interface ProgressEstimate {
  /** Fraction done, from 0 to 1 (below 1 until the server reports the job finished). */
  progress: number
  /** Milliseconds probably left; undefined when nothing tells. */
  etaMs: number | undefined
  /** The job as last seen; undefined before the first answer. */
  job: Job | undefined
}

/** The most an estimate claims before the server reports the job finished. */
const MAX_ESTIMATE = 0.99

/** The estimate at `now` from what the cursor last saw. */
export function estimateProgress(state: CursorState, now: number): ProgressEstimate {
  const { job, seenAt = now, progressRate } = state
  // From the last body: its progress and ETA were as of then.
  if (!job) return { progress: 0, etaMs: undefined, job }
  if (isTerminalStatus(job.status)) return { progress: job.progress, etaMs: 0, job }
  const elapsed = Math.max(0, now - seenAt)
  let progress = job.progress
  let etaMs: number | undefined
  if (job.eta_ms !== null) {
    // The rest of the work is spread over the ETA.
    etaMs = Math.max(0, job.eta_ms - elapsed)
    progress += (1 - progress) * (job.eta_ms > 0 ? Math.min(1, elapsed / job.eta_ms) : 1)
  } else if (progressRate !== undefined && progressRate > 0 && job.status === 'running') {
    progress += progressRate * elapsed
    etaMs = Math.max(0, (1 - progress) / progressRate)
  }
  return { progress: Math.max(job.progress, Math.min(progress, MAX_ESTIMATE)), etaMs, job }
}
