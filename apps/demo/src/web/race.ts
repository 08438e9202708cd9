/**
 * The race: the same jobs waited for twice, by this SDK's default client and by the loop a
 * developer writes first (`GET` the job every 2 s until it ends), with the requests each spends
 * and how late each learns of the end, counted live.
 */
import { createClient, type Job } from '@video-translation/client'
import { plainFetch } from './plain-fetch.js'

/** One side of the race. */
export interface Side {
  label: string
  requests: number
  /** Per finished job: ms from its real end to this side knowing it. */
  lateness: number[]
}

/** Where the race runs: the API and its key. */
export interface RaceConfig {
  apiUrl: string
  apiKey: string
}

const NAIVE_INTERVAL_MS = 2_000

/** Runs a race of `count` jobs; `update` is called on every change. */
export async function race(
  config: RaceConfig,
  count: number,
  update: (sides: [Side, Side]) => void,
): Promise<[Side, Side]> {
  const sdk: Side = { label: 'this SDK (default)', requests: 0, lateness: [] }
  const naive: Side = {
    label: `a loop every ${NAIVE_INTERVAL_MS / 1000} s`,
    requests: 0,
    lateness: [],
  }
  const sides: [Side, Side] = [sdk, naive]
  const headers = { authorization: `Bearer ${config.apiKey}` }
  const client = createClient({
    baseUrl: config.apiUrl,
    apiKey: config.apiKey,
    fetch: (input, init) => {
      if ((init.method ?? 'GET') === 'GET') sdk.requests++
      update(sides)
      return fetch(input, init)
    },
  })
  // The jobs, created once, outside both counts: durations of 3 to 12 s.
  const jobs = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      client.jobs.create({
        video_url: `https://example.com/videos/race-${i + 1}.mp4`,
        target_language: 'de',
        title: `Race ${i + 1}`,
        simulate: { duration_ms: 3_000 + ((i * 3_700) % 9_000), outcome: 'completed' },
      }),
    ),
  )
  const endOf = (job: Job) => Date.parse(job.updated_at)
  const bySdk = jobs.map(async (job) => {
    const done = await client.jobs.wait(job.id, { timeoutMs: 120_000 })
    sdk.lateness.push(Math.max(0, Date.now() - endOf(done)))
    update(sides)
  })
  const byLoop = jobs.map(async (job) => {
    for (;;) {
      naive.requests++
      const response = await plainFetch(`${config.apiUrl}/v1/jobs/${job.id}`, { headers })
      const seen = (await response.json()) as Job
      update(sides)
      if (seen.status === 'completed' || seen.status === 'error' || seen.status === 'canceled') {
        naive.lateness.push(Math.max(0, Date.now() - endOf(seen)))
        update(sides)
        return
      }
      await new Promise((resolve) => setTimeout(resolve, NAIVE_INTERVAL_MS))
    }
  })
  await Promise.all([...bySdk, ...byLoop])
  return sides
}
