/**
 * A benchmark server, run as its own process so it does not share a CPU core with the load
 * generator. Modes, all through @hono/node-server on 127.0.0.1:
 * - `mock`: the mock server through its Node entry, `startServer`;
 * - `replay`: a bare hono route sending, unchanged, the response the mock server gives for
 *   `GET /v1/jobs/:id` (same status, headers and body), computed once at start;
 * - `minimal`: a bare hono route sending the same body with only a content type.
 * Prints its URL, answers `stats` messages on its IPC channel, and serves until SIGTERM. It runs
 * the built package, as users do (`pnpm bench` builds it first).
 */
import { serve } from '@hono/node-server'
import { type AppOptions, createApp } from '@video-translation/mock-server'
import { startServer } from '@video-translation/mock-server/node'
import { Hono } from 'hono'

const BENCH_KEY = 'bench_key_0001'
const [mode = '', duration = '3600000'] = process.argv.slice(2)

const MOCK_OPTIONS: AppOptions = {
  apiKeys: [BENCH_KEY],
  simulation: {
    durations: { distribution: 'fixed', ms: Number(duration) },
    error_rate: 0,
    rate_limit: { capacity: 1_000_000, refill_per_s: 1_000_000 },
  },
}

/** The mock server's answer to `GET /v1/jobs/:id` for a fresh job, captured in-process. */
async function capturedJobResponse() {
  const app = createApp(MOCK_OPTIONS)
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

/** Answers the runner's `stats` messages: this process's CPU time and memory. */
process.on('message', (message) => {
  if (message === 'stats') {
    process.send?.({ cpu: process.cpuUsage(), memory: process.memoryUsage() })
  }
})

if (mode !== 'mock' && mode !== 'replay' && mode !== 'minimal') {
  throw new Error('usage: server.ts mock|replay|minimal [job duration ms]')
}
// The mock server through its own Node entry, the bare routes through `serve`: each app is
// served directly, as a user would serve it (mounting it under another app to add a stats route
// would wrap every handler of an app with its own error handler in another layer).
let close: () => Promise<void>
if (mode === 'mock') {
  const server = await startServer(MOCK_OPTIONS)
  console.log(`listening on ${server.url}`)
  close = server.close
} else {
  const app = await bareApp(mode === 'replay')
  close = await new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info) => {
      console.log(`listening on http://127.0.0.1:${info.port}`)
      resolve(
        () =>
          new Promise((done) => {
            server.close(() => done())
            if ('closeAllConnections' in server) server.closeAllConnections()
          }),
      )
    })
  })
}
process.on('SIGTERM', () => close().then(() => process.exit(0)))
