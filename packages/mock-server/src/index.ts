/**
 * @video-translation/mock-server: a deterministic simulator of the video translation backend as a
 * Hono app. This entry has no Node-only import; `@video-translation/mock-server/node` serves it.
 */
export { type AppOptions, createApp } from './app.js'
export type { AppEnv } from './env.js'
export { PROBLEM_CONTENT_TYPE } from './middleware/problem.js'
export type { CreateJobBody } from './schemas.js'
export { type Clock, createManualClock, type ManualClock, systemClock } from './simulator/clock.js'
export type { JobView } from './simulator/lifecycle.js'
export type { SimulatorOptions } from './simulator/simulator.js'
