/**
 * The jobs resource: `client.jobs.*`. Each call of wire protocol v1 is one method (with retries
 * where they are safe); every way of waiting (`wait`, `watch`, `waitAll`, `waitAny`) is a thin
 * consumer of the client's monitor (observe/).
 */
import { Calls } from './calls.js'
import type { Engine } from './client.js'
import { type ClientCore, request } from './core.js'
import { createJob, createMany, createUntilMade } from './create.js'
import { JobFailedError, shown } from './errors.js'
import type { HistoryEntry } from './history.js'
import type {
  CreateBatchOptions,
  CreateJobOptions,
  CreateOutcome,
  RequestOptions,
  WaitManyOptions,
  WaitOptions,
  WatchOptions,
} from './job-options.js'
import { decodeToken } from './observe/cursor.js'
import type { Created, Start } from './observe/monitor.js'
import { getJob } from './observe/sources/poll.js'
import type { WaitLimits } from './observe/subscription.js'
import { waitForEnd } from './observe/wait.js'
import { type WaitOutcome, waitAll, waitAny } from './observe/wait-many.js'
import { JobWatch } from './observe/watch.js'
import { jobParser } from './parse.js'
import { readBody } from './request/http.js'
import type { CompletedJob, CreateJobParams, Job } from './types.js'
import {
  checkCallOptions,
  checkJobId,
  checkList,
  checkNumber,
  checkWaitOptions,
  jobPath,
  OPTIONS,
} from './validate.js'

/** `client.jobs`: create, inspect, cancel and wait for video translation jobs. */
export class Jobs {
  /** The core and monitor of each call (one for all, or one each: `isolateCalls`). */
  readonly #engine: () => Engine
  /** The calls out, which `client.close()` ends. */
  readonly #calls: Calls

  constructor(engine: () => Engine, calls = new Calls()) {
    this.#engine = engine
    this.#calls = calls
  }

  /**
   * Submits a job. Resolves as soon as the server has accepted it (status `pending`).
   * @example const job = await client.jobs.create({ video_url: 'https://example.com/a.mp4', target_language: 'es' })
   */
  async create(params: CreateJobParams, options: CreateJobOptions = {}): Promise<Job> {
    checkCallOptions(options, OPTIONS.create)
    const { core } = this.#engine()
    return this.#calls.single(async () => (await createJob(core, params, options)).job)
  }

