/**
 * Chaos: many jobs through the real client and the real mock server in one process on one
 * virtual clock, under a mix of faults; then every job's outcome is checked against the server's
 * own record of it. Used by the reliability tests (a fast profile) and by `pnpm test:reliability`
 * (the long one, which writes docs/reliability.md).
 */
import {
  type Clock,
  createManualClock,
  createMockServer,
  createRandom,
  createSimulator,
  createSystemClock,
  DEV_API_KEY,
  DEV_WEBHOOK_SECRET,
  type ManualClock,
  type SimulationPatch,
  type Simulator,
  sleep,
} from '@video-translation/mock-server'
import { startServer } from '@video-translation/mock-server/node'
import {
  type ClientOptions,
  createClient,
  type FetchLike,
  isApiError,
  isJobFailedError,
  isVideoTranslationError,
  type Job,
} from '../src/index.js'
import { keyScan } from './key-scan.js'

/** The fault mix of issue 13: 20 % 5xx, 5 % 429, 2 % hangs, 2 % resets, 1 % malformed, … */
export const FAULT_MIX: NonNullable<SimulationPatch['faults']> = {
  rate_500: 0.1,
  rate_503: 0.1,
  rate_429: 0.05,
  rate_hang: 0.02,
  rate_reset: 0.02,
  rate_malformed: 0.01,
  rate_wrong_content_type: 0.01,
  rate_slow: 0.02,
  slow_ms: 2_000,
  retry_after_s: 1,
}

/** The client's default retry budget (retry.ts): its tokens. */
const BUDGET_TOKENS = 100

/** What a chaos run found. */
export interface ChaosReport {
  jobs: number
  /** Waits that resolved with the job completed, as the server has it. */
  completed: number
  /** Waits that rejected with `JobFailedError` for a job the server ended in error. */
  failedAsFailed: number
  /** Waits that ended in another typed error, by its name (each says why), and a few messages. */
  typedErrors: Record<string, number>
  whys: string[]
  /** Outcomes that contradict the server: the count, and the first few, described. */
  wrong: number
  examples: string[]
  /** Waits whose create failed (after its retries): a typed error, no job. */
  createFailures: number
  /** Rejections nobody handled while the run lasted. */
  unhandled: number
  requests: number
  /** Retries that spent the budget (not paced by a `Retry-After`), and successful requests. */
  budgetRetries: number
  successes: number
  /** Retries the budget allows at most: its tokens and what the successes earned. */
  budgetBound: number
  /** Whether the API key appeared in any error, event, log line or history entry of the run. */
  keySeen: boolean
  /** Wall time of the run, in ms. */
  wallMs: number
}

/** A run's settings. */
export interface ChaosOptions {
  jobs: number
  seed?: number
  faults?: SimulationPatch['faults']
  transport?: ClientOptions['transport']
  /**
   * Rewrites what the fetch returns: a deliberately broken client, to show the check catches it
   * (a test of the test; nothing shipped does this).
   */
  tamper?: (response: Response, url: string) => Promise<Response>
  /**
   * Over a loopback port instead of in process: `vt-mock-server` and the client on one clock
   * running `scale` times faster than real time (bounded: a few hundred jobs at most).
   */
  loopback?: { scale: number }
}

/** Runs `options.jobs` createAndWait calls under faults and checks every outcome. */
export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const seed = options.seed ?? 1
  const manual: ManualClock | undefined = options.loopback
    ? undefined
    : createManualClock(Date.UTC(2026, 0, 1))
  const clock: Clock = manual ?? createSystemClock(options.loopback?.scale)
  const simulator = createSimulator(
    {
      seed,
      durations: { distribution: 'lognormal', median_ms: 30_000, sigma: 1 },
      error_rate: 0.05,
      rate_limit: { capacity: 1_000_000, refill_per_s: 1_000_000 },
      faults: options.faults ?? FAULT_MIX,
    },
    { clock, webhookSecret: DEV_WEBHOOK_SECRET },
  )
  const server = options.loopback ? await startServer({ clock, simulator }) : undefined
  try {
    return await run(options, seed, { clock, manual, simulator }, server)
  } finally {
    await server?.close()
  }
}

