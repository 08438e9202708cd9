/**
 * The terminal demo end to end: real server on loopback, real client, real output.
 */
import { describe, expect, it } from 'vitest'
import { runTerminalDemo } from '../src/terminal-demo.js'

describe('terminal demo', () => {
  it('should create the jobs, follow each to its end, and print a summary and the histories', async () => {
    const lines: string[] = []
    const reports = await runTerminalDemo({ jobs: 4, seed: 7, log: (line) => lines.push(line) })
    expect(lines[0]).toMatch(/^mock server listening on http:\/\/127\.0\.0\.1:\d+$/)
    expect(reports).toHaveLength(4)
    for (const report of reports) {
      expect(['completed', 'error']).toContain(report.job.status)
      expect(report.requests).toBeGreaterThan(0)
      expect(report.detectedAfterMs).toBeLessThan(2_000)
      const row = lines.find((line) => line.startsWith(`${report.job.id} `) && line.includes(' ms'))
      expect(row).toContain(report.job.status)
      expect(lines).toContain(`history of ${report.job.id}:`)
    }
    expect(
      lines.some((line) => /^job +status +duration +requests +detected after$/.test(line)),
    ).toBe(true)
    // Not a terminal: plain lines, no escape codes.
    expect(lines.some((line) => line.includes('\x1b['))).toBe(false)
    // Each job followed on its event stream: one request, every status pushed and listed.
    expect(reports.every((r) => r.requests === 1)).toBe(true)
    expect(
      lines.filter((line) =>
        /^ {2}\+ *\d+\.\d\d s {2}\w+ +pushed on the event stream \(the last of its run of events\)$/.test(
          line,
        ),
      ).length,
    ).toBeGreaterThanOrEqual(8)
  }, 60_000)
})
