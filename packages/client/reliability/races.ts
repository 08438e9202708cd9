/**
 * Races, with fast-check's scheduler: answers, an abort, deadlines and a watch on one shared job,
 * in every order it draws. Whatever the order: each wait settles once; a watch never goes from a
 * terminal status back; once every waiter is gone, nothing more is sent.
 */
import fc from 'fast-check'
import { createClient, fixedInterval, isTerminalStatus, type Job } from '../src/index.js'
import { jobBody } from '../test/fake-fetch.js'
import { virtualClock } from './drive.js'

/** What the drawn orders broke, if anything. */
export interface RaceReport {
  runs: number
  /** Runs in which a promise broke, and the first one's order and promise. */
  broken: number
  example: string | undefined
}

/**
 * Runs `runs` drawn orders. `resending` puts a broken fetch wrapper in front of the server that
 * sends each request again 150 ms later, whoever still waits (a test of the test).
 */
export async function runRaces(
  runs: number,
  options: { seed?: number; resending?: boolean } = {},
): Promise<RaceReport> {
  let broken = 0
  let example: string | undefined
  await fc.assert(
    fc.asyncProperty(
      fc.scheduler(),
      // Sometimes the job ends while waited for, sometimes only long after everyone left.
      fc.integer({ min: 1, max: 40 }),
      fc.constantFrom<Job['status']>('completed', 'error', 'canceled'),
      fc.boolean(),
      async (s, completesAt, end, breakEarly) => {
        const why = await race(s, completesAt, end, breakEarly, options.resending ?? false)
        if (why !== undefined) {
          broken++
          example ??= `${why} (job ends after ${completesAt} checks as ${end}; ${s.report().length} scheduled steps)`
        }
      },
    ),
    { numRuns: runs, seed: options.seed ?? 20261204 },
  )
  return { runs, broken, example }
}

/** One drawn order; what it broke, if anything. */
async function race(
  s: fc.Scheduler,
  completesAt: number,
  end: Job['status'],
  breakEarly: boolean,
  resending: boolean,
): Promise<string | undefined> {
  const { manual, clock } = virtualClock()
  let calls = 0
  let sent = 0
  const answer = s.scheduleFunction(async () => {
    calls++
    const done = calls >= completesAt
    const body = jobBody({ id: 'job_1', status: done ? end : 'running', progress: done ? 1 : 0.5 })
    return new Response(JSON.stringify(body), { headers: { 'content-type': 'application/json' } })
  })
  const client = createClient({
    baseUrl: 'http://api.test',
    fetch: () => {
      sent++
      if (resending) {
        clock.sleep(150).then(() => {
          sent++
          answer().catch(() => {})
        })
      }
      return answer()
    },
    clock,
    transport: 'poll',
    polling: fixedInterval(100),
  })
  const settles = [0, 0, 0]
  const track = (i: number, p: Promise<unknown>) =>
    p.then(
      () => {
        settles[i] = (settles[i] ?? 0) + 1
      },
      () => {
        settles[i] = (settles[i] ?? 0) + 1
      },
    )
  const controller = new AbortController()
  const aborted = track(0, client.jobs.wait('job_1', { signal: controller.signal }))
  const timed = track(1, client.jobs.wait('job_1', { timeoutMs: 250, throwOnError: false }))
  const seen: Job['status'][] = []
  const watching = track(
    2,
    (async () => {
      for await (const job of client.jobs.watch('job_1', { timeoutMs: 400 })) {
        seen.push(job.status)
        if (breakEarly) break
      }
    })(),
  )
  s.schedule(Promise.resolve('abort')).then(() => controller.abort(new Error('abort')))
  // What had been sent when the last waiter left.
  let sentWhenAllLeft: number | undefined
  Promise.all([aborted, timed, watching]).then(() => {
    sentWhenAllLeft = sent
  })
  // Everything: the scheduler's answers and the clock's timers, in the drawn order.
  for (let step = 0, idle = 0; step < 500 && idle < 5; step++) {
    if (s.count() > 0) {
      idle = 0
      await s.waitOne()
    } else if (manual.nextDueAt() !== undefined) {
      idle = 0
      await manual.tickAsync(100)
    } else {
      // A request may be on its way to the scheduler still.
      idle++
      await new Promise((resolve) => setImmediate(resolve))
    }
  }
  if (settles.some((n) => n !== 1)) return `waits settled ${settles.join(', ')} times`
  const firstEnd = seen.findIndex((status) => isTerminalStatus(status))
  if (firstEnd !== -1 && firstEnd !== seen.length - 1) return `a watch saw ${seen.join(' -> ')}`
  await manual.tickAsync(10_000)
  if (s.count() > 0 || sent !== sentWhenAllLeft) return 'requests went on after every waiter left'
  return undefined
}
