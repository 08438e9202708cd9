/**
 * The simulator's settings: what `createApp({ simulation })`, the CLI, the environment and
 * `PUT /v1/simulation` all accept, validated by one schema.
 */
import { z } from '@hono/zod-openapi'
import { MAX_DURATION_MS } from './job.js'

const Rate = z.number().min(0).max(1)
const Ms = z.int().min(0).max(MAX_DURATION_MS)

/** How long jobs take. */
export const Durations = z
  .discriminatedUnion('distribution', [
    z.strictObject({ distribution: z.literal('fixed'), ms: Ms }),
    z.strictObject({ distribution: z.literal('uniform'), min_ms: Ms, max_ms: Ms }),
    z.strictObject({
      distribution: z.literal('lognormal'),
      median_ms: Ms.min(1),
      sigma: z.number().min(0).max(3),
    }),
  ])
  .refine((d) => d.distribution !== 'uniform' || d.min_ms <= d.max_ms, {
    message: 'min_ms must not exceed max_ms',
    path: ['max_ms'],
  })
  .openapi('Durations')

/** Which hints the server sends while a job is not terminal. */
export const Hints = z
  .strictObject({
    mode: z.enum(['none', 'retry-after', 'eta']).openapi({
      description:
        '`none`: no hints (like the original challenge). `retry-after`: the header only. `eta`: the header and `eta_ms`.',
    }),
    eta_noise: Rate.openapi({
      description: 'ETA error: each estimate is off by up to ±this share.',
    }),
    progress: z.boolean().optional().openapi({
      description:
        '`false`: `progress` stays 0 until the job ends and `updated_at` moves only when the status does, like a server that reports status alone (the original challenge). Default true.',
    }),
  })
  .openapi('Hints')

/** Faults injected into API responses, each with its probability per request. */
export const Faults = z
  .strictObject({
    rate_500: Rate,
    rate_503: Rate,
    rate_429: Rate,
    rate_slow: Rate,
    rate_hang: Rate,
    rate_reset: Rate,
    rate_malformed: Rate,
    rate_wrong_content_type: Rate,
    slow_ms: Ms.max(120_000).openapi({ description: 'Extra delay of a slow response.' }),
    retry_after_s: z
      .int()
      .min(0)
      .max(3_600)
      .openapi({ description: 'Retry-After of an injected 429 or 503.' }),
  })
  // Within a rounding error: 0.34 + 0.56 + 0.1 adds up to a hair over 1 in floating point.
  .refine((f) => FAULT_KINDS.reduce((sum, kind) => sum + f[`rate_${kind}`], 0) <= 1 + 1e-9, {
    message: 'the fault rates must add up to at most 1',
  })
  .openapi('Faults')

/** The kinds of injectable fault. */
export const FAULT_KINDS = [
  '500',
  '503',
  '429',
  'slow',
  'hang',
  'reset',
  'malformed',
  'wrong_content_type',
] as const

/** Every simulator setting. */
export const SimulationSettings = z
  .strictObject({
    seed: z.int().min(0).max(0xffff_ffff),
    durations: Durations,
    error_rate: Rate.openapi({ description: 'Share of jobs that end in `error`.' }),
    hints: Hints,
    progress_interval_ms: z
      .int()
      .min(10)
      .max(60_000)
      .openapi({ description: 'How often progress and ETA are updated.' }),
    latency_ms: z
      .strictObject({ min: Ms.max(60_000), max: Ms.max(60_000) })
      .refine((l) => l.min <= l.max, { message: 'min must not exceed max', path: ['max'] }),
    faults: Faults,
    rate_limit: z.strictObject({
      capacity: z.int().min(1).max(1_000_000),
      // At least one request in 1,000 s, so `Retry-After` stays a short integer (1e-300 made it
      // 9.999999999999999e+299, which no client parses).
      refill_per_s: z.number().min(0.001).max(1_000_000),
    }),
    job_ttl_ms: Ms.min(1_000).openapi({ description: 'How long a finished job is kept.' }),
    legacy_completion_time_s: z.number().min(0).max(86_400),
  })
  .openapi('SimulationSettings')

/** Every simulator setting, validated. */
export type SimulationSettings = z.infer<typeof SimulationSettings>

/**
 * A nested object of settings to merge. A `__proto__` key is refused, as at the top level: a
 * record drops it, and the patch was answered 200 with nothing changed.
 */
const NestedPatch = z.preprocess(
  (value, ctx) => {
    if (value !== null && typeof value === 'object' && Object.hasOwn(value, '__proto__')) {
      const input = value as Record<string, unknown>
      const message = 'Unrecognized key: "__proto__"'
      ctx.issues.push({ code: 'unrecognized_keys', keys: ['__proto__'], input, message })
    }
    return value
  },
  z.record(z.string(), z.unknown()),
)

/** Settings to change: some of the top-level fields; `hints`, `faults`, `rate_limit`, `latency_ms` merge. */
export const SimulationPatch = z
  .strictObject({
    seed: z.unknown(),
    durations: z.unknown(),
    error_rate: z.unknown(),
    hints: NestedPatch,
    progress_interval_ms: z.unknown(),
    latency_ms: NestedPatch,
    faults: NestedPatch,
    rate_limit: NestedPatch,
    job_ttl_ms: z.unknown(),
    legacy_completion_time_s: z.unknown(),
  })
  .partial()
  .openapi('SimulationPatch', {
    description: 'Any subset of SimulationSettings; nested objects merge.',
  })

/** A change to the settings, as a caller writes it. */
export type SimulationPatch = {
  [K in keyof SimulationSettings]?: SimulationSettings[K] extends { distribution: string }
    ? SimulationSettings[K]
    : SimulationSettings[K] extends object
      ? Partial<SimulationSettings[K]>
      : SimulationSettings[K]
}

/** Settings for watching jobs by eye: seconds-long jobs, a few errors, accurate hints, no faults. */
export const DEFAULT_SETTINGS: SimulationSettings = {
  seed: 1,
  durations: { distribution: 'lognormal', median_ms: 6_000, sigma: 0.5 },
  error_rate: 0.05,
  hints: { mode: 'eta', eta_noise: 0.1, progress: true },
  progress_interval_ms: 500,
  latency_ms: { min: 0, max: 0 },
  faults: {
    rate_500: 0,
    rate_503: 0,
    rate_429: 0,
    rate_slow: 0,
    rate_hang: 0,
    rate_reset: 0,
    rate_malformed: 0,
    rate_wrong_content_type: 0,
    slow_ms: 3_000,
    retry_after_s: 1,
  },
  rate_limit: { capacity: 100, refill_per_s: 50 },
  job_ttl_ms: 3_600_000,
  legacy_completion_time_s: 5,
}

const MERGED = ['hints', 'faults', 'rate_limit', 'latency_ms'] as const

/**
 * Applies `patch` to `base` and validates the result as a whole.
 * @returns the new settings, or the zod error naming the first invalid field
 */
export function mergeSettings(base: SimulationSettings, patch: unknown) {
  const shape = SimulationPatch.safeParse(patch)
  if (!shape.success) return shape
  const merged: Record<string, unknown> = { ...base, ...shape.data }
  for (const key of MERGED) {
    if (shape.data[key] !== undefined) merged[key] = { ...base[key], ...shape.data[key] }
  }
  return SimulationSettings.safeParse(merged)
}
