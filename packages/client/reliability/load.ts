/**
 * Load: thousands of jobs waited at once by one client over push transports (one event stream
 * each, or one held request at a time each) against `vt-mock-server` on a loopback port, in real
 * time, bounded by count and by each wait's deadline. Used by the reliability suite and by
 * `pnpm bench` (bench/push.ts, which writes docs/client-push.md).
 *
 * Each job must complete, with at most one stream per job (SSE) or at most 1 + duration / hold
 * requests (long-poll: a wait for the end alone is held through the other status changes), and
 * nothing may stay open after.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { createClient, type FetchLike } from '@video-translation/client'
import { DEV_ADMIN_KEY, DEV_API_KEY, type SimulationPatch } from '@video-translation/mock-server'
import { startServer } from '@video-translation/mock-server/node'

/** The hold the client asks for (`HOLD_S` in src/observe/sources/long-poll.ts). */
export const HOLD_S = 30

export type LoadTransport = 'sse' | 'long-poll' | 'poll'

/** What one load run measured. */
export interface LoadReport {
  transport: LoadTransport
  jobs: number
  completed: number
  errors: string[]
  /** Detection latency after the server's change, in ms. */
  p50: number
  p99: number
  max: number
  requestsPerJob: number
  /** The most status requests one job took beyond its bound. */
  worstRequests: number
  /**
   * Peak heap growth per wait (over every group of the run; the server's too when it runs in
   * this process), in kB; needs `--expose-gc`.
   */
  heapPerWaitKb: number | undefined
  /** Timers and sockets of the process left over once every wait had ended and the server closed. */
  handlesLeft: number
  seconds: number
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN
}

/** Jobs waited in one load run with one transport (one client each). */
export interface LoadGroup {
  transport: LoadTransport
  jobs: number
}

/** Transports, not the rate limit, are measured here (the concurrency bench does that). */
const SIMULATION: SimulationPatch = {
  rate_limit: { capacity: 1_000_000, refill_per_s: 1_000_000 },
  error_rate: 0,
}

/** A server to load: its base URL, and how to stop it. */
interface LoadServer {
  url: string
  close(): Promise<void>
}

/**
 * `vt-mock-server` (the built command) in a process of its own, as users run it: the clients'
 * process then holds only the clients.
 */
async function spawnServer(): Promise<LoadServer> {
  const root = dirname(
    createRequire(import.meta.url).resolve('@video-translation/mock-server/package.json'),
  )
  if (!existsSync(join(root, 'dist', 'cli.js'))) {
    throw new Error('vt-mock-server is not built: run `pnpm build` first.')
  }
  const child = spawn(process.execPath, [join(root, 'bin', 'vt-mock-server.js'), '--port', '0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let out = ''
  const url = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`vt-mock-server exited (${code}): ${out}`)))
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      const found = /listening on (http:\/\/\S+)/.exec(out)
      if (found?.[1]) resolve(found[1])
    })
  })
  child.stdout.resume()
  const patched = await fetch(`${url}/v1/simulation`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${DEV_ADMIN_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(SIMULATION),
  })
  if (!patched.ok) throw new Error(`PUT /v1/simulation: ${patched.status}`)
  return {
    url,
    close: async () => {
      child.kill('SIGTERM')
      if (child.exitCode === null) await once(child, 'exit')
    },
  }
}

/**
 * Waits at once, with one client per group against one server, for every group's jobs, of
 * `durationMs(i)` each (i counting within its group); one report per group. The server runs in
 * this process, or with `serverProcess` in a process of its own. `cutAfterMs` puts a broken
 * proxy in front of the server that cuts every status request after that long (a test of the
 * test).
 */
export async function runLoad(
  groups: readonly LoadGroup[],
  durationMs: (i: number) => number,
  options: { cutAfterMs?: number; serverProcess?: boolean } = {},
): Promise<LoadReport[]> {
  const gc = (globalThis as { gc?: () => void }).gc
  const server = options.serverProcess
    ? await spawnServer()
    : await startServer({ simulation: SIMULATION })
  const requests = new Map<string, number>()
  const handles = () =>
    process.getActiveResourcesInfo().filter((r) => r === 'Timeout' || r === 'TCPSocketWrap').length
  const handlesBefore = handles()
  const fetchVia: FetchLike = (input, init) => {
    if ((init.method ?? 'GET') !== 'GET') return fetch(input, init)
    const id = new URL(input).pathname.split('/')[3] ?? ''
    requests.set(id, (requests.get(id) ?? 0) + 1)
    if (options.cutAfterMs === undefined) return fetch(input, init)
    // A controller and a timer of its own (`AbortSignal.any` over `AbortSignal.timeout` lets
    // Node collect the timeout before it fires): the cut reaches the body too.
    const cut = new AbortController()
    setTimeout(() => cut.abort(new TypeError('cut on the way')), options.cutAfterMs)
    init.signal?.addEventListener('abort', () => cut.abort(init.signal?.reason), { once: true })
    return fetch(input, { ...init, signal: cut.signal })
  }
  gc?.()
  const heapBefore = process.memoryUsage().heapUsed
  let heapPeak = heapBefore
  const sampler = setInterval(() => {
    heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed)
  }, 500)
  const started = performance.now()
  const settled = await Promise.all(
    groups.map(({ transport, jobs }) => {
      const client = createClient({
        baseUrl: server.url,
        apiKey: DEV_API_KEY,
        transport,
        fetch: fetchVia,
      })
      return Promise.allSettled(
        Array.from({ length: jobs }, async (_, i) => {
          const duration = durationMs(i)
          const job = await client.jobs.createAndWait(
            {
              video_url: 'https://example.com/a.mp4',
              target_language: 'es',
              simulate: { duration_ms: duration, outcome: 'completed' },
            },
            { timeoutMs: 120_000 },
          )
          const holds = Math.floor(1 + duration / (HOLD_S * 1_000))
          return {
            latency: Date.now() - (Date.parse(job.created_at) + duration),
            requests: requests.get(job.id) ?? 0,
            allowed: transport === 'long-poll' ? holds : 1,
          }
        }),
      )
    }),
  )
  clearInterval(sampler)
  const seconds = (performance.now() - started) / 1000
  await server.close()
  // Every wait has ended and the server is gone: whatever is still open was left by the clients.
  await new Promise((resolve) => setTimeout(resolve, 100))
  const handlesLeft = Math.max(0, handles() - handlesBefore)
  const allJobs = groups.reduce((n, g) => n + g.jobs, 0)
  return groups.map(({ transport, jobs }, g) => {
    const results = settled[g] ?? []
    const done = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))
    const errors = results.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []))
    const latencies = done.map((d) => d.latency).sort((a, b) => a - b)
    return {
      transport,
      jobs,
      completed: done.length,
      errors,
      p50: quantile(latencies, 0.5),
      p99: quantile(latencies, 0.99),
      max: latencies.at(-1) ?? Number.NaN,
      requestsPerJob: done.reduce((n, d) => n + d.requests, 0) / Math.max(1, done.length),
      worstRequests: Math.max(0, ...done.map((d) => d.requests - d.allowed)),
      heapPerWaitKb: gc ? (heapPeak - heapBefore) / allJobs / 1024 : undefined,
      handlesLeft,
      seconds,
    }
  })
}

/** Whether a run breaks no promise: see the module's comment. */
export function loadHeldUp(r: LoadReport): boolean {
  return (
    r.completed === r.jobs && r.errors.length === 0 && r.worstRequests === 0 && r.handlesLeft === 0
  )
}
