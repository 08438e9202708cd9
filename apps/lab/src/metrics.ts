/** Summaries of a run: mean requests per job, mean and p95 lateness. */

/** What a set of jobs cost and how late they were known. */
export interface Summary {
  jobs: number
  requests: number
  meanMs: number
  p95Ms: number
  failures: number
}

/** Summarises jobs; failed waits count in `failures`, not in the lateness figures. */
export function summarize(
  jobs: readonly { requests: number; latencyMs: number; failure?: string }[],
): Summary {
  const ok = jobs.filter((j) => j.failure === undefined)
  const latencies = ok.map((j) => j.latencyMs).sort((a, b) => a - b)
  return {
    jobs: jobs.length,
    requests: jobs.reduce((sum, j) => sum + j.requests, 0) / Math.max(1, jobs.length),
    meanMs: latencies.reduce((sum, x) => sum + x, 0) / Math.max(1, latencies.length),
    p95Ms: quantile(latencies, 0.95),
    failures: jobs.length - ok.length,
  }
}

/** The q-quantile of sorted values (nearest rank). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number
}

/**
 * The frontier's mean lateness at `requests` mean requests, interpolated on log scales between
 * its points; undefined outside their range.
 */
export function frontierAt(frontier: readonly Summary[], requests: number): number | undefined {
  const sorted = [...frontier].sort((a, b) => a.requests - b.requests)
  for (let i = 1; i < sorted.length; i++) {
    const a = sorted[i - 1] as Summary
    const b = sorted[i] as Summary
    if (requests < a.requests || requests > b.requests) continue
    const f =
      b.requests === a.requests
        ? 0
        : Math.log(requests / a.requests) / Math.log(b.requests / a.requests)
    return Math.exp(Math.log(a.meanMs) + f * (Math.log(b.meanMs) - Math.log(a.meanMs)))
  }
  return undefined
}
