/**
 * Wire types of protocol v1: what the server sends and accepts, field for field (snake_case, as
 * on the wire), so a Job logged by the client reads exactly like the HTTP response it came from.
 */

/** Where a job is in its life: `pending` (queued) → `running` → one of the terminal statuses. */
export type JobStatus = 'pending' | 'running' | 'completed' | 'error' | 'canceled'

/** The statuses a job never leaves. */
export type TerminalJobStatus = 'completed' | 'error' | 'canceled'

/** What every job has, whatever its status (see `Job`). */
export interface JobFields {
  /** Opaque identifier, `job_…`. */
  id: string
  status: JobStatus
  /** Fraction done, from 0 to 1. */
  progress: number
  /** The server's estimate of the milliseconds left, or `null` when it gives none. */
  eta_ms: number | null
  /** ISO-8601 time of creation. */
  created_at: string
  /** ISO-8601 time of the last status or progress change. */
  updated_at: string
  video_url: string
  target_language: string
  title: string | null
  /** Set once the job is `completed`. */
  result: { url: string } | null
  /** Set once the job ended in `error`. */
  error: { code: string; message: string } | null
}

/** A job that completed: what a successful wait resolves with; its `result` is there. */
export interface CompletedJob extends JobFields {
  status: 'completed'
  result: { url: string }
}

/** A job not (or not yet) completed: pending, running, or ended in `error` or `canceled`. */
export interface UncompletedJob extends JobFields {
  status: Exclude<JobStatus, 'completed'>
}

/**
 * A video translation job as the server reports it. A union on `status`, so checking it narrows:
 * `if (job.status === 'completed') job.result.url` (a completed job without a result does not
 * read: the client fails such an answer as invalid).
 */
export type Job = CompletedJob | UncompletedJob

/** The body of `POST /v1/jobs`. */
export interface CreateJobParams {
  /** The video to translate (http or https URL). */
  video_url: string
  /** BCP 47 language tag of the translation, e.g. `es`. */
  target_language: string
  title?: string | undefined
  /** The server POSTs the terminal Job here, signed. */
  callback_url?: string | undefined
  /** Mock server only: force the duration and outcome of this job. */
  simulate?:
    | { duration_ms?: number | undefined; outcome?: 'completed' | 'error' | undefined }
    | undefined
}

/** An RFC 9457 problem details body (`application/problem+json`). */
export interface Problem {
  type: string
  title: string
  status: number
  detail?: string
  request_id?: string
  [extension: string]: unknown
}

const TERMINAL: ReadonlySet<string> = new Set<TerminalJobStatus>(['completed', 'error', 'canceled'])

/** Whether a status is terminal: the job will never change again. */
export function isTerminalStatus(status: JobStatus): status is TerminalJobStatus {
  return TERMINAL.has(status)
}

const STAGES: Record<JobStatus, number> = {
  pending: 0,
  running: 1,
  completed: 2,
  error: 2,
  canceled: 2,
}

/** How far along a status is: pending 0, running 1, ended 2 (internal: not exported by index). */
export function stageOf(status: JobStatus): number {
  return STAGES[status]
}
