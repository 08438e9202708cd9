/**
 * `createApp()` has no Node-only import: the same app serves under Bun and Deno (both installed
 * from the npm registry as devDependencies), each with its own HTTP server.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'

const bin = (name: string) =>
  fileURLToPath(new URL(`../node_modules/.bin/${name}`, import.meta.url))
const script = fileURLToPath(new URL('./runtimes/serve.mjs', import.meta.url))
const RUNTIMES = {
  bun: [bin('bun'), script],
  deno: [
    bin('deno'),
    'run',
    '--sloppy-imports',
    '--allow-net',
    '--allow-read',
    '--allow-env',
    '--no-prompt',
    script,
  ],
} as const

let child: ChildProcess | undefined

afterEach(() => {
  // The npm packages start the runtime through a wrapper: end the whole process group.
  if (child?.pid !== undefined && child.exitCode === null) process.kill(-child.pid, 'SIGKILL')
  child = undefined
})

async function serve(runtime: keyof typeof RUNTIMES): Promise<string> {
  const [command, ...args] = RUNTIMES[runtime]
  child = spawn(command, args, {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
    detached: true,
  })
  let output = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  for (let i = 0; i < 600; i++) {
    const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1]
    if (url) return url
    if (child.exitCode !== null) break
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`${runtime} did not start:\n${output}`)
}

describe.each(Object.keys(RUNTIMES) as (keyof typeof RUNTIMES)[])('under %s', (runtime) => {
  it('should serve the jobs API, errors and events', async () => {
    const url = await serve(runtime)
    const headers = { authorization: 'Bearer runtime_test_key', 'content-type': 'application/json' }
    const created = await fetch(`${url}/v1/jobs`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        video_url: 'https://example.com/a.mp4',
        target_language: 'es',
        simulate: { duration_ms: 300 },
      }),
    })
    expect(created.status).toBe(202)
    const { id } = (await created.json()) as { id: string }
    const polled = await fetch(`${url}/v1/jobs/${id}?wait=5`, { headers })
    expect(polled.status).toBe(200)
    const events = await (await fetch(`${url}/v1/jobs/${id}/events`, { headers })).text()
    expect(events).toMatch(/"status":"completed"/)
    const unauthorized = await fetch(`${url}/v1/jobs/${id}`)
    expect(unauthorized.status).toBe(401)
    expect(unauthorized.headers.get('content-type')).toBe('application/problem+json')
  }, 60_000)
})
