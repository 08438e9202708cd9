/**
 * The terminal demo (the original challenge's integration test, made pleasant): starts the mock
 * server on a free loopback port, creates N jobs, watches all of them with a live view (progress
 * and time left interpolated between answers, in colour unless NO_COLOR is set; plain lines of
 * status changes when the output is not a terminal), then prints a summary table and each job's
 * status history.
 */
import {
  createClient,
  isTerminalStatus,
  type Job,
  type ProgressEstimate,
} from '@video-translation/client'
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
  /** Colour the live view (ANSI). @default live, unless NO_COLOR is set */
  color?: boolean
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

/** ANSI colours by status: only where the terminal takes them. */
const COLORS: Record<Job['status'], string> = {
  pending: '\x1b[2m',
  running: '\x1b[33m',
  completed: '\x1b[32m',
  error: '\x1b[31m',
  canceled: '\x1b[35m',
}

/** One job's line: bar, per cent, status and time left (estimated between answers). */
function line(job: Job, estimate: ProgressEstimate | undefined, color: boolean): string {
  const progress = estimate?.progress ?? job.progress
  const eta =
    estimate?.etaMs !== undefined && !isTerminalStatus(job.status)
      ? `  ~${Math.ceil(estimate.etaMs / 1000)} s left`
      : ''
  const text = `${job.id}  ${bar(progress)} ${String(Math.floor(progress * 100)).padStart(3)}%  ${job.status}${eta}`
  return color ? `${COLORS[job.status]}${text}\x1b[0m` : text
}

/** Runs the demo; resolves with a report per job. */
export async function runTerminalDemo(options: TerminalDemoOptions = {}): Promise<JobReport[]> {
  const { jobs: count = 3, seed = 7, log = console.log, live = false } = options
  const color = options.color ?? (live && !process.env.NO_COLOR)
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
    // Every change of every job, as it happens (event streams where the server has them).
    const watches = new Map(
      created.map((job) => [job.id, client.jobs.watch(job.id, { timeoutMs: 120_000 })]),
    )
    let drawn = 0
    const redraw = () => {
      const lines = [...latest.values()].map((job) =>
        line(job, watches.get(job.id)?.estimate(), color),
      )
      if (drawn > 0) process.stdout.write(`\x1b[${drawn}A`)
      process.stdout.write(`${lines.map((l) => `\x1b[2K${l}`).join('\n')}\n`)
      drawn = lines.length
    }
    const timer = live ? setInterval(redraw, 100) : undefined
    const detected = new Map<string, number>()
    const settled = await Promise.all(
      [...watches.entries()].map(async ([id, watch]) => {
        for await (const next of watch) {
          const previous = latest.get(id)
          latest.set(id, next)
          if (!live && previous?.status !== next.status) log(line(next, undefined, false))
        }
        detected.set(id, Date.now())
        return latest.get(id) as Job
      }),
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
    // As wide as the longest id: a server's ids are as long as it likes.
    const idWidth = Math.max(3, ...reports.map((r) => r.job.id.length))
    log(
      `${'job'.padEnd(idWidth)} ${'status'.padEnd(10)} ${'duration'.padStart(9)} ${'requests'.padStart(8)} ${'detected after'.padStart(14)}`,
    )
    for (const r of reports) {
      log(
        `${r.job.id.padEnd(idWidth)} ${r.job.status.padEnd(10)} ${`${(r.durationMs / 1000).toFixed(1)} s`.padStart(9)} ${String(r.requests).padStart(8)} ${`${r.detectedAfterMs} ms`.padStart(14)}`,
      )
    }
    for (const r of reports) {
      log('')
      log(`history of ${r.job.id}:`)
      const start = Date.parse(r.job.created_at)
      for (const check of client.jobs.history(r.job.id)) {
        log(
          `  +${((check.at - start) / 1000).toFixed(2).padStart(6)} s  ${String(check.status).padEnd(9)} ${check.pushed ? 'pushed on the event stream (the last of its run of events)' : `HTTP ${check.httpStatus ?? '---'}  ${check.latencyMs} ms`}`,
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
