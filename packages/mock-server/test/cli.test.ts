/**
 * The CLI as a user runs it: a real process that prints its URL, serves, and stops on SIGINT.
 */
import { spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { describe, expect, it } from 'vitest'

const tsx = createRequire(import.meta.url).resolve('tsx')

/** Starts the CLI on a free port; resolves once it says where it listens. */
async function startCli() {
  const child = spawn(
    process.execPath,
    [
      '--import',
      tsx,
      '--conditions=@video-translation/source',
      'src/cli.ts',
      '--port',
      '0',
      '--seed',
      '3',
    ],
    {
      cwd: new URL('..', import.meta.url),
      env: { ...process.env, VT_MOCK_API_KEYS: 'cli_test_key' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve))
  for (let i = 0; i < 600 && !/listening on/.test(output); i++)
    await new Promise((r) => setTimeout(r, 50))
  return { child, output, exited }
}

describe('vt-mock-server', () => {
  it('should print its URL and keys, serve, and exit cleanly on SIGINT', async () => {
    const { child, output, exited } = await startCli()
    try {
      const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1]
      expect(url).toBeDefined()
      expect(output).toContain('API key:   cli_test_key')
      const response = await fetch(`${url}/v1/jobs/job_x`, {
        headers: { authorization: 'Bearer cli_test_key' },
      })
      expect(response.status).toBe(404)
    } finally {
      child.kill('SIGINT')
    }
    expect(await exited).toBe(0)
  }, 45_000)

  it('should exit cleanly on SIGTERM when the reader of its output has gone', async () => {
    const { child, output, exited } = await startCli()
    expect(output).toContain('listening on')
    // As under `| head -1`: the pipe's reading end closed, so its next write fails (EPIPE).
    child.stdout.destroy()
    child.stderr.destroy()
    child.kill('SIGTERM')
    expect(await exited).toBe(0)
  }, 45_000)
})
