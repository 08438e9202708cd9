// Serves the mock server app with the runtime's own HTTP server (Bun.serve or Deno.serve) on a
// free loopback port, and prints the URL. Run by runtimes.test.ts.
import { createApp } from '../../src/index.ts'

const app = createApp({ apiKeys: ['runtime_test_key'] })
const announce = (port) => console.log(`listening on http://127.0.0.1:${port}`)

if (globalThis.Bun) {
  const server = globalThis.Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: app.fetch })
  announce(server.port)
} else if (globalThis.Deno) {
  globalThis.Deno.serve(
    { hostname: '127.0.0.1', port: 0, onListen: ({ port }) => announce(port) },
    app.fetch,
  )
} else {
  throw new Error('run this with bun or deno')
}
