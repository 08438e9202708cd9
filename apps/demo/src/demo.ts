/**
 * The demo run: starts the mock server on a free loopback port, creates a job with the client,
 * follows it to the end, prints it with the status checks it cost, then shuts the server down.
 */
import { createClient, type Job } from '@video-translation/client'
import { DEV_API_KEY } from '@video-translation/mock-server'
import { startServer } from '@video-translation/mock-server/node'

/** Runs the demo, writing to `log`; resolves with the finished job. */
export async function runDemo(log: (line: string) => void = console.log): Promise<Job> {
  const server = await startServer({
    host: '127.0.0.1',
    port: 0,
    simulation: { durations: { distribution: 'fixed', ms: 3_000 }, error_rate: 0 },
  })
  try {
    log(`mock server listening on ${server.url}`)
    const client = createClient({ baseUrl: server.url, apiKey: DEV_API_KEY })
    const created = await client.jobs.create({
      video_url: 'https://example.com/videos/keynote.mp4',
      target_language: 'es',
      title: 'Keynote',
    })
    log(`created ${created.id} (${created.status})`)
    const job = await client.jobs.wait(created.id, {
      timeoutMs: 30_000,
      onProgress: (j) => log(`  ${j.status.padEnd(9)} ${Math.round(j.progress * 100)}%`),
    })
    log(`finished ${job.id}:`)
    log(JSON.stringify(job, null, 2))
    const checks = client.jobs.history(job.id)
    log(
      `${checks.length} status checks: ${checks.map((c) => `${c.status}@${c.httpStatus}`).join(', ')}`,
    )
    return job
  } finally {
    await server.close()
  }
}
