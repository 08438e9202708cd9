/**
 * The built client in every runtime users run it in: Node 18, 20, 22 and 24 (ESM and CommonJS),
 * Bun and Deno, each from the npm registry, against one mock server on a loopback port.
 */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { DEV_API_KEY } from '@video-translation/mock-server'
import { type RunningServer, startServer } from '@video-translation/mock-server/node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const run = promisify(execFile)
const here = (path: string) => fileURLToPath(new URL(path, import.meta.url))
const bin = (name: string) => here(`../../node_modules/.bin/${name}`)
const NODE_VERSIONS = ['18', '22', '24']

let server: RunningServer

beforeAll(async () => {
  server = await startServer({
    port: 0,
    simulation: {
      error_rate: 0,
      hints: { mode: 'eta', eta_noise: 0 },
      rate_limit: { capacity: 10_000, refill_per_s: 10_000 },
    },
  })
})

afterAll(async () => {
  await server.close()
})

const RUNTIMES: [string, string, string[]][] = [
  ['node 20 (this one), ESM', process.execPath, [here('./smoke.mjs')]],
  ['node 20 (this one), CommonJS', process.execPath, [here('./smoke.cjs')]],
  ...NODE_VERSIONS.flatMap((version): [string, string, string[]][] => [
    [`node ${version}, ESM`, 'npx', ['-y', `node@${version}`, here('./smoke.mjs')]],
    [`node ${version}, CommonJS`, 'npx', ['-y', `node@${version}`, here('./smoke.cjs')]],
  ]),
  ['bun', bin('bun'), [here('./smoke.mjs')]],
  [
    'deno',
    bin('deno'),
    ['run', '--allow-net', '--allow-env', '--allow-read', '--no-prompt', here('./smoke.mjs')],
  ],
]

describe.each(RUNTIMES)('%s', (_, command, args) => {
  it('should create, wait, map errors, abort and close', async () => {
    const { stdout } = await run(command, args, {
      env: { ...process.env, VT_BASE_URL: server.url, VT_API_KEY: DEV_API_KEY, NO_COLOR: '1' },
      timeout: 120_000,
    })
    const report = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as {
      ok: boolean
      checks: object
      runtime: string
    }
    expect(report.checks).toEqual({
      'createAndWait completes': true,
      'unknown job is NotFoundError': true,
      'failed job is JobFailedError': true,
      'abort rejects with the reason': true,
      'close ends the waits out and refuses later calls': true,
    })
    expect(report.ok).toBe(true)
  }, 180_000)
})
