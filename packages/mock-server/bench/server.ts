/**
 * A benchmark server, run as its own process so it does not share a CPU core with the load
 * generator. Modes, all through @hono/node-server on 127.0.0.1:
 * - `mock`: the mock server app;
 * - `replay`: a bare hono route sending, unchanged, the response the mock server gives for
 *   `GET /v1/jobs/:id` (same status, headers and body), computed once at start;
 * - `minimal`: a bare hono route sending the same body with only a content type.
 * Prints its URL, then serves until SIGTERM.
 */
import { serve } from '@hono/node-server'
import { type Env, Hono } from 'hono'
import { createApp } from '../src/index.js'

const BENCH_KEY = 'bench_key_0001'
const [mode = '', duration = '3600000'] = process.argv.slice(2)

function mockApp() {
  return createApp({
    apiKeys: [BENCH_KEY],
    simulation: {
      durations: { distribution: 'fixed', ms: Number(duration) },
      error_rate: 0,
      rate_limit: { capacity: 1_000_000, refill_per_s: 1_000_000 },
    },
  })
}

/** The mock server's answer to `GET /v1/jobs/:id` for a fresh job, captured in-process. */
async function capturedJobResponse() {
  const app = mockApp()
  const auth = { authorization: `Bearer ${BENCH_KEY}` }
  const created = await app.request('/v1/jobs', {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ video_url: 'https://example.com/a.mp4', target_language: 'es' }),
  })
  const { id } = (await created.json()) as { id: string }
  const response = await app.request(`/v1/jobs/${id}`, { headers: auth })
  return {
    status: response.status,
    headers: Object.fromEntries(response.headers),
    body: await response.text(),
  }
}

async function bareApp(replay: boolean) {
  const captured = await capturedJobResponse()
  const headers = replay ? captured.headers : { 'content-type': 'application/json' }
  const app = new Hono()
  app.get('/v1/jobs/:id', () => new Response(captured.body, { status: 200, headers }))
  app.post('/v1/jobs', () => new Response(captured.body, { status: 202, headers }))
  return app
}

/** Mounts `app` beside `/__bench/stats`: this process's CPU time and memory, for the runner. */
function withStats<E extends Env>(app: Hono<E>): Hono<E> {
  const outer = new Hono<E>()
  outer.get('/__bench/stats', (c) =>
    c.json({ cpu: process.cpuUsage(), memory: process.memoryUsage() }),
  )
  outer.route('/', app)
  return outer
}

if (mode !== 'mock' && mode !== 'replay' && mode !== 'minimal') {
  throw new Error('usage: server.ts mock|replay|minimal [job duration ms]')
}
const app = mode === 'mock' ? withStats(mockApp()) : withStats(await bareApp(mode === 'replay'))
const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info) => {
  console.log(`listening on http://127.0.0.1:${info.port}`)
})
process.on('SIGTERM', () => server.close(() => process.exit(0)))
