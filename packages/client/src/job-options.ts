/**
 * The options of each `client.jobs` call (jobs.ts), and how a batch create ends for each job.
 */

import type { WaitLimits } from './observe/subscription.js'
import type { OnProgress } from './observe/wait.js'
import type { BatchProgress } from './observe/wait-many.js'
import type { CreateJobParams, Job } from './types.js'

/** Options every call accepts. */
export interface RequestOptions {
  /** Abort the call; it rejects with the signal's reason and sends nothing more. */
  signal?: AbortSignal | undefined
}

/** Options of `jobs.create`. */
export interface CreateJobOptions extends RequestOptions {
  /**
   * Makes the create safe to repeat: the server returns the same job for the same key and body,
   * so a create is retried only with a key.
   * @default a random UUID (32 random hex digits where the runtime has no `crypto.randomUUID`)
   */
  idempotencyKey?: string | undefined
}

/** Options of `jobs.watch`. */
export interface WatchOptions extends WaitLimits {
  /**
   * How long you expect the job to take from its creation, in ms, where you can tell (a video's
   * length times what a second of it takes to translate): the adaptive strategy places the checks
   * by it while the server gives no ETA, learning from the jobs that end how far off your
   * estimates are (so the video's length alone, in ms, serves too). Waits sharing a job: the
   * latest given counts; a resumed wait keeps its token's unless given one. Other strategies
   * see it as `PollContext.expectedMs`.
   */
  expectedMs?: number | undefined
  /**
   * A token from `resumeToken()` of an earlier wait or watch of the same job (in this process or
   * another): the schedule, deadline and last ETag go on from it, and the first check is at once.
   * A `timeoutMs` given with it replaces its deadline, counted from now.
   */
  resume?: string | undefined
}

/**
 * Options of `jobs.wait` and `jobs.createAndWait`. `Throws`: whether `throwOnError` may be
 * `false`: a wait given `WaitOptions` resolves with a `CompletedJob`, one given
 * `WaitOptions<boolean>` (where `throwOnError` may be `false`) with a `Job`.
 */
export interface WaitOptions<Throws extends boolean = true> extends WatchOptions {
  /**
   * Called with the job after every status check, and the wait's state (estimate, resume token);
   * after a create (`createAndWait`'s, a resubmit's), first with the job as created, before any
   * check.
   */
  onProgress?: OnProgress | undefined
  /**
   * Resubmit a job that ended in `error` as a new job, up to this many times; `true` means once.
   * `createAndWait` resubmits its parameters; `wait` resubmits the job's `video_url`,
   * `target_language` and `title` (a callback URL is not part of a Job).
   * @default false
   */
  retryOnError?: boolean | number | undefined
  /**
   * Reject with `JobFailedError` when the job ends in `error` or is canceled; with `false`,
   * resolve with the failed job instead.
   * @default true
   */
  throwOnError?: Throws | undefined
}

/** Options of `jobs.waitAll` and `jobs.waitAny`: one deadline and one signal for every job. */
export interface WaitManyOptions extends WaitLimits {
  /** Called on every change with the jobs by status (the `batch:progress` event's payload). */
  onProgress?: ((progress: BatchProgress) => void) | undefined
  /**
   * Each job's `expectedMs` (see `WaitOptions`), by its id and place in `ids`; undefined for a
   * job you cannot tell. Called once a job, before anything is sent.
   * @example expectedMs: (_, i) => videos[i].durationMs
   */
  expectedMs?: ((id: string, index: number) => number | undefined) | undefined
}

/** Options of `jobs.createBatch`. */
export interface CreateBatchOptions extends RequestOptions {
  /** Creates in flight at once. @default 8 */
  concurrency?: number | undefined
  /**
   * Each job's idempotency key, from its params and place in the list (by default, a random key
   * per job). Keys that name the batch make it safe to run again after a crash or an abort: the
   * server answers a key it has seen with the job it created then, so no job is lost or made
   * twice. The protocol takes 1 to 255 visible ASCII characters.
   * @example idempotencyKey: (params, i) => `nightly-2026-12-05-${i}`
   */
  idempotencyKey?: ((params: CreateJobParams, index: number) => string) | undefined
}

/** How one create of a batch ended. */
export type CreateOutcome =
  | { status: 'fulfilled'; job: Job }
  /**
   * `idempotencyKey`: the key its create was sent with (or would have been): a create sent
   * again with it finds the job the server made if only its answer was lost, and makes no other;
   * undefined when the `idempotencyKey` function threw or gave no string, or the create was not
   * tried (the server refusing every create: see `reason`).
   */
  | { status: 'rejected'; reason: unknown; idempotencyKey: string | undefined }
