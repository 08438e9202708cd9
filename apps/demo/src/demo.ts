/**
 * The demo run: starts the mock server on a free loopback port, creates a job with the client,
 * fetches it back and prints it, then shuts the server down.
 */
import { createClient, type Job } from '@video-translation/client'
import { DEV_API_KEY } from '@video-translation/mock-server'
import { startServer } from '@video-translation/mock-server/node'

/** Runs the demo, writing to `log`; resolves with the fetched job. */
export async function runDemo(log: (line: string) => void = console.log): Promise<Job> {
  const server = await startServer({
    host: '127.0.0.1',
    port: 0,
    simulation: { durations: { distribution: 'fixed', ms: 3_000 } },
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
    const job = await client.jobs.get(created.id)
    log(`fetched ${job.id}:`)
    log(JSON.stringify(job, null, 2))
    return job
  } finally {
    await server.close()
  }
}
