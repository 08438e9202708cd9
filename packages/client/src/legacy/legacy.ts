/**
 * The original challenge's API (`GET /status`, `POST /set_completion_time`) and a waiter with
 * the options its client libraries had (`maxRetries`, `maxWaitTime`, `timeout`, `retryOnError`).
 * `/status` is read as a Job (see `legacyJob`), so the waiter is the same engine as `jobs.wait`:
 * the same polling, retries, pacing and breaker.
 */
import { createCore, type Engine, enginesOf } from '../client.js'
import { type ClientCore, request } from '../core.js'
import { isTimeoutError, TimeoutError } from '../errors.js'
import type { RequestOptions } from '../job-options.js'
import { Monitor } from '../observe/monitor.js'
import type { Source } from '../observe/sources/source.js'
import { waitForEnd } from '../observe/wait.js'
import { type ClientOptions, resolveOptions } from '../options.js'
import { retryAfterOf } from '../polling/hints.js'
import { readBody } from '../request/http.js'
import type { Job } from '../types.js'
import { checkCallOptions, checkNumber, MAX_TIMER_MS, OPTIONS } from '../validate.js'

/** The original challenge's three results. */
export type LegacyResult = 'pending' | 'completed' | 'error'

/** Options of `waitForResult`, named as in the original challenge's clients. */
export interface LegacyWaitOptions {
  /** Status checks at most (the name the original clients gave it). */
  maxRetries?: number | undefined
  /** Seconds to wait in all; `Infinity` for no limit. */
  maxWaitTime?: number | undefined
  /** Seconds one request may take (seconds, as in the original clients; `createClient`'s options are in ms). */
  timeout?: number | undefined
  /** Retry failed requests (network, 5xx, 429); with `false` the first failure rejects. @default true */
  retryOnError?: boolean | undefined
  signal?: AbortSignal | undefined
}

/** The one job of the original challenge, as the engine's Job. */
const LEGACY_ID = 'status'

/**
 * A client of the original challenge's endpoints, with the same options as `createClient`.
 * @example
 * const legacy = createLegacyClient({ baseUrl: 'http://127.0.0.1:8787' })
 * const result = await legacy.waitForResult({ maxWaitTime: 60 })
 */
export function createLegacyClient(options: ClientOptions = {}): Legacy {
  // The original clients' options of a wait, given to the client (`timeout` in seconds too).
  for (const name of ['maxRetries', 'maxWaitTime', 'timeout']) {
    if ((options as Record<string, unknown> | null)?.[name] !== undefined) {
      throw new TypeError(`${name} is an option of waitForResult: waitForResult({ ${name} }).`)
    }
  }
  const settings = resolveOptions(options)
  return new Legacy(enginesOf(settings, createCore(settings), () => new Map()))
}

/**
 * The core and monitors of a call: one monitor per set of request options (`timeout`,
 * `retryOnError`), so that concurrent waits with the same options share one observation of
 * `/status`, and its requests (within a call only, with `isolateCalls`).
 */
type LegacyEngine = Engine<Map<string, Monitor>>

/** The original challenge's endpoints. */
export class Legacy {
  readonly #engine: () => LegacyEngine

  constructor(engine: () => LegacyEngine) {
    this.#engine = engine
  }

