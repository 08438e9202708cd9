/**
 * The terminal demo end to end: real server on loopback, real client, real output.
 */
import { describe, expect, it } from 'vitest'
import { runDemo } from '../src/demo.js'

describe('terminal demo', () => {
  it('should start the server, create a job, fetch it and print it', async () => {
    const lines: string[] = []
    const job = await runDemo((line) => lines.push(line))
    expect(lines[0]).toMatch(/^mock server listening on http:\/\/127\.0\.0\.1:\d+$/)
    expect(lines[1]).toBe(`created ${job.id} (pending)`)
    const printed = JSON.parse(lines.slice(3).join('\n')) as { id: string; status: string }
    expect(printed).toEqual(job)
    expect(['pending', 'running']).toContain(printed.status)
  })
})
