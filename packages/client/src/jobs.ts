/**
 * The jobs resource: `client.jobs.*`. Each method is one call of wire protocol v1 (with retries
 * where they are safe), plus `wait`, which polls until a job is done.
 */
import { type ClientCore, request } from './core.js'
import { isApiError, JobFailedError } from './errors.js'
import type { HistoryEntry } from './history.js'
import { type HttpResponse, readBody } from './http.js'
import { parseJob } from './parse.js'
import { retryAfterOf, type ServerHints } from './polling/hints.js'
import { randomId } from './random-id.js'
import type { CreateJobParams, Job } from './types.js'
import { isTerminalStatus } from './types.js'
import { checkJobId, checkNumber } from './validate.js'
import { pollUntilDone, type WaitLimits } from './wait.js'

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
  idempotencyKey?: string
}

/** Options of `jobs.wait` and `jobs.createAndWait`. */
export interface WaitOptions extends WaitLimits {
  /** Called with the job after every status check. */
  onProgress?: (job: Job) => void
  /**
   * Resubmit a job that ended in `error` as a new job, up to this many times; `true` means once.
   * `createAndWait` resubmits its parameters; `wait` resubmits the job's `video_url`,
   * `target_language` and `title` (a callback URL is not part of a Job).
   * @default false
   */
  retryOnError?: boolean | number
  /**
   * Reject with `JobFailedError` when the job ends in `error` or is canceled; with `false`,
   * resolve with the failed job instead.
   * @default true
   */
  throwOnError?: boolean
}

/** `client.jobs`: create, inspect, cancel and wait for video translation jobs. */
export class Jobs {
  readonly #core: ClientCore

  constructor(core: ClientCore) {
    this.#core = core
  }

  /**
   * Submits a job. Resolves as soon as the server has accepted it (status `pending`).
   * @example const job = await client.jobs.create({ video_url: 'https://example.com/a.mp4', target_language: 'es' })
   */
  async create(params: CreateJobParams, options: CreateJobOptions = {}): Promise<Job> {
    return (await this.#create(params, options)).job
  }

  /** A create, with the hints its answer carried. */
  async #create(params: CreateJobParams, options: CreateJobOptions): Promise<Observed> {
    const response = await request(this.#core, {
      method: 'POST',
      path: '/v1/jobs',
      body: params,
      headers: { 'idempotency-key': options.idempotencyKey ?? randomId() },
      signal: options.signal,
    })
    const job = readBody(response, parseJob)
    this.#core.events.emit('job:created', { job })
    return { job, hints: hintsOf(job, response, this.#core.clock.now()) }
  }

  /**
   * Fetches a job's current status once.
   * @example const { status, progress } = await client.jobs.get('job_123')
   */
  async get(id: string, options?: RequestOptions): Promise<Job> {
    return (await this.#check(id, 0, options?.signal, undefined)).job
  }

  /**
   * Cancels a job that has not finished. A finished job answers 409 (an `ApiError`).
   * @example await client.jobs.cancel(job.id)
   */
  async cancel(id: string, options: RequestOptions = {}): Promise<Job> {
    const path = `${jobPath(id)}/cancel`
    const response = await request(this.#core, { method: 'POST', path, signal: options.signal })
    return readBody(response, parseJob)
  }

  /**
   * Waits until a job is `completed` and resolves with it. Polls as the server's hints say, else
   * with exponential backoff and jitter. Rejects with `JobFailedError` when the job ends in
   * `error` or is canceled, `TimeoutError` when a limit is reached, the signal's reason on abort.
   * @example const done = await client.jobs.wait(job.id, { timeoutMs: 600_000, signal })
   */
  async wait(id: string, options: WaitOptions = {}): Promise<Job> {
    return this.#waitWithResubmits(id, undefined, options, (failed) =>
      this.#create(
        {
          video_url: failed.video_url,
          target_language: failed.target_language,
          ...(failed.title === null ? {} : { title: failed.title }),
        },
        { signal: options.signal },
      ),
    )
  }

  /**
   * Creates a job and waits for it: `create` then `wait`, resubmitting with the same parameters
   * when `retryOnError` asks.
   * @example const done = await client.jobs.createAndWait({ video_url, target_language: 'de' })
   */
  async createAndWait(
    params: CreateJobParams,
    options: WaitOptions & CreateJobOptions = {},
  ): Promise<Job> {
    // Checked before the create: a job nobody waits for would still be made (and billed).
    checkWaitOptions(options)
    const created = await this.#create(params, options)
    // A resubmit is a new job: it must not replay the first one's idempotency key.
    return this.#waitWithResubmits(created.job.id, created, options, () =>
      this.#create(params, { signal: options.signal }),
    )
  }