  /** `GET /status`: the result of the one job. */
  async status(options: RequestOptions = {}): Promise<LegacyResult> {
    checkCallOptions(options)
    return (await status(this.#engine().core, options.signal, undefined, true)).result
  }

  /** `POST /set_completion_time`: restarts the job to finish `seconds` from now. */
  async setCompletionTime(seconds: number, options: RequestOptions = {}): Promise<void> {
    checkNumber('seconds', seconds, { max: MAX_TIMER_MS / 1000 })
    checkCallOptions(options)
    await request(this.#engine().core, {
      method: 'POST',
      path: '/set_completion_time',
      body: { completion_time: seconds },
      signal: options.signal,
    })
  }

  /**
   * Polls `GET /status` until the result is `completed` or `error`, and resolves with it.
   * @example const result = await legacy.waitForResult({ maxWaitTime: 60 })
   */
  async waitForResult(options: LegacyWaitOptions = {}): Promise<'completed' | 'error'> {
    const engine = this.#engine()
    const { clock, logger } = engine.core
    checkCallOptions(options, OPTIONS.waitForResult)
    checkNumber('maxRetries', options.maxRetries, { min: 1, integer: true, infinite: true })
    checkNumber('maxWaitTime', options.maxWaitTime, { max: MAX_TIMER_MS / 1000, infinite: true })
    checkNumber('timeout', options.timeout, { min: 0.001, max: MAX_TIMER_MS / 1000 - 60 })
    const retry = options.retryOnError !== false
    const requestMs = options.timeout === undefined ? undefined : options.timeout * 1000
    const { maxWaitTime = Infinity, maxRetries } = options
    const waitMs = maxWaitTime * 1000
    const startedAt = clock.now()
    const job = await waitForEnd(
      monitorOf(engine, requestMs, retry),
      LEGACY_ID,
      {
        signal: options.signal,
        timeoutMs: Number.isFinite(waitMs) ? waitMs : undefined,
        maxAttempts: maxRetries,
        maxConsecutiveErrors: retry ? undefined : 1,
      },
      {},
      undefined,
      logger,
    ).catch((error: unknown) => {
      if (!isTimeoutError(error) || error.scope !== 'wait') throw error
      // Said with this API's options, not the engine's: out of checks, or at the deadline. One
      // that gave up before it (the server asked for no request until after it) says so itself.
      const early = error.reason === 'deadline' && clock.now() < startedAt + waitMs
      if (early) throw error
      const outOfChecks = error.reason === 'attempts'
      throw new TimeoutError({
        scope: 'wait',
        reason: error.reason === 'attempts' ? 'attempts' : 'deadline',
        timeoutMs: error.timeoutMs,
        what: 'GET /status',
        job: error.job,
        cause: error.cause,
        message: outOfChecks
          ? `GET /status was still pending after maxRetries = ${maxRetries} checks`
          : `GET /status was still pending after maxWaitTime = ${maxWaitTime} s`,
      })
    })
    return job.status === 'completed' ? 'completed' : 'error'
  }
}

/** The monitor of the waits that send `/status` with these options. */
function monitorOf(engine: LegacyEngine, requestMs: number | undefined, retry: boolean): Monitor {
  const { core, monitor: monitors } = engine
  const key = `${requestMs}|${retry}`
  const existing = monitors.get(key)
  if (existing) return existing
  const source: Source = {
    one: async (observation, signal) => {
      const limitMs = Math.min(
        requestMs ?? Infinity,
        observation.requestLimitMs(core.clock.now()) ?? Infinity,
      )
      const timeoutMs = Number.isFinite(limitMs) ? limitMs : undefined
      const { result, retryAfterMs } = await status(core, signal, timeoutMs, retry)
      observation.answered(legacyJob(result), { retryAfterMs })
    },
  }
  const monitor = new Monitor(core, { poll: source })
  monitors.set(key, monitor)
  return monitor
}

/** `GET /status`: its result, and when the server asks to be asked again. */
async function status(
  core: ClientCore,
  signal: AbortSignal | undefined,
  timeoutMs: number | undefined,
  retry: boolean,
) {
  const response = await request(core, { method: 'GET', path: '/status', signal, timeoutMs }, retry)
  // A reason is a string too, so a valid result is wrapped.
  const { result } = readBody<{ result: LegacyResult }>(response, (data) => {
    const result = (data as { result?: unknown } | undefined)?.result
    return result === 'pending' || result === 'completed' || result === 'error'
      ? { result }
      : '"result" must be pending, completed or error'
  })
  return { result, retryAfterMs: retryAfterOf(response.headers, core.clock.now()) }
}

/** `/status`'s result as a Job: `pending` is a job still running; the rest are its end. */
function legacyJob(result: LegacyResult): Job {
  const fields = {
    id: LEGACY_ID,
    progress: result === 'pending' ? 0 : 1,
    eta_ms: null,
    // Unknown: the legacy API tells no times (so no age is read, and none learned).
    created_at: '',
    updated_at: '',
    video_url: '',
    target_language: '',
    title: null,
    error: null,
  }
  if (result === 'completed') return { ...fields, status: result, result: { url: '' } }
  if (result === 'pending') return { ...fields, status: 'running', result: null }
  return {
    ...fields,
    status: result,
    result: null,
    error: { code: 'error', message: 'GET /status reported error' },
  }
}
