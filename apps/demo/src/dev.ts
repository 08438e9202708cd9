/**
 * `pnpm dev`: the mock server on 127.0.0.1 with watchable settings, and the demo page (Vite),
 * both URLs printed, both stopped cleanly on Ctrl-C.
 */
import { fileURLToPath } from 'node:url'
import { createClient } from '@video-translation/client'
import { DEV_ADMIN_KEY, DEV_API_KEY } from '@video-translation/mock-server'
import { type RunningServer, startServer } from '@video-translation/mock-server/node'
import { createServer, type ViteDevServer } from 'vite'

/** The running demo. */
export interface Demo {
  apiUrl: string
  pageUrl: string
  close(): Promise<void>
}

/** Starts the mock server and the page; `apiPort`/`pagePort` 0 pick free ports. */
export async function startDemo({ apiPort = 8787, pagePort = 5173 } = {}): Promise<Demo> {
  const api: RunningServer = await startServer({
    host: '127.0.0.1',
    port: apiPort,
    simulation: {
      durations: { distribution: 'lognormal', median_ms: 6_000, sigma: 0.5 },
      error_rate: 0.05,
    },
  })
  let page: ViteDevServer | undefined
  try {
    page = await createServer({
      configFile: fileURLToPath(new URL('../vite.config.ts', import.meta.url)),
      server: { port: pagePort, host: '127.0.0.1' },
      define: {
        __DEMO_CONFIG__: JSON.stringify({
          apiUrl: api.url,
          apiKey: DEV_API_KEY,
          adminKey: DEV_ADMIN_KEY,
        }),
      },
    })
    await page.listen()
  } catch (error) {
    await api.close()
    throw error
  }
  const vite = page
  const address = vite.resolvedUrls?.local[0] ?? `http://127.0.0.1:${pagePort}/`
  return {
    apiUrl: api.url,
    pageUrl: address,
    close: async () => {
      await Promise.all([vite.close(), api.close()])
    },
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  // The page moves to the next free port by itself; the mock server's is chosen here.
  const given = process.env.VT_DEMO_API_PORT || '8787'
  const apiPort = Number(given)
  if (!/^\d{1,5}$/.test(given) || apiPort > 65_535) {
    console.error(
      `pnpm dev: VT_DEMO_API_PORT must be a port number, 0 to 65535 (got ${process.env.VT_DEMO_API_PORT}).`,
    )
    process.exit(2)
  }
  const demo = await startDemo({ apiPort }).catch((error: unknown) => {
    if ((error as { code?: unknown }).code !== 'EADDRINUSE') throw error
    console.error(
      `pnpm dev: port ${apiPort} on 127.0.0.1 is taken (another pnpm dev?). Stop what holds it, or pick another: VT_DEMO_API_PORT=${apiPort + 1} pnpm dev`,
    )
    process.exit(1)
  })
  console.log(`mock server  ${demo.apiUrl}  (API key ${DEV_API_KEY}, admin key ${DEV_ADMIN_KEY})`)
  console.log(`demo page    ${demo.pageUrl}`)
  // A first job through the client, so the terminal shows the pair working before the page does.
  const client = createClient({ baseUrl: demo.apiUrl, apiKey: DEV_API_KEY })
  const job = await client.jobs.createAndWait(
    {
      video_url: 'https://example.com/videos/welcome.mp4',
      target_language: 'es',
      title: 'Welcome',
      simulate: { duration_ms: 1_500 },
    },
    { timeoutMs: 30_000 },
  )
  const seen = client.jobs.history(job.id)
  const how = seen.some((entry) => entry.pushed)
    ? 'followed on its event stream'
    : `${seen.length} status checks`
  console.log(`first job    ${job.id} ${job.status} (${how}): ${job.result?.url ?? ''}`)
  console.log('Ctrl-C stops both.')
  const stop = () => {
    demo.close().then(
      () => process.exit(0),
      () => process.exit(1),
    )
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}
