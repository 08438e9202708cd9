/**
 * The built client in Cloudflare's Workers runtime (`workerd`, from the npm registry), made once
 * at module scope and used by concurrent requests: workerd ties every timer and fetch to the
 * request that started it, so a request must never wait on another's (it ends in a 500 "hung").
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type RunningServer, startServer } from '@video-translation/mock-server/node'
import { build } from 'esbuild'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url))

let server: RunningServer
let workerd: ChildProcess
let dir: string
let url: string

/** A port free now on 127.0.0.1 (workerd takes its port from its config). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number }
      probe.close(() => resolve(port))
    })
    probe.on('error', reject)
  })
}

beforeAll(async () => {
  server = await startServer({ port: 0, simulation: { error_rate: 0 } })
  dir = mkdtempSync(join(tmpdir(), 'vt-workerd-'))
  await build({
    entryPoints: [here('./worker.mjs')],
    bundle: true,
    format: 'esm',
    outfile: join(dir, 'worker.js'),
    define: { BASE_URL: JSON.stringify(server.url) },
    logLevel: 'silent',
  })
  const port = await freePort()
  writeFileSync(
    join(dir, 'config.capnp'),
    `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .worker), (name = "net", network = (allow = ["local"])) ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);
const worker :Workerd.Worker = (
  modules = [ (name = "worker.js", esModule = embed "worker.js") ],
  compatibilityDate = "2025-09-01",
  globalOutbound = "net",
);
`,
  )
  const config = join(dir, 'config.capnp')
  workerd = spawn(here('../../node_modules/.bin/workerd'), ['serve', '--verbose', config], {
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  url = `http://127.0.0.1:${port}/`
  // Up when it says it listens (`--verbose`); its log is the error if it ends first.
  const log: string[] = []
  await new Promise<void>((resolve, reject) => {
    workerd.stderr?.on('data', (chunk: Buffer) => {
      log.push(chunk.toString())
      if (log.join('').includes('Listening')) resolve()
    })
    workerd.on('exit', (code) => reject(new Error(`workerd ended (${code}): ${log.join('')}`)))
  })
}, 60_000)

afterAll(async () => {
  workerd?.kill()
  await server?.close()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

const ask = async (query: string) => {
  const response = await fetch(`${url}?${query}`)
  return `${response.status} ${await response.text()}`
}

describe('workerd, one client at module scope', () => {
  it('should answer requests that wait on one job, one of them giving up first', async () => {
    for (let round = 0; round < 2; round++) {
      const id = (await ask('create=2000')).slice(4)
      const first = ask(`id=${id}&timeout=500`)
      const second = ask(`id=${id}`)
      expect(await first).toMatch(/^500 TimeoutError/)
      expect(await second).toBe('200 completed')
    }
  }, 30_000)

  it('should answer concurrent requests that each create a job and wait for it', async () => {
    const answers = await Promise.all(Array.from({ length: 5 }, () => ask('')))
    expect(answers).toEqual(Array(5).fill('200 completed'))
    // And the requests after them.
    expect(await ask('')).toBe('200 completed')
  }, 30_000)
})
