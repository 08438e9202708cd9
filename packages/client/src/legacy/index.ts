/**
 * @video-translation/client/legacy: the original challenge's API (`GET /status`,
 * `POST /set_completion_time`) on the client's engine. This file only re-exports.
 */
export {
  createLegacyClient,
  type Legacy,
  type LegacyResult,
  type LegacyWaitOptions,
} from './legacy.js'
