// A Cloudflare Worker with one client made at module scope, as users write it. `?create=MS`
// makes a job of MS ms and answers its id; `?id=ID&timeout=MS` waits for it; with neither, it
// creates a 1 s job and waits for it. Bundled by the workerd test with BASE_URL defined.
import { createClient } from '../../dist/index.js'

/* global BASE_URL */
const client = createClient({ baseUrl: BASE_URL, apiKey: 'vt_dev_key', transport: 'poll' })
const params = (ms) => ({
  video_url: 'https://example.com/a.mp4',
  target_language: 'es',
  simulate: { duration_ms: ms },
})

export default {
  async fetch(request) {
    const query = new URL(request.url).searchParams
    try {
      if (query.has('create')) {
        const job = await client.jobs.create(params(Number(query.get('create'))))
        return new Response(job.id)
      }
      const id = query.get('id') ?? (await client.jobs.create(params(1_000))).id
      const done = await client.jobs.wait(id, { timeoutMs: Number(query.get('timeout') ?? 20_000) })
      return new Response(`${done.status}`)
    } catch (error) {
      return new Response(`${error.name}: ${error.message}`, { status: 500 })
    }
  },
}
