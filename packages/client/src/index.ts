/**
 * @video-translation/client: create video translation jobs and wait for them, in any runtime
 * with `fetch`. This file only re-exports.
 */
export { type Client, type ClientOptions, createClient } from './client.js'
export {
  ApiError,
  AuthenticationError,
  InvalidResponseError,
  isApiError,
  isAuthenticationError,
  isInvalidResponseError,
  isNetworkError,
  isNotFoundError,
  isRateLimitError,
  isServerError,
  isTimeoutError,
  isVideoTranslationError,
  NetworkError,
  NotFoundError,
  RateLimitError,
  type RequestInfo,
  ServerError,
  TimeoutError,
  VideoTranslationError,
} from './errors.js'
export type { FetchLike } from './http.js'
export type { CreateJobOptions, Jobs, RequestOptions } from './jobs.js'
export {
  type CreateJobParams,
  isTerminalStatus,
  type Job,
  type JobStatus,
  type Problem,
  type TerminalJobStatus,
} from './types.js'
