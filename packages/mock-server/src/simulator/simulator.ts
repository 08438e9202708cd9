/**
 * The simulator: decides each new job's duration and outcome, and answers what any job looks like
 * now, by the injected clock.
 */
import type { CreateJobBody } from '../schemas.js'
import { type Clock, systemClock } from './clock.js'
import { type JobView, viewJob } from './lifecycle.js'
import { createRandom } from './rng.js'
import { JobStore } from './store.js'

/** Settings of the simulator. */
export interface SimulatorOptions {
  /** Where time comes from. @default the system clock */
  clock?: Clock
  /** Seed of the PRNG behind ids and outcomes. @default 1 */
  seed?: number
  /** How long a job takes when it does not say. @default 5_000 */
  defaultDurationMs?: number
}

/** A simulated backend holding jobs in memory. */
export interface Simulator {
  createJob(body: CreateJobBody): JobView
  getJob(id: string): JobView | undefined
}

/** Creates a simulator. */
export function createSimulator(options: SimulatorOptions = {}): Simulator {
  const clock = options.clock ?? systemClock
  const store = new JobStore(createRandom(options.seed ?? 1))
  const defaultDurationMs = options.defaultDurationMs ?? 5_000
  return {
    createJob(body) {
      const record = store.create({
        createdAt: clock.now(),
        durationMs: body.simulate?.duration_ms ?? defaultDurationMs,
        outcome: body.simulate?.outcome ?? 'completed',
        video_url: body.video_url,
        target_language: body.target_language,
        title: body.title ?? null,
      })
      return viewJob(record, clock.now())
    },
    getJob(id) {
      const record = store.get(id)
      return record && viewJob(record, clock.now())
    },
  }
}
