/**
 * The terminal demo end to end: real server on loopback, real client, real output.
 */
import { describe, expect, it } from 'vitest'
import { runDemo } from '../src/demo.js'

describe('terminal demo', () => {
  it('should start the server, create a job, follow it to completion and print it', async () => {
    const lines: string[] = []
    const job = await runDemo((line) => lines.push(line))
    expect(lines[0]).toMatch(/^mock server listening on http:\/\/127\.0\.0\.1:\d+$/)
    expect(lines[1]).toBe(`created ${job.id} (pending)`)
    expect(lines.some((line) => /^ {2}completed +100%$/.test(line))).toBe(true)
    const start = lines.indexOf(`finished ${job.id}:`)
    const end = lines.findIndex((line) => / status checks: /.test(line))
    const printed = JSON.parse(lines.slice(start + 1, end).join('\n')) as {
      id: string
      status: string
    }
    expect(printed).toEqual(job)
    expect(job.status).toBe('completed')
    expect(lines[end]).toMatch(/^\d+ status checks: .*completed@200$/)
  }, 20_000)
})