/** The run itself, against `server` over loopback or the app in process. */
async function run(
  options: ChaosOptions,
  seed: number,
  {
    clock,
    manual,
    simulator,
  }: { clock: Clock; manual: ManualClock | undefined; simulator: Simulator },
  server: { url: string } | undefined,
): Promise<ChaosReport> {
  const started = performance.now()
  const app = server ? undefined : createMockServer({ clock, simulator }).app
  const send: FetchLike = (input, init) =>
    app
      ? Promise.resolve(app.request(input, init))
      : globalThis.fetch(input.replace('http://chaos.test', server?.url ?? ''), init)
  let unhandled = 0
  const onUnhandled = () => {
    unhandled++
  }
  process.on('unhandledRejection', onUnhandled)
  // Every text the client produces (and every URL it asks for), scanned for the key at the end.
  const scan = keyScan()
  let requests = 0
  let successes = 0
  const fetch: FetchLike = async (input, init) => {
    requests++
    scan.said.push(input)
    const response = await send(input, init)
    if (response.ok) successes++
    return options.tamper ? options.tamper(response, input) : response
  }
  const client = createClient({
    baseUrl: 'http://chaos.test',
    apiKey: DEV_API_KEY,
    logger: scan.logger,
    fetch,
    random: createRandom(seed),
    clock: { now: () => clock.now(), sleep: (ms, signal) => sleep(clock, ms, signal) },
    transport: options.transport ?? 'poll',
    // The server ends a hung request itself (a 504 after its own limit, in virtual time); a
    // real-time limit would fire at the machine's speed and make the run depend on it.
    requestTimeoutMs: 60_000,
  })
  scan.listen(client, [
    'request:retry',
    'request:error',
    'job:timeout',
    'job:failed',
    'job:status',
    'transport:fallback',
  ])
  let budgetRetries = 0
  client.on('request:retry', ({ error }) => {
    const paced =
      isApiError(error) &&
      (error.status === 429 || error.status === 503) &&
      error.headers.has('retry-after')
    if (!paced) budgetRetries++
  })
  const params = {
    video_url: 'https://example.com/chaos.mp4',
    target_language: 'es',
  }
  /** Each wait's end: the job or the error, and when (virtual time). */
  const settled: { id: string | undefined; at: number; job?: Job; error?: unknown }[] = []
  const waits = Array.from({ length: options.jobs }, async (_, i) => {
    // Arrivals spread over the first minutes, as a service's would be.
    await sleep(clock, (i * 7_919) % 120_000)
    try {
      const job = await client.jobs.createAndWait(params, { timeoutMs: 2 * 3_600_000 })
      settled.push({ id: job.id, at: clock.now(), job })
    } catch (error) {
      const job = (error as { job?: Job }).job
      settled.push({ id: job?.id, at: clock.now(), error })
    }
  })
  let done = false
  const all = Promise.all(waits).finally(() => {
    done = true
  })
  // Virtual time from timer to timer, letting every answer land between steps.
  while (manual && !done) {
    for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve))
    if (done) break
    const next = manual.nextDueAt()
    if (next === undefined) {
      // Only real-time request limits are left: let them run out.
      await new Promise((resolve) => setTimeout(resolve, 5))
      continue
    }
    manual.advance(Math.max(0, next - manual.now()))
  }
  await all
  process.off('unhandledRejection', onUnhandled)

  const report: ChaosReport = {
    jobs: options.jobs,
    completed: 0,
    failedAsFailed: 0,
    typedErrors: {},
    whys: [],
    wrong: 0,
    examples: [],
    keySeen: false,
    createFailures: settled.filter((s) => s.id === undefined).length,
    unhandled,
    requests,
    budgetRetries,
    successes: 0,
    budgetBound: 0,
    wallMs: 0,
  }
  const wrong = (why: string) => {
    report.wrong++
    if (report.examples.length < 5) report.examples.push(why)
  }
  for (const { id, at, job, error } of settled) {
    scan.error(error)
    scan.said.push(JSON.stringify(id === undefined ? [] : client.jobs.history(id)))
    const truth = id === undefined ? undefined : simulator.getJob(DEV_API_KEY, id)?.view
    // A terminal status known before the server reached it is as wrong as a wrong status.
    const early = truth !== undefined && Date.parse(truth.updated_at) > at
    if (job) {
      if (truth?.status === 'completed' && job.status === 'completed' && !early) report.completed++
      else
        wrong(
          `resolved ${id} as ${job.status} at ${at}; the server has ${truth?.status} since ${truth?.updated_at}`,
        )
    } else if (isJobFailedError(error)) {
      if (truth?.status === error.job.status && truth.status !== 'completed' && !early) {
        report.failedAsFailed++
      } else wrong(`JobFailedError for ${id}; the server has ${truth?.status}`)
    } else if (isVideoTranslationError(error)) {
      report.typedErrors[error.name] = (report.typedErrors[error.name] ?? 0) + 1
      if (report.whys.length < 3) report.whys.push(error.message)
    } else {
      wrong(`an untyped error: ${String(error)}`)
    }
  }
  report.keySeen = scan.holds(DEV_API_KEY)
  report.successes = successes
  // Retries go on while more than half the tokens are left; each success earns a fifth of one.
  report.budgetBound = BUDGET_TOKENS / 2 + 0.2 * report.successes + 1
  report.wallMs = performance.now() - started
  return report
}
