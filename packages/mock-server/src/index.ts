/**
 * @video-translation/mock-server: a deterministic simulator of the video translation backend as a
 * Hono app. This entry has no Node-only import; `@video-translation/mock-server/node` serves it.
 */
export {
  type AppOptions,
  createApp,
  createMockServer,
  DEV_ADMIN_KEY,
  DEV_API_KEY,
  DEV_WEBHOOK_SECRET,
  type MockServer,
} from './app.js'
export type { AppEnv } from './env.js'
export { PROBLEM_CONTENT_TYPE } from './middleware/problem.js'
export type { CreateJobBody } from './schemas/job.js'
export {
  DEFAULT_SETTINGS,
  FAULT_KINDS,
  type SimulationPatch,
  type SimulationSettings,
} from './schemas/simulation.js'
export {
  type Cancel,
  type Clock,
  createManualClock,
  createSystemClock,
  type ManualClock,
  type ScheduleOptions,
  sleep,
  systemClock,
} from './simulator/clock.js'
export type { JobView, Snapshot } from './simulator/lifecycle.js'
export { createRandom, type Random } from './simulator/rng.js'
export { createSimulator, type FaultKind, Simulator } from './simulator/simulator.js'
export { signWebhook, type WebhookAttempt, type WebhookFetch } from './simulator/webhooks.js'
