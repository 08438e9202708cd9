/**
 * What every resource of one client shares, and `request`: one call with retries, the retry
 * budget, the circuit breaker and events around a single HTTP attempt.
 */
import type { CircuitBreaker } from './breaker.js'
import type { Clock } from './clock.js'
import type { Emitter } from './emitter.js'
import type { ClientEvents } from './events.js'
import type { History } from './history.js'
import { type HttpConfig, type HttpRequest, type HttpResponse, send } from './http.js'
import type { PollingStrategy } from './polling/strategy.js'
import { type RetryBudget, type RetryOptions, withRetries } from './retry.js'

/** Where the client reports what it does; every method is optional. */
export interface Logger {
  debug?(message: string, data?: Record<string, unknown>): void
  warn?(message: string, data?: Record<string, unknown>): void
  error?(message: string, data?: Record<string, unknown>): void
}

/** The shared parts of one client. */
export interface ClientCore {
  http: HttpConfig
  clock: Clock
  random: () => number
  events: Emitter<ClientEvents>
  breaker: CircuitBreaker | undefined
  budget: RetryBudget
  retry: RetryOptions
  polling: PollingStrategy
  history: History
  logger: Logger
}

/** Sends `request` with retries and the breaker; a final failure is reported and thrown. */
export async function request(
  core: ClientCore,
  request: HttpRequest,
  options: { retry?: boolean } = {},
): Promise<HttpResponse> {
  const { method, path } = request
  const once = () =>
    core.breaker ? core.breaker.run(() => send(core.http, request)) : send(core.http, request)
  try {
    if (options.retry === false) return await once()
    return await withRetries(
      {
        clock: core.clock,
        budget: core.budget,
        options: core.retry,
        random: core.random,
        onRetry: (attempt, delayMs, error) => {
          core.logger.debug?.(`retrying ${method} ${path}`, {
            attempt,
            delayMs,
            error: String(error),
          })
          core.events.emit('request:retry', { method, path, attempt, delayMs, error })
        },
      },
      once,
      request.signal,
      request.timeoutMs === undefined ? undefined : core.clock.now() + request.timeoutMs,
    )
  } catch (error) {
    if (!request.signal?.aborted) core.events.emit('request:error', { method, path, error })
    throw error
  }
}
