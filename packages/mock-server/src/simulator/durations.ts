/** Draws job durations from the configured distribution. */
import { MAX_DURATION_MS } from '../schemas/job.js'
import type { SimulationSettings } from '../schemas/simulation.js'
import { normal, type Random } from './rng.js'

/** A duration in whole milliseconds, within [0, one day]. */
export function sampleDuration(durations: SimulationSettings['durations'], random: Random): number {
  let ms: number
  switch (durations.distribution) {
    case 'fixed':
      ms = durations.ms
      break
    case 'uniform':
      ms = durations.min_ms + random() * (durations.max_ms - durations.min_ms)
      break
    case 'lognormal':
      ms = durations.median_ms * Math.exp(durations.sigma * normal(random))
      break
  }
  return Math.min(MAX_DURATION_MS, Math.max(0, Math.round(ms)))
}
