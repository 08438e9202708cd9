/**
 * The original challenge's API (`GET /status`, `POST /set_completion_time`) and a waiter with
 * the options its client libraries had (`maxRetries`, `maxWaitTime`, `timeout`, `retryOnError`),
 * on the same polling, retries and breaker as the rest of the client.
 */
import { type ClientCore, request } from './core.js'
import { readBody } from './http.js'
import type { RequestOptions } from './jobs.js'
import { retryAfterOf } from './polling/hints.js'
import { pollUntilDone } from './wait.js'

/** The original challenge's three results. */
export type LegacyResult = 'pending' | 'completed' | 'error'

/** Options of `legacy.waitForResult`, named as in the original challenge's clients. */
export interface LegacyWaitOptions {
  /** Status checks at most. */
  maxRetries?: number
  /** Seconds to wait in all. */
  maxWaitTime?: number
  /** Seconds one request may take. */
  timeout?: number
  /** Retry failed requests (network, 5xx, 429); with `false` the first failure rejects. @default true */
  retryOnError?: boolean
  signal?: AbortSignal | undefined
}

/** `client.legacy`: the original challenge's endpoints. */
export class Legacy {
  readonly #core: ClientCore

  constructor(core: ClientCore) {
    this.#core = core
  }

  /** `GET /status`: the result of the one job. */
  async status(options: RequestOptions = {}): Promise<LegacyResult> {
    return (await this.#status(options.signal, undefined, true)).result
  }

  /** `POST /set_completion_time`: restarts the job to finish `seconds` from now. */
  async setCompletionTime(seconds: number, options: RequestOptions = {}): Promise<void> {
    await request(this.#core, {
      method: 'POST',
      path: '/set_completion_time',
      body: { completion_time: seconds },
      signal: options.signal,
    })
  }

  /**
   * Polls `GET /status` until the result is `completed` or `error`, and resolves with it.
   * @example const result = await client.legacy.waitForResult({ maxWaitTime: 60 })
   */
  async waitForResult(options: LegacyWaitOptions = {}): Promise<'completed' | 'error'> {
    const retry = options.retryOnError !== false
    const requestMs = options.timeout === undefined ? undefined : options.timeout * 1000
    const { value } = await pollUntilDone(
      this.#core,
      'status',
      {
        signal: options.signal,
        timeoutMs: options.maxWaitTime === undefined ? undefined : options.maxWaitTime * 1000,
        maxAttempts: options.maxRetries,
        maxConsecutiveErrors: retry ? undefined : 1,
      },
      async (_, limitMs) => {
        const timeoutMs = Math.min(requestMs ?? Infinity, limitMs ?? Infinity)
        const { result, retryAfterMs } = await this.#status(
          options.signal,
          Number.isFinite(timeoutMs) ? timeoutMs : undefined,
          retry,
        )
        return {
          value: result,
          job: undefined,
          outcome:
            result === 'pending' ? 'pending' : result === 'completed' ? 'completed' : 'failed',
          hints: { retryAfterMs },
        }
      },
    )
    return value === 'completed' ? 'completed' : 'error'
  }

  async #status(signal: AbortSignal | undefined, timeoutMs: number | undefined, retry: boolean) {
    const response = await request(
      this.#core,
      { method: 'GET', path: '/status', signal, timeoutMs },
      retry,
    )
    // A reason is a string too, so a valid result is wrapped.
    const { result } = readBody<{ result: LegacyResult }>(response, (data) => {
      const result = (data as { result?: unknown } | undefined)?.result
      return result === 'pending' || result === 'completed' || result === 'error'
        ? { result }
        : '"result" must be pending, completed or error'
    })
    return { result, retryAfterMs: retryAfterOf(response.headers, this.#core.clock.now()) }
  }
}