  /**
   * Submits many jobs, at most `concurrency` at a time, each with its own idempotency key (so
   * each is retried safely); resolves with one outcome per job, in the order given. An abort
   * rejects with the signal's reason: the jobs created by then are told by `job:created`, and
   * with `idempotencyKey` a second run finds them instead of creating them again.
   * @example const created = await client.jobs.createBatch(videos.map((video_url) => ({ video_url, target_language: 'es' })))
   */
  async createBatch(
    paramsList: readonly CreateJobParams[],
    options: CreateBatchOptions = {},
  ): Promise<CreateOutcome[]> {
    checkList('paramsList', paramsList)
    checkCallOptions(options, OPTIONS.createBatch)
    checkNumber('concurrency', options.concurrency, { min: 1, integer: true })
    if (options.idempotencyKey !== undefined && typeof options.idempotencyKey !== 'function') {
      // One key for every job would create the first and refuse the others (422).
      throw new TypeError(
        'createBatch takes idempotencyKey as a function of (params, index), one key per job.',
      )
    }
    // One call: its creates take turns under one pacer, also with `isolateCalls`.
    const { core } = this.#engine()
    return this.#calls.run(options.signal, (signal) =>
      createMany(core, paramsList, { ...options, signal }),
    )
  }

  /**
   * Fetches a job's current status once.
   * @example const { status, progress } = await client.jobs.get('job_123')
   */
  async get(id: string, options?: RequestOptions): Promise<Job> {
    checkCallOptions(options)
    const { core } = this.#engine()
    checkJobId(id, core.http.redact)
    const signal = options?.signal
    return this.#calls.single(
      async () => (await getJob(core, id, { attempt: 0, signal })).job as Job,
    )
  }

  /**
   * Cancels a job that has not finished. A finished job answers 409 (an `ApiError`).
   * @example await client.jobs.cancel(job.id)
   */
  async cancel(id: string, options: RequestOptions = {}): Promise<Job> {
    checkCallOptions(options)
    const { core } = this.#engine()
    checkJobId(id, core.http.redact)
    const path = `${jobPath(id)}/cancel`
    return this.#calls.single(async () => {
      const response = await request(core, { method: 'POST', path, signal: options.signal })
      return readBody(response, jobParser(id))
    })
  }

  /**
   * Waits until a job is `completed` and resolves with it. Checks as the polling strategy says
   * (the server's hints first); concurrent waits and watches of one job share its checks.
   * Rejects with `JobFailedError` when the job ends in `error` or is canceled, `TimeoutError`
   * when a limit is reached, the signal's reason on abort.
   * @example const done = await client.jobs.wait(job.id, { timeoutMs: 600_000, signal })
   */
  wait(id: string, options?: WaitOptions): Promise<CompletedJob>
  wait(id: string, options: WaitOptions<boolean>): Promise<Job>
  async wait(id: string, given: WaitOptions<boolean> = {}): Promise<Job> {
    checkWaitOptions(given, OPTIONS.wait)
    const engine = this.#engine()
    const start = startOf(id, given, engine.core)
    // A resumed wait keeps its deadline unless given a new timeout.
    const deadline = deadlineOf(engine.core, given, start.resume?.deadline)
    return this.#calls.run(given.signal, (signal) => {
      const options = { ...given, signal }
      const { maxConsecutiveErrors, timeoutMs } = options
      return this.#waitWithResubmits(engine, id, start, options, deadline, (failed) =>
        createUntilMade(
          engine.core,
          {
            video_url: failed.video_url,
            target_language: failed.target_language,
            ...(failed.title === null ? {} : { title: failed.title }),
          },
          { signal, maxConsecutiveErrors, timeoutMs },
          deadline,
          failed,
        ),
      )
    })
  }

  /**
   * Goes on with a wait (or watch) from its resume token alone (`state.resumeToken()`, a
   * `TimeoutError`'s `resumeToken`): `wait(id, { resume: token })` with the token's job. Throws a
   * `TypeError` for what is not a token.
   * @example const done = await client.jobs.resume(await readFile('wait.token', 'utf8'))
   */
  resume(token: string, options?: WaitOptions): Promise<CompletedJob>
  resume(token: string, options: WaitOptions<boolean>): Promise<Job>
  async resume(token: string, options: WaitOptions<boolean> = {}): Promise<Job> {
    return this.wait(decodeToken(token).id, { ...options, resume: token })
  }

  /**
   * Creates a job and waits for it: `create` then `wait`, resubmitting with the same parameters
   * when `retryOnError` asks.
   * @example const done = await client.jobs.createAndWait({ video_url, target_language: 'de' })
   */
  createAndWait(
    params: CreateJobParams,
    options?: WaitOptions & CreateJobOptions,
  ): Promise<CompletedJob>
  createAndWait(
    params: CreateJobParams,
    options: WaitOptions<boolean> & CreateJobOptions,
  ): Promise<Job>
  async createAndWait(
    params: CreateJobParams,
    given: WaitOptions<boolean> & CreateJobOptions = {},
  ): Promise<Job> {
    // Checked before the create: a job nobody waits for would still be made (and billed).
    checkWaitOptions(given, OPTIONS.createAndWait)
    // The timeout counts from the call, but a create is never cut short by it (the job it made
    // would be lost): one that ends past the deadline gives a TimeoutError carrying the job. No
    // retry of it starts after the deadline (a 429 answered: no job made).
    const engine = this.#engine()
    const { core } = engine
    const deadline = deadlineOf(core, given)
    return this.#calls.run(given.signal, async (signal) => {
      const options = { ...given, signal }
      const created = await createUntilMade(core, params, options, deadline)
      // A resubmit is a new job: it must not replay the first one's idempotency key.
      const { maxConsecutiveErrors, timeoutMs } = options
      return this.#waitWithResubmits(
        engine,
        created.job.id,
        { created },
        options,
        deadline,
        (failed) =>
          createUntilMade(
            core,
            params,
            { signal, maxConsecutiveErrors, timeoutMs },
            deadline,
            failed,
          ),
      )
    })
  }

  /**
   * Every change of a job, as an async iterator: yields the job whenever its status or progress
   * moves, ends after its terminal status (which it yields, `error` and `canceled` included).
   * A reader that falls behind gets the newest job of each run of one status: every status, the
   * latest progress, and a queue that stays short.
   * `break`, `return()` or the signal end it and its requests at once; a limit or a failure
   * throws from the loop. Shares checks with every other wait and watch of the job.
   * @example for await (const job of client.jobs.watch(id)) console.log(job.status, job.progress)
   */
  watch(id: string, options: WatchOptions = {}): JobWatch {
    checkWaitOptions(options, OPTIONS.watch)
    const { core, monitor } = this.#engine()
    const start = startOf(id, options, core)
    const { signal, end } = this.#calls.follow(options.signal)
    try {
      return new JobWatch(monitor, id, { ...options, signal }, start, end)
    } catch (error) {
      end()
      throw error
    }
  }

  /**
   * Waits for every job in `ids` under one deadline and signal, checking all those due in the
   * same tick in batch requests of up to 100 ids. Resolves with one outcome per job, in the order
   * given (never rejects for a job: only for the signal).
   * @example
   * const outcomes = await client.jobs.waitAll(ids, { timeoutMs: 3_600_000 })
   * const statusById = Object.fromEntries(outcomes.map((o, i) => [ids[i], o.job?.status ?? 'unknown']))
   */
  async waitAll(ids: readonly string[], options: WaitManyOptions = {}): Promise<WaitOutcome[]> {
    checkList('ids', ids)
    const { redact } = this.#engine().core.http
    for (const id of ids) checkJobId(id, redact)
    const { onProgress, expectedMs, ...limits } = options
    checkWaitOptions({ ...limits, onProgress }, OPTIONS.waitMany)
    if (expectedMs !== undefined && typeof expectedMs !== 'function') {
      throw new TypeError('expectedMs must be a function of (id, index) here.')
    }
    const expected = expectedMs && ids.map((id, i) => expectedMs(id, i))
    for (const ms of expected ?? []) checkNumber('expectedMs', ms, { min: 1 })
    return this.#calls.run(options.signal, (signal) =>
      waitAll(this.#many(), ids, { ...limits, signal }, onProgress, expected),
    )
  }

  /**
   * Resolves with the first job in `ids` to complete and stops waiting for the rest; rejects
   * with an `AggregateError` of every job's reason when none completes.
   * @example const first = await client.jobs.waitAny([a.id, b.id])
   */
  async waitAny(ids: readonly string[], options: WaitLimits = {}): Promise<CompletedJob> {
    checkList('ids', ids)
    const { redact } = this.#engine().core.http
    for (const id of ids) checkJobId(id, redact)
    checkWaitOptions(options, OPTIONS.waitMany)
    return this.#calls.run(options.signal, (signal) =>
      waitAny(this.#many(), ids, { ...options, signal }),
    )
  }

  /**
   * Every status check this client made of job `id`: time, status, HTTP status, latency, attempt.
   * @example console.table(client.jobs.history(job.id))
   */
  history(id: string): HistoryEntry[] {
    return this.#engine().core.history.get(id)
  }

  #many() {
    const { core, monitor } = this.#engine()
    return { monitor, events: core.events, logger: core.logger, redact: core.http.redact }
  }

  /** Waits for `firstId`, resubmitting a job that ended in error when `retryOnError` asks. */
  async #waitWithResubmits(
    { core, monitor }: Engine,
    firstId: string,
    firstStart: Start,
    options: WaitOptions<boolean>,
    deadline: number,
    resubmit: (failed: Job) => Promise<Created>,
  ): Promise<Job> {
    const { logger } = core
    // Resubmits share the first wait's deadline.
    let resubmits = options.retryOnError === true ? 1 : Number(options.retryOnError || 0)
    let id = firstId
    let begin = firstStart
    for (;;) {
      const start = { ...begin, deadline: Number.isFinite(deadline) ? deadline : undefined }
      const job = await waitForEnd(monitor, id, options, start, options.onProgress, logger)
      if (job.status === 'completed') return job
      if (job.status === 'error' && resubmits > 0) {
        resubmits--
        const created = await resubmit(job)
        id = created.job.id
        begin = { created }
        continue
      }
      if (options.throwOnError === false) return job
      throw new JobFailedError(job, core.http.redact)
    }
  }
}

/** When a wait given `options` ends at the latest: its timeout from now, else `otherwise`. */
function deadlineOf(core: ClientCore, options: WaitOptions<boolean>, otherwise = Infinity): number {
  const { timeoutMs } = options
  return timeoutMs === undefined ? otherwise : core.clock.now() + timeoutMs
}

/** How a wait or watch of `id` starts: from a resume token when given. */
function startOf(id: string, options: WatchOptions, core: ClientCore): Start {
  checkJobId(id, core.http.redact)
  if (options.resume === undefined) return {}
  const resume = decodeToken(options.resume)
  if (resume.id !== id) {
    throw new TypeError(`resume holds a wait of job ${shown(resume.id)}, not of job ${shown(id)}.`)
  }
  // The server answered the wait resumed: an outage when it resumes is waited through, not
  // taken for a wrong address (observe/failures.ts).
  core.trips.answered = true
  return { resume }
}
