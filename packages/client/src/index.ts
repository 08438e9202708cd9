/**
 * @video-translation/client: create video translation jobs and wait for them, in any runtime
 * with `fetch`. This file only re-exports.
 */
export {
  type Client,
  type ClientOptions,
  type ClientState,
  createClient,
  type PollingOptions,
} from './client.js'
export type { Clock } from './clock.js'
export type { Logger } from './core.js'
export type { Listener } from './emitter.js'
export {
  ApiError,
  AuthenticationError,
  CircuitOpenError,
  InvalidResponseError,
  isApiError,
  isAuthenticationError,
  isCircuitOpenError,
  isInvalidResponseError,
  isJobFailedError,
  isNetworkError,
  isNotFoundError,
  isRateLimitError,
  isServerError,
  isTimeoutError,
  isVideoTranslationError,
  JobFailedError,
  NetworkError,
  NotFoundError,
  RateLimitError,
  type RequestInfo,
  ServerError,
  TimeoutError,
  VideoTranslationError,
} from './errors.js'
export type { ClientEvent, ClientEvents } from './events.js'
export type { HistoryEntry } from './history.js'
export type {
  CreateBatchOptions,
  CreateJobOptions,
  CreateOutcome,
  RequestOptions,
  WaitManyOptions,
  WaitOptions,
  WatchOptions,
} from './job-options.js'
export type { Jobs } from './jobs.js'
export type { ProgressEstimate } from './observe/estimate.js'
export type { SavedTransport } from './observe/memory.js'
export type { Transport } from './observe/planner.js'
export type { WaitLimits, WaitState } from './observe/subscription.js'
export type { OnProgress } from './observe/wait.js'
export type { BatchProgress, WaitOutcome } from './observe/wait-many.js'
export type { JobWatch } from './observe/watch.js'
export {
  type AdaptiveOptions,
  type AdaptivePolling,
  type AdaptiveState,
  adaptivePolling,
} from './polling/adaptive.js'
export { parseRetryAfter, type ServerHints } from './polling/hints.js'
export {
  type BackoffOptions,
  exponentialBackoff,
  fixedInterval,
  type HintOptions,
  hintAware,
  type Jitter,
  type PollContext,
  type PollingStrategy,
} from './polling/strategy.js'
export type { CircuitBreakerOptions, CircuitState } from './request/breaker.js'
export type { FetchLike } from './request/http.js'
export type { RetryOptions } from './request/retry.js'
export {
  type CompletedJob,
  type CreateJobParams,
  isTerminalStatus,
  type Job,
  type JobFields,
  type JobStatus,
  type Problem,
  type TerminalJobStatus,
  type UncompletedJob,
} from './types.js'
export {
  isWebhookVerificationError,
  type VerifyWebhookOptions,
  verifyWebhook,
  type WebhookCrypto,
  type WebhookRefusal,
  WebhookVerificationError,
} from './webhooks.js'