  /**
   * Every status check this client made of job `id`: time, status, HTTP status, latency, attempt.
   * @example console.table(client.jobs.history(job.id))
   */
  history(id: string): HistoryEntry[] {
    return this.#core.history.get(id)
  }

  /**
   * Waits for `firstId`; `created` (the create's answer, when the job was just made) lets the
   * first look wait for the hint instead of asking at once.
   */
  async #waitWithResubmits(
    firstId: string,
    created: Observed | undefined,
    options: WaitOptions,
    resubmit: (failed: Job) => Promise<Observed>,
  ): Promise<Job> {
    checkWaitOptions(options)
    const { clock, events } = this.#core
    const start = clock.now()
    let resubmits = options.retryOnError === true ? 1 : Number(options.retryOnError || 0)
    let id = firstId
    let initial = created
    for (;;) {
      const timeoutMs =
        options.timeoutMs === undefined ? undefined : options.timeoutMs - (clock.now() - start)
      let last: Job | undefined
      const { value: job, outcome } = await pollUntilDone(
        this.#core,
        id,
        { ...options, timeoutMs },
        async (attempt, limitMs) => {
          const { job, response } = await this.#check(id, attempt, options.signal, limitMs)
          events.emit('job:status', { job, attempt, changed: job.status !== last?.status })
          last = job
          this.#progress(options.onProgress, job)
          return {
            value: job,
            job,
            outcome: !isTerminalStatus(job.status)
              ? 'pending'
              : job.status === 'completed'
                ? 'completed'
                : 'failed',
            hints: hintsOf(job, response, clock.now()),
          }
        },
        initial,
      )
      if (outcome === 'completed') {
        events.emit('job:completed', { job })
        return job
      }
      events.emit('job:failed', { job })
      if (job.status === 'error' && resubmits > 0) {
        resubmits--
        initial = await resubmit(job)
        id = initial.job.id
        continue
      }
      if (options.throwOnError === false) return job
      throw new JobFailedError(job)
    }
  }

  /** Calls `onProgress`; like an event listener, a throwing callback never stops the wait. */
  #progress(onProgress: WaitOptions['onProgress'], job: Job): void {
    try {
      onProgress?.(job)
    } catch (error) {
      this.#core.logger.error?.('onProgress threw', { error: String(error) })
    }
  }

  /** One status check of job `id`, recorded in the history; the hints are read for waits only. */
  async #check(
    id: string,
    attempt: number,
    signal: AbortSignal | undefined,
    timeoutMs: number | undefined,
  ): Promise<{ job: Job; response: HttpResponse }> {
    const { clock, history } = this.#core
    const path = jobPath(id)
    const started = clock.now()
    try {
      const response = await request(this.#core, { method: 'GET', path, signal, timeoutMs })
      const job = readBody(response, parseJob)
      const at = clock.now()
      history.record(id, {
        at,
        status: job.status,
        httpStatus: response.status,
        latencyMs: at - started,
        attempt,
      })
      return { job, response }
    } catch (error) {
      const at = clock.now()
      history.record(id, {
        at,
        status: null,
        httpStatus: isApiError(error) ? error.status : null,
        latencyMs: at - started,
        attempt,
        error: error instanceof Error ? error.message : String(error),
      })
      throw error
    }
  }
}

/** A job as one response showed it, with the server's hints. */
interface Observed {
  job: Job
  hints: ServerHints
}

/** The hints of a response about `job`: its `Retry-After` and the job's `eta_ms`. */
function hintsOf(job: Job, response: HttpResponse, now: number): ServerHints {
  return { retryAfterMs: retryAfterOf(response.headers, now), etaMs: job.eta_ms ?? undefined }
}

/** The path of job `id`, which must stay one path segment (see `checkJobId`). */
function jobPath(id: string): string {
  checkJobId(id)
  return `/v1/jobs/${encodeURIComponent(id)}`
}

/** The numeric limits of a wait, checked where they are given (see validate.ts). */
function checkWaitOptions(options: WaitOptions): void {
  checkNumber('timeoutMs', options.timeoutMs, { infinite: true })
  checkNumber('maxAttempts', options.maxAttempts, { min: 1, integer: true, infinite: true })
  checkNumber('maxConsecutiveErrors', options.maxConsecutiveErrors, {
    min: 1,
    integer: true,
    infinite: true,
  })
  if (typeof options.retryOnError !== 'boolean') {
    checkNumber('retryOnError', options.retryOnError, { integer: true, max: 1_000 })
  }
}
