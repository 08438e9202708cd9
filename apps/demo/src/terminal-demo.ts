/**
 * The terminal demo (the original challenge's integration test, made pleasant): starts the mock
 * server on a free loopback port, creates N jobs, waits for all of them with a live progress
 * display, then prints a summary table and each job's status history.
 */
import { createClient, isJobFailedError, type Job } from '@video-translation/client'
import { DEV_API_KEY } from '@video-translation/mock-server'
import { startServer } from '@video-translation/mock-server/node'

/** Options of the terminal demo. */
export interface TerminalDemoOptions {
  /** How many jobs. @default 3 */
  jobs?: number
  /** Simulator seed: the same seed, the same durations and outcomes. @default 7 */
  seed?: number
  /** Where lines go. @default console.log */
  log?: (line: string) => void
  /** Redraw progress bars in place (a terminal); otherwise print status changes only. */
  live?: boolean
}

/** One job's result. */
export interface JobReport {
  job: Job
  requests: number
  durationMs: number
  detectedAfterMs: number
}

const BAR = 24

function bar(progress: number): string {
  const filled = Math.round(progress * BAR)
  return `[${'#'.repeat(filled)}${'.'.repeat(BAR - filled)}]`
}

/** Runs the demo; resolves with a report per job. */
export async function runTerminalDemo(options: TerminalDemoOptions = {}): Promise<JobReport[]> {
  const { jobs: count = 3, seed = 7, log = console.log, live = false } = options
  const server = await startServer({
    port: 0,
    simulation: {
      seed,
      durations: { distribution: 'lognormal', median_ms: 3_000, sigma: 0.4 },
      error_rate: 0.25,
    },
  })
  try {
    log(`mock server listening on ${server.url}`)
    const client = createClient({ baseUrl: server.url, apiKey: DEV_API_KEY })
    const created = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        client.jobs.create({
          video_url: `https://example.com/videos/talk-${i + 1}.mp4`,
          target_language: 'es',
          title: `Talk ${i + 1}`,
        }),
      ),
    )
    const latest = new Map(created.map((job) => [job.id, job]))
    const line = (job: Job) =>
      `${job.id}  ${bar(job.progress)} ${String(Math.round(job.progress * 100)).padStart(3)}%  ${job.status}`
    let drawn = 0
    const redraw = () => {
      const lines = [...latest.values()].map(line)
      if (drawn > 0) process.stdout.write(`\x1b[${drawn}A`)
      process.stdout.write(`${lines.map((l) => `\x1b[2K${l}`).join('\n')}\n`)
      drawn = lines.length
    }
    const timer = live ? setInterval(redraw, 150) : undefined
    const detected = new Map<string, number>()
    const settled = await Promise.all(
      created.map((job) =>
        client.jobs
          .wait(job.id, {
            timeoutMs: 120_000,
            onProgress: (next) => {
              const previous = latest.get(next.id)
              latest.set(next.id, next)
              if (!live && previous?.status !== next.status) log(line(next))
            },
          })
          .catch((error: unknown) => {
            if (isJobFailedError(error)) return error.job
            throw error
          })
          .then((final) => {
            detected.set(final.id, Date.now())
            latest.set(final.id, final)
            return final
          }),
      ),
    )
    if (timer) {
      clearInterval(timer)
      redraw()
    }
    const reports = settled.map((job) => {
      const ended = Date.parse(job.updated_at)
      return {
        job,
        requests: requestsOf(client.jobs.history(job.id)),
        durationMs: ended - Date.parse(job.created_at),
        detectedAfterMs: Math.max(0, (detected.get(job.id) ?? ended) - ended),
      }
    })
    log('')
    log(
      `${'job'.padEnd(21)} ${'status'.padEnd(10)} ${'duration'.padStart(9)} ${'requests'.padStart(8)} ${'detected after'.padStart(14)}`,
    )
    for (const r of reports) {
      log(
        `${r.job.id.padEnd(21)} ${r.job.status.padEnd(10)} ${`${(r.durationMs / 1000).toFixed(1)} s`.padStart(9)} ${String(r.requests).padStart(8)} ${`${r.detectedAfterMs} ms`.padStart(14)}`,
      )
    }
    for (const r of reports) {
      log('')
      log(`history of ${r.job.id}:`)
      const start = Date.parse(r.job.created_at)
      for (const check of client.jobs.history(r.job.id)) {
        log(
          `  +${((check.at - start) / 1000).toFixed(2).padStart(6)} s  ${String(check.status).padEnd(9)} HTTP ${check.httpStatus ?? '---'}  ${check.latencyMs} ms`,
        )
      }
    }
    return reports
  } finally {
    await server.close()
  }
}

/** Requests a job cost: its status checks, and one for its event stream if it had one. */
function requestsOf(history: { pushed?: true }[]): number {
  const checks = history.filter((entry) => !entry.pushed).length
  return checks + (history.some((entry) => entry.pushed) ? 1 : 0)
}
