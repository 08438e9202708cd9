// A minimal job server for the overhead benchmark, in its own process: node:http on 127.0.0.1
// answering every request with the same Job, so the server costs as little as possible and the
// clients' own costs show.
import { createServer } from 'node:http'

const body = JSON.stringify({
  id: 'job_0123456789abcdef',
  status: 'running',
  progress: 0.5,
  eta_ms: 1_800_000,
  created_at: '2026-01-01T00:00:00.000Z',
  updated_at: '2026-01-01T00:30:00.000Z',
  video_url: 'https://example.com/a.mp4',
  target_language: 'es',
  title: null,
  result: null,
  error: null,
})
const server = createServer((_, res) => {
  res.writeHead(200, {
    'content-type': 'application/json',
    'retry-after': '30',
    'x-request-id': 'req_1',
  })
  res.end(body)
})
server.listen(0, '127.0.0.1', () =>
  console.log(`listening on http://127.0.0.1:${server.address().port}`),
)
process.on('SIGTERM', () => server.close(() => process.exit(0)))
