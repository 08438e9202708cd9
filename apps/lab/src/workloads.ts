/**
 * The lab's workloads: how long jobs take, when they arrive, and what the simulated server says
 * and does meanwhile. Durations are drawn here, from a seeded PRNG, and given to each job through
 * `simulate.duration_ms`, so every strategy waits for exactly the same jobs.
 */
import { createRandom, type Random, type SimulationPatch } from '@video-translation/mock-server'

/** A workload of the lab. */
export interface Workload {
  id: string
  title: string
  /** What it models, for the report. */
  description: string
  /** Settings of the simulated server (on top of BASE_SIMULATION). */
  simulation: SimulationPatch
  /**
   * Draws a duration in ms for the job at `position` in the run (its index / the job count, in
   * [0, 1)): the true distribution, which may change along the run (the shift workload).
   */
  duration(position: number, random: Random): number
  /** Where the true distribution changes: positions that start a new phase (0 included). */
  phases: number[]
  /**
   * The server's push (event streams, long-poll) is open to the default client, which keeps its
   * default `transport: 'auto'`; the other schedules still poll, for comparison.
   */
  push?: true
}

/** Settings every workload shares: no failed jobs, no rate limit in the way, steady progress. */
export const BASE_SIMULATION: SimulationPatch = {
  seed: 7,
  error_rate: 0,
  progress_interval_ms: 500,
  latency_ms: { min: 0, max: 0 },
  rate_limit: { capacity: 1_000_000, refill_per_s: 1_000_000 },
  job_ttl_ms: 86_400_000,
}

/** Shortest and longest durations: draws outside are clipped. */
const MIN_MS = 2_000
const MAX_MS = 1_800_000

/** A standard normal draw (Box–Muller). */
function normal(random: Random): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random())
}

/** A lognormal draw, clipped to [2 s, 30 min]. */
export function lognormal(random: Random, medianMs: number, sigma: number): number {
  const ms = medianMs * Math.exp(sigma * normal(random))
  return Math.round(Math.min(MAX_MS, Math.max(MIN_MS, ms)))
}

const HINTED = { hints: { mode: 'eta', eta_noise: 0.2 } } as const

const W1: Workload = {
  id: 'W1',
  title: 'W1 hint-less',
  description:
    'No hints at all, as on the original challenge’s server (status only: no `Retry-After`, no `eta_ms`, no progress): durations lognormal, median 30 s, σ 1.',
  simulation: { hints: { mode: 'none', eta_noise: 0, progress: false } },
  duration: (_, random) => lognormal(random, 30_000, 1),
  phases: [0],
}

export const WORKLOADS: readonly Workload[] = [
  W1,
  {
    id: 'W2',
    title: 'W2 hinted',
    description:
      'The W1 durations, and the server sends `Retry-After` and `eta_ms`, each ETA off by up to ±20 %.',
    simulation: HINTED,
    duration: (_, random) => lognormal(random, 30_000, 1),
    phases: [0],
  },
  {
    ...W1,
    id: 'W3',
    title: 'W3 push-capable',
    description:
      "W1 on a server that also offers event streams and long-poll, as the mock server does: the default client keeps `transport: 'auto'`; the polling schedules poll, for comparison.",
    push: true,
  },
  {
    id: 'W4',
    title: 'W4 hinted, 15 % faults',
    description:
      'W2 with 15 % of requests failing transiently: 500 (5 %), 503 and 429 with `Retry-After: 1` (4 %, 3 %), connection reset mid-body (3 %).',
    simulation: {
      ...HINTED,
      faults: {
        rate_500: 0.05,
        rate_503: 0.04,
        rate_429: 0.03,
        rate_reset: 0.03,
        retry_after_s: 1,
      },
    },
    duration: (_, random) => lognormal(random, 30_000, 1),
    phases: [0],
  },
  {
    id: 'progress',
    title: 'Progress only',
    description:
      'The W1 durations; the server sends no `Retry-After` and no `eta_ms`, but a `progress` that grows steadily while the job runs (after 10 % of its time queued).',
    simulation: { hints: { mode: 'none', eta_noise: 0, progress: true } },
    duration: (_, random) => lognormal(random, 30_000, 1),
    phases: [0],
  },
  {
    id: 'bimodal',
    title: 'Bimodal, hint-less',
    description:
      '80 % short clips (lognormal, median 10 s, σ 0.3) and 20 % long films (median 10 min, σ 0.3); no hints.',
    simulation: { hints: { mode: 'none', eta_noise: 0, progress: false } },
    duration: (_, random) =>
      random() < 0.8 ? lognormal(random, 10_000, 0.3) : lognormal(random, 600_000, 0.3),
    phases: [0],
  },
  {
    id: 'shift',
    title: 'Shift, hint-less',
    description:
      'W1’s durations for the first 500 jobs, then twice as long (median 60 s) from job 501 on; no hints.',
    simulation: { hints: { mode: 'none', eta_noise: 0, progress: false } },
    duration: (position, random) => lognormal(random, position < 0.5 ? 30_000 : 60_000, 1),
    phases: [0, 0.5],
  },
]

/** The jobs of a run: arrival times (Poisson, one every `meanGapMs` on average) and durations. */
export function drawJobs(workload: Workload, count: number, seed: number, meanGapMs = 30_000) {
  const random = createRandom(seed)
  const jobs: { arrivesAt: number; durationMs: number }[] = []
  let at = 0
  for (let i = 0; i < count; i++) {
    at += Math.round(-meanGapMs * Math.log(1 - random()))
    jobs.push({ arrivesAt: at, durationMs: workload.duration(i / count, random) })
  }
  return jobs
}
