/**
 * `jobs.wait` and friends against the real mock server in-process, in virtual time.
 */
import { getEventListeners } from 'node:events'
import { type ManualClock, sleep } from '@video-translation/mock-server'
import { describe, expect, expectTypeOf, it, vi } from 'vitest'
import { createClient } from '../src/client.js'
import {
  isJobFailedError,
  isNotFoundError,
  isRateLimitError,
  isTimeoutError,
  type JobFailedError,
  type TimeoutError,
} from '../src/errors.js'
import type { WaitOptions } from '../src/job-options.js'
import { fixedInterval, type PollContext } from '../src/polling/strategy.js'
import type { CompletedJob, Job } from '../src/types.js'
import { fakeFetch, hangUntilAborted, jobBody, json, problemResponse } from './fake-fetch.js'
import { drive, jobParams, virtualClock, virtualSetup } from './virtual-time.js'

/** A client that polls (no push) and has no circuit breaker: each check's fate is its own. */
function plainPoller(
  fetch: ReturnType<typeof fakeFetch>,
  clock: ReturnType<typeof virtualClock>['clock'],
  options: Partial<Parameters<typeof createClient>[0]> = {},
) {
  return createClient({
    baseUrl: 'http://api.test',
    fetch,
    clock,
    transport: 'poll',
    circuitBreaker: false,
    ...options,
  })
}

/**
 * A laptop's clock on `manual`: `closeLid(ms)` sleeps the machine, the clock going on while
 * timers count no time asleep (each pending one fires that much later).
 */
function laptop(manual: ManualClock) {
  let asleepMs = 0
  const clock = {
    now: () => manual.now(),
    sleep: async (ms: number, signal?: AbortSignal) => {
      let counted = asleepMs
      await sleep(manual, ms, signal)
      while (asleepMs > counted) {
        const missed = asleepMs - counted
        counted = asleepMs
        await sleep(manual, missed, signal)
      }
    },
  }
  const closeLid = async (ms: number) => {
    asleepMs += ms
    await manual.tickAsync(ms)
  }
  return { clock, closeLid }
}

describe('jobs.wait', () => {
  it('should resolve with the completed job soon after it finishes, in few requests when hinted', async () => {
    const { client, manual, polls, settle } = virtualSetup()
    const checks: number[] = []
    for (let i = 0; i < 4; i++) {
      const job = await client.jobs.create(jobParams(60_000))
      const done = await settle(client.jobs.wait(job.id))
      expect(done).toMatchObject({ id: job.id, status: 'completed' })
      expect(manual.now() - Date.parse(job.created_at)).toBeLessThanOrEqual(60_000 + 1_500)
      checks.push(polls(job.id).length)
    }
    // At once, then near the ETA's plausible end, tighter as it nears; and fewer once the first
    // waits have shown how good the ETAs are.
    expect(checks[0]).toBeLessThanOrEqual(6)
    expect(checks.at(-1)).toBeLessThanOrEqual(5)
  })

  it('should space its checks wider as a job gets older, within bounds, when the server gives no hints', async () => {
    const { client, polls, settle } = virtualSetup({
      simulation: { hints: { mode: 'none', eta_noise: 0, progress: false } },
    })
    const job = await client.jobs.create(jobParams(120_000))
    await settle(client.jobs.wait(job.id))
    const times = polls(job.id).map((r) => r.at)
    const gaps = times.slice(1).map((t, i) => t - (times[i] ?? 0))
    expect(gaps.every((gap) => gap >= 100 && gap <= 120_000)).toBe(true)
    expect(times.length).toBeGreaterThan(5)
    expect(times.length).toBeLessThan(40)
    // Before it has learned anything, the older a job the less likely it ends in the next second.
    expect(gaps.at(-2) as number).toBeGreaterThan(2 * (gaps[0] as number))
  })

  it('should read an ETA into the progress when the server gives no other hint', async () => {
    const hintless = { hints: { mode: 'none', eta_noise: 0, progress: false } } as const
    const withProgress = { hints: { mode: 'none', eta_noise: 0, progress: true } } as const
    const checks = async (simulation: typeof hintless | typeof withProgress) => {
      const { client, manual, polls, settle } = virtualSetup({ simulation })
      const job = await client.jobs.create(jobParams(120_000))
      await settle(client.jobs.wait(job.id))
      return {
        count: polls(job.id).length,
        late: manual.now() - Date.parse(job.created_at) - 120_000,
      }
    }
    const blind = await checks(hintless)
    const paced = await checks(withProgress)
    expect(paced.late).toBeLessThan(blind.late)
    expect(paced.late).toBeLessThanOrEqual(1_500)
    expect(paced.count).toBeLessThanOrEqual(blind.count)
  })

  it('should reject with JobFailedError carrying the job when it ends in error', async () => {
    const { client, settle } = virtualSetup()
    const job = await client.jobs.create(jobParams(5_000, 'error'))
    const error = (await settle(client.jobs.wait(job.id)).catch(
      (e: unknown) => e,
    )) as JobFailedError
    expect(isJobFailedError(error)).toBe(true)
    expect(error.job).toMatchObject({
      id: job.id,
      status: 'error',
      error: { code: 'translation_failed' },
    })
    expect(error.message).toContain('translation_failed')
  })

  it('should place a strategy’s check of 0 ms a millisecond on, not in a loop that starves the event loop', async () => {
    const { manual, clock } = virtualClock()
    const start = manual.now()
    // An in-process fetch (no I/O between its answers): checks at 0 ms never let a timer run.
    const fetch = fakeFetch(() => {
      const done = manual.now() - start >= 300
      return json(jobBody({ status: done ? 'completed' : 'running', eta_ms: null }))
    })
    const client = plainPoller(fetch, clock, { polling: { nextDelay: () => 0 } })
    const wait = client.jobs.wait('job_1', { timeoutMs: 10_000 })
    for (let i = 0; i < 5; i++) await manual.tickAsync(100)
    await expect(wait).resolves.toMatchObject({ status: 'completed' })
    expect(fetch.calls.length).toBeLessThanOrEqual(302)
  })

  it('should resolve with the failed job when throwOnError is false', async () => {
    const { client, settle } = virtualSetup()
    const job = await client.jobs.create(jobParams(5_000, 'error'))
    expect(await settle(client.jobs.wait(job.id, { throwOnError: false }))).toMatchObject({
      status: 'error',
    })
  })

  it('should type a wait by whether it may resolve a failed job, and narrow a Job by its status', async () => {
    const { client, settle } = virtualSetup()
    const job = await client.jobs.create(jobParams(2_000))
    // Options typed apart (a helper's parameter) still resolve a completed job with its result.
    const given: WaitOptions = { timeoutMs: 60_000 }
    const done = await settle(client.jobs.wait(job.id, given))
    expectTypeOf(done).toEqualTypeOf<CompletedJob>()
    expect(done.result.url).toMatch(/^https?:/)
    // `throwOnError` that may be false: any Job, narrowed by its status.
    const throwOnError: boolean = Math.random() > 2
    const maybe: WaitOptions<boolean> = { throwOnError }
    const ended = await settle(client.jobs.wait(job.id, maybe))
    expectTypeOf(ended).toEqualTypeOf<Job>()
    if (ended.status === 'completed') expectTypeOf(ended.result).toEqualTypeOf<{ url: string }>()
    else expectTypeOf(ended.result).toEqualTypeOf<{ url: string } | null>()
    expect(ended.status).toBe('completed')
    client.on('job:completed', ({ job }) => expectTypeOf(job).toEqualTypeOf<CompletedJob>())
    // @ts-expect-error: `false` is not `WaitOptions`, whose waits resolve completed jobs only
    const wrong: WaitOptions = { throwOnError: false }
    expect(wrong.throwOnError).toBe(false)
  })

  it('should resubmit a failed job with retryOnError, bounded', async () => {
    const { client, requests, settle, simulate } = virtualSetup()
    await simulate({ error_rate: 1 })
    const job = await client.jobs.create({
      video_url: 'https://example.com/a.mp4',
      target_language: 'es',
    })
    const error = await settle(client.jobs.wait(job.id, { retryOnError: 2 })).catch(
      (e: unknown) => e,
    )
    expect(isJobFailedError(error)).toBe(true)
    expect(requests.filter((r) => r.method === 'POST')).toHaveLength(3)
  })

  it('should succeed when a resubmitted job completes', async () => {
    const { client, requests, settle, simulate } = virtualSetup()
    await simulate({ error_rate: 1 })
    const first = await client.jobs.create({
      video_url: 'https://example.com/a.mp4',
      target_language: 'es',
    })
    await simulate({ error_rate: 0 })
    const done = await settle(client.jobs.wait(first.id, { retryOnError: true }))
    expect(done.status).toBe('completed')
    expect(done.id).not.toBe(first.id)
    expect(requests.filter((r) => r.method === 'POST')).toHaveLength(2)
  })

  it('should resubmit from createAndWait as a new job, not by replaying the idempotency key', async () => {
    const { client, requests, settle } = virtualSetup()
    const created: string[] = []
    client.on('job:created', ({ job }) => created.push(job.id))
    const error = await settle(
      client.jobs.createAndWait(jobParams(3_000, 'error'), {
        idempotencyKey: 'order-7',
        retryOnError: 1,
      }),
    ).catch((e: unknown) => e)
    expect(isJobFailedError(error)).toBe(true)
    expect(requests.filter((r) => r.method === 'POST')).toHaveLength(2)
    expect(created).toHaveLength(2)
    expect(new Set(created).size).toBe(2)
    expect((error as JobFailedError).job.id).toBe(created[1])
  })

  it('should time out with the last job, after a last look at the deadline', async () => {
    const { client, manual, polls, settle } = virtualSetup()
    const job = await client.jobs.create(jobParams(600_000))
    const start = manual.now()
    const error = (await settle(client.jobs.wait(job.id, { timeoutMs: 90_000 })).catch(
      (e: unknown) => e,
    )) as TimeoutError
    expect(isTimeoutError(error)).toBe(true)
    expect(error).toMatchObject({
      scope: 'wait',
      reason: 'deadline',
      timeoutMs: 90_000,
      job: { id: job.id, status: 'running' },
    })
    expect(manual.now() - start).toBe(90_000)
    expect(polls(job.id).at(-1)?.at).toBe(start + 90_000)
  })

  it('should still make its last look when a check sent before the deadline hangs to it', async () => {
    // The check sent at 8 s is never answered: its time limit is the deadline, 12 s. The job
    // ends at 9 s; only a look after the hung one can tell.
    let serve: (input: string, init: RequestInit) => Response | Promise<Response> = () => {
      throw new Error('not yet')
    }
    let hung = false
    const { client, app, manual, settle } = virtualSetup({
      client: {
        fetch: (input, init) => {
          const at = manual.now() - start
          if (!hung && init.method === undefined && at >= 8_000) {
            hung = true
            return new Promise((_, reject) => {
              init.signal?.addEventListener('abort', () => reject(init.signal?.reason))
            })
          }
          return serve(input, init)
        },
      },
    })
    serve = (input, init) => app.request(input, init)
    const start = manual.now()
    const job = await client.jobs.create(jobParams(9_000))
    const wait = client.jobs.wait(job.id, { timeoutMs: 12_000, polling: fixedInterval(1_000) })
    await expect(settle(wait)).resolves.toMatchObject({ id: job.id, status: 'completed' })
    expect(hung).toBe(true)
    // Its last look, a moment after the deadline ended the hung check.
    expect(manual.now() - start).toBeGreaterThanOrEqual(12_000)
    expect(manual.now() - start).toBeLessThan(13_000)
  })

  it('should look at its deadline beside a check that hung before it joined', async () => {
    // One wait (30 s) has its check at 8.5 s hang; another joins at 9.5 s for 2 s. The job ends
    // at 9 s: the second wait's look at its deadline, beside the hung check, finds it.
    const { manual, clock } = virtualClock()
    const start = clock.now()
    let hung = false
    const fetch = fakeFetch((call) => {
      const at = clock.now() - start
      if (!hung && at >= 8_500) {
        hung = true
        return hangUntilAborted(call)
      }
      return json(at >= 9_000 ? jobBody({ status: 'completed', progress: 1 }) : jobBody())
    })
    const client = plainPoller(fetch, clock)
    const polling = fixedInterval(1_000)
    const first = client.jobs.wait('job_1', { timeoutMs: 30_000, polling }).catch((e: unknown) => e)
    await manual.tickAsync(9_500)
    expect(hung).toBe(true)
    const second = client.jobs.wait('job_1', { timeoutMs: 2_000, polling }).catch((e: unknown) => e)
    const [a, b] = await drive(manual, Promise.all([first, second]), 100, 100)
    expect(b).toMatchObject({ status: 'completed' })
    expect(a).toMatchObject({ status: 'completed' })
    expect(clock.now() - start).toBeLessThanOrEqual(11_600)
  })

  it('should end its last look a second after the deadline, when the check before it hung', async () => {
    for (const timeoutMs of [4_100, 4_500, 5_000]) {
      const { manual, clock } = virtualClock()
      const start = clock.now()
      // Checks answered until 3.5 s; every later one hangs to its limit.
      const fetch = fakeFetch((call) =>
        clock.now() - start < 3_500 ? json(jobBody()) : hangUntilAborted(call),
      )
      const client = plainPoller(fetch, clock, { circuitBreaker: false, retry: false })
      const waiting = client.jobs
        .wait('job_1', { timeoutMs, polling: fixedInterval(1_000) })
        .catch((e: unknown) => e)
      expect(isTimeoutError(await drive(manual, waiting, 10, 2_000)), `${timeoutMs}`).toBe(true)
      expect(clock.now() - start, `${timeoutMs}`).toBeLessThanOrEqual(timeoutMs + 1_000)
    }
  })

  it('should not let request retries run past the deadline', async () => {
    const { client, manual, settle, simulate } = virtualSetup({
      client: {
        retry: { initialDelayMs: 4_000, maxDelayMs: 60_000, budget: false },
        circuitBreaker: false,
        random: () => 0.999,
      },
    })
    const job = await client.jobs.create(jobParams(600_000))
    await simulate({ faults: { rate_503: 1, retry_after_s: 0 } })
    const start = manual.now()
    const error = await settle(client.jobs.wait(job.id, { timeoutMs: 5_000 })).catch(
      (e: unknown) => e,
    )
    expect(isTimeoutError(error)).toBe(true)
    // The last look may take its second; a backoff never starts past the deadline.
    expect(manual.now() - start).toBeLessThanOrEqual(5_000 + 1_000)
  })

  it('should stop after maxAttempts checks', async () => {
    const { client, polls, settle } = virtualSetup()
    const job = await client.jobs.create(jobParams(600_000))
    const error = await settle(client.jobs.wait(job.id, { maxAttempts: 3 })).catch(
      (e: unknown) => e,
    )
    expect(isTimeoutError(error)).toBe(true)
    expect(error).toMatchObject({ scope: 'wait', reason: 'attempts' })
    expect((error as Error).message).toContain('3 status checks')
    expect(polls(job.id)).toHaveLength(3)
  })

  it('should reject at once with the abort reason mid-sleep, and send nothing after', async () => {
    const { client, manual, requests } = virtualSetup()
    const job = await client.jobs.create(jobParams(600_000))
    const controller = new AbortController()
    const waiting = client.jobs.wait(job.id, { signal: controller.signal })
    await manual.tickAsync(0)
    const sent = requests.length
    const reason = new Error('user navigated away')
    controller.abort(reason)
    await expect(waiting).rejects.toBe(reason)
    await manual.tickAsync(3_600_000)
    expect(requests.length).toBe(sent)
    expect(manual.pending()).toBe(0)
  })

  it('should reject with the abort reason when aborted before it starts', async () => {
    const { client, requests } = virtualSetup()
    const controller = new AbortController()
    controller.abort('gone')
    await expect(client.jobs.wait('job_x', { signal: controller.signal })).rejects.toBe('gone')
    expect(requests).toHaveLength(0)
  })

  it('should refuse what is not an AbortSignal at the call, and leave later waits of the job unharmed', async () => {
    const { client, settle } = virtualSetup()
    const job = await settle(client.jobs.create(jobParams(3_000)))
    const fake = { aborted: false } as unknown as AbortSignal
    await expect(client.jobs.wait(job.id, { signal: fake })).rejects.toThrow(
      /signal must be an AbortSignal/,
    )
    expect(() => client.jobs.watch(job.id, { signal: fake })).toThrow(TypeError)
    // One that looks like a signal but throws when listened to: nothing is left half made.
    const throwing = {
      aborted: false,
      addEventListener() {
        throw new Error('no listeners here')
      },
      removeEventListener() {},
    } as unknown as AbortSignal
    await expect(client.jobs.wait(job.id, { signal: throwing })).rejects.toThrow('no listeners')
    const done = await settle(client.jobs.wait(job.id), 60_000)
    expect(done.status).toBe('completed')
  })

  it('should refuse a per-call polling that is not a strategy, and an onProgress that is no function', async () => {
    const { client, requests } = virtualSetup()
    const options = { polling: { requestCostMs: 1_000 } } as never
    await expect(client.jobs.wait('job_x', options)).rejects.toThrow(/polling must be a strategy/)
    await expect(client.jobs.wait('job_x', { onProgress: 'x' as never })).rejects.toThrow(
      /onProgress must be a function/,
    )
    await expect(client.jobs.waitAll('job_x' as never)).rejects.toThrow(/ids must be an array/)
    await expect(client.jobs.createBatch('ab' as never)).rejects.toThrow(/must be an array/)
    expect(requests).toHaveLength(0)
  })

  it('should keep checking on time when the client’s wall clock is stepped back', async () => {
    const { app, manual } = virtualSetup()
    let offset = 0
    const client = createClient({
      baseUrl: 'http://mock.test',
      apiKey: 'vt_dev_key',
      transport: 'poll',
      fetch: (input, init) => Promise.resolve(app.request(input, init)),
      clock: { now: () => manual.now() + offset, sleep: (ms, signal) => sleep(manual, ms, signal) },
    })
    const job = await client.jobs.create(jobParams(5_000))
    const startedAt = manual.now()
    let doneAt: number | undefined
    const waiting = client.jobs.wait(job.id, { polling: fixedInterval(1_000) }).then(() => {
      doneAt = manual.now()
    })
    await manual.tickAsync(2_500)
    offset = -60_000
    for (let i = 0; i < 100 && doneAt === undefined; i++) await manual.tickAsync(500)
    expect(doneAt).toBeDefined()
    await waiting
    // Done at 5 s: known at the next 1 s check, not a minute later.
    expect((doneAt as number) - startedAt).toBeLessThanOrEqual(7_000)
  })

  it('should look within seconds of waking though its check was waiting out a Retry-After', async () => {
    const { manual } = virtualClock()
    const start = manual.now()
    const { clock, closeLid } = laptop(manual)
    // The first check meets a maintenance (503, come back in 60 s); the job ends at 5 min.
    const checks: number[] = []
    const fetch = fakeFetch(() => {
      checks.push(manual.now())
      if (checks.length === 1) {
        const response = problemResponse(503, 'maintenance')
        response.headers.set('retry-after', '60')
        return response
      }
      const done = manual.now() - start >= 300_000
      const result = { url: 'https://x.test' }
      return json(jobBody({ status: done ? 'completed' : 'running', ...(done && { result }) }))
    })
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock, transport: 'poll' })
    const waiting = client.jobs.wait('job_1', { timeoutMs: 24 * 3_600_000 })
    await manual.tickAsync(10_000)
    await closeLid(3_600_000)
    const wokeAt = manual.now()
    await drive(manual, waiting, 1_000, 300)
    await expect(waiting).resolves.toMatchObject({ status: 'completed' })
    const firstAfter = checks.find((at) => at >= wokeAt) as number
    expect(firstAfter - wokeAt).toBeLessThanOrEqual(10_000)
  })

  it('should time out under a test runner’s fake timers, the clock read as they set it', async () => {
    vi.useFakeTimers()
    try {
      const fetch = fakeFetch(() => json(jobBody({ status: 'running', eta_ms: null })))
      const client = createClient({ baseUrl: 'http://api.test', fetch, transport: 'poll' })
      const waiting = client.jobs
        .wait('job_1', { polling: fixedInterval(5_000), timeoutMs: 30_000 })
        .catch((error: Error) => error.name)
      await vi.advanceTimersByTimeAsync(60_000)
      expect(await waiting).toBe('TimeoutError')
    } finally {
      vi.useRealTimers()
    }
  })

  it('should look within seconds of the machine waking from sleep, not when its timer would', async () => {
    const { app, manual } = virtualSetup({ simulation: { hints: { mode: 'none' } } })
    const { clock, closeLid } = laptop(manual)
    const checks: number[] = []
    const client = createClient({
      baseUrl: 'http://mock.test',
      apiKey: 'vt_dev_key',
      transport: 'poll',
      fetch: (input, init) => {
        checks.push(manual.now())
        return Promise.resolve(app.request(input, init))
      },
      clock,
    })
    const job = await client.jobs.create(jobParams(300_000))
    const waiting = client.jobs.wait(job.id, { timeoutMs: 24 * 3_600_000 })
    await manual.tickAsync(60_000)
    await closeLid(3_600_000)
    const wokeAt = manual.now()
    await drive(manual, waiting, 1_000, 120)
    await expect(waiting).resolves.toMatchObject({ status: 'completed' })
    // The job ended 55 minutes before: known within the timer's 10 s look at the clock.
    const firstAfter = checks.find((at) => at >= wokeAt) as number
    expect(firstAfter - wokeAt).toBeLessThanOrEqual(10_000)
  })

  it('should send a check planned a minute on when due, though a clock of the user’s stepped back', async () => {
    const { manual } = virtualClock()
    let shift = 0
    const checks: number[] = []
    const fetch = fakeFetch(() => {
      checks.push(manual.now())
      return json(jobBody({ status: 'running', eta_ms: null }))
    })
    const client = createClient({
      baseUrl: 'http://api.test',
      fetch,
      transport: 'poll',
      clock: { now: () => manual.now() + shift, sleep: (ms, signal) => sleep(manual, ms, signal) },
    })
    const start = manual.now()
    const controller = new AbortController()
    client.jobs
      .wait('job_1', { polling: fixedInterval(60_000), signal: controller.signal })
      .catch(() => {})
    await manual.tickAsync(20_000)
    shift -= 3_600_000
    await manual.tickAsync(120_000)
    controller.abort()
    // The timer goes on from the time it was set for (10 s at a time): not an hour late.
    expect((checks[1] as number) - start).toBe(60_000)
  })

  it('should fail fast on a job that does not exist', async () => {
    const { client, requests, settle } = virtualSetup()
    await expect(settle(client.jobs.wait('job_missing'))).rejects.toSatisfy(isNotFoundError)
    expect(requests).toHaveLength(1)
  })

  it('should call onProgress after each check and follow a custom strategy', async () => {
    const { client, polls, settle } = virtualSetup()
    const job = await client.jobs.create(jobParams(10_000))
    const seen: number[] = []
    await settle(
      client.jobs.wait(job.id, {
        polling: fixedInterval(2_000),
        onProgress: (j) => seen.push(j.progress),
      }),
    )
    expect(polls(job.id)).toHaveLength(6)
    expect(seen).toEqual([...seen].sort((a, b) => a - b))
    expect(seen.at(-1)).toBe(1)
  })

  it('should tell the strategy the job’s age, from the server’s times, for a wait that starts late', async () => {
    const { client, manual, settle } = virtualSetup()
    const job = await client.jobs.create(jobParams(60_000))
    manual.advance(30_000)
    const contexts: PollContext[] = []
    await settle(
      client.jobs.wait(job.id, {
        polling: {
          nextDelay: (context) => {
            contexts.push(context)
            return 10_000
          },
        },
      }),
    )
    // At least `updated_at - created_at` old (the mock steps progress every 500 ms).
    expect(contexts[0]?.ageMs).toBeGreaterThanOrEqual(29_500)
    expect(contexts[0]?.ageMs).toBeLessThanOrEqual(30_000)
    expect(contexts[0]?.elapsedMs).toBe(0)
    expect(contexts.map((c) => c.delays)).toEqual([0, 1, 2])
    expect(contexts[1]?.ageMs).toBeGreaterThanOrEqual(39_500)
  })

  it('should date a job it created by its create, whatever the server’s created_at says', async () => {
    // The server's job store dates jobs three hours back; its updated_at and Date are right.
    // Each create makes a job of 20 s.
    const { manual, clock } = virtualClock()
    let end = 0
    const fetch = fakeFetch((call) => {
      const now = manual.now()
      if (call.method === 'POST') end = now + 20_000
      const status = call.method === 'POST' ? 'queued' : now >= end ? 'completed' : 'running'
      const createdAt = new Date(end - 20_000 - 3 * 3_600_000).toISOString()
      const body = jobBody({ status, eta_ms: null, created_at: createdAt })
      const updated = new Date(Math.min(now, end)).toISOString()
      const headers = { date: new Date(now).toUTCString() }
      return json({ ...body, updated_at: updated }, call.method === 'POST' ? 201 : 200, headers)
    })
    const contexts: PollContext[] = []
    const client = plainPoller(fetch, clock, { random: () => 0.5 })
    const nextDelay = (context: PollContext) => {
      contexts.push(context)
      return 2_000
    }
    await drive(manual, client.jobs.createAndWait(jobParams(20_000), { polling: { nextDelay } }))
    // As old as since its create, at every check: not three hours.
    expect(contexts.length).toBeGreaterThan(5)
    expect(contexts.every((c) => (c.ageMs ?? 0) <= c.elapsedMs + 1_000)).toBe(true)
    // The default strategy, so dated, checks it as a young job: known within seconds.
    await drive(manual, client.jobs.createAndWait(jobParams(20_000)), 1_000, 200)
    expect(manual.now() - end).toBeLessThan(10_000)
  })

  it('should read a Retry-After HTTP-date on the client’s clock, whatever its epoch', async () => {
    // A virtual clock in 1990: against Date.now() every date it sends would be long past.
    const { manual, clock } = virtualClock(Date.UTC(1990, 0, 1))
    const start = manual.now()
    const fetch = fakeFetch(() => {
      const done = manual.now() - start >= 60_000
      const headers = { 'retry-after': new Date(start + 60_000).toUTCString() }
      return json(jobBody({ status: done ? 'completed' : 'running', eta_ms: null }), 200, headers)
    })
    const client = createClient({
      transport: 'poll',
      baseUrl: 'http://api.test',
      fetch,
      clock,
      random: () => 0.5,
    })
    let done = false
    const wait = client.jobs.wait('job_1').finally(() => {
      done = true
    })
    for (let i = 0; i < 200 && !done; i++) await manual.tickAsync(1_000)
    await expect(wait).resolves.toMatchObject({ status: 'completed' })
    expect(fetch.calls).toHaveLength(2)
  })

  it('should keep waiting through a 503 storm and never call it a failed job', async () => {
    const { client, settle, simulate } = virtualSetup()
    const job = await client.jobs.create(jobParams(30_000))
    await simulate({ faults: { rate_503: 0.6, retry_after_s: 1 } })
    const retries: number[] = []
    client.on('request:retry', (e) => retries.push(e.attempt))
    const done = await settle(client.jobs.wait(job.id))
    expect(done.status).toBe('completed')
    expect(retries.length).toBeGreaterThan(0)
  })

  it('should record every check in the history', async () => {
    const { client, settle } = virtualSetup()
    const job = await client.jobs.create(jobParams(10_000))
    await settle(client.jobs.wait(job.id))
    const history = client.jobs.history(job.id)
    expect(history.length).toBeGreaterThan(1)
    expect(history.map((h) => h.attempt)).toEqual(history.map((_, i) => i + 1))
    expect(history.at(-1)).toMatchObject({ status: 'completed', httpStatus: 200 })
    expect(history[0]).toMatchObject({ status: 'pending', latencyMs: expect.any(Number) })
  })
})

describe('a wait the server asks to come back after its deadline', () => {
  it('should end at once with a TimeoutError, not ask at its deadline against the server’s word', async () => {
    const { manual, clock } = virtualClock()
    const fetch = fakeFetch(
      () =>
        new Response(JSON.stringify({ type: 'about:blank', title: 'Slow down', status: 429 }), {
          status: 429,
          headers: { 'content-type': 'application/problem+json', 'retry-after': '600' },
        }),
    )
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock, transport: 'poll' })
    const start = manual.now()
    const error = await drive(
      manual,
      client.jobs.wait('job_1', { timeoutMs: 120_000 }).catch((e: unknown) => e),
      1_000,
      200,
    )
    expect(isTimeoutError(error)).toBe(true)
    expect((error as Error).message).toContain('the server asked for no request until 600000 ms on')
    expect(isRateLimitError((error as Error).cause)).toBe(true)
    expect(manual.now() - start).toBeLessThan(2_000)
    expect(fetch.calls).toHaveLength(1)
  })
})

describe('jobs.createAndWait and jobs.cancel', () => {
  it('should create and wait in one call, emitting events in order', async () => {
    const { client, settle } = virtualSetup()
    const events: string[] = []
    client.on('job:created', () => events.push('created'))
    client.on('job:status', (e) => events.push(`status:${e.job.status}${e.changed ? '*' : ''}`))
    client.on('job:completed', () => events.push('completed'))
    const done = await settle(client.jobs.createAndWait(jobParams(10_000)))
    expect(done.status).toBe('completed')
    expect(events[0]).toBe('created')
    expect(events.at(-1)).toBe('completed')
    expect(events.at(-2)).toBe('status:completed*')
  })

  it('should tell a listener of every event each one by name, in order, until it stops', async () => {
    const { client, settle } = virtualSetup()
    const named: string[] = []
    const off = client.on('*', (event) => {
      named.push(event.name)
      if (event.name === 'job:completed') expect(event.payload.job.result.url).toBeTruthy()
    })
    const done = await settle(client.jobs.createAndWait(jobParams(10_000)))
    expect(named[0]).toBe('job:created')
    expect(named.filter((n) => n === 'job:status').length).toBeGreaterThan(0)
    expect(named.at(-1)).toBe('job:completed')
    off()
    const count = named.length
    await settle(client.jobs.get(done.id))
    await settle(client.jobs.createAndWait(jobParams(1_000)))
    expect(named).toHaveLength(count)
  })

  it('should resolve at once when the create’s answer is already over (its key replayed)', async () => {
    const { client, manual, requests, settle } = virtualSetup()
    const first = await settle(
      client.jobs.createAndWait(jobParams(3_000), { idempotencyKey: 'k1' }),
    )
    const sent = requests.length
    const startedAt = manual.now()
    const completed: string[] = []
    client.on('job:completed', ({ job }) => completed.push(job.id))
    const again = await settle(
      client.jobs.createAndWait(jobParams(3_000), { idempotencyKey: 'k1' }),
    )
    expect(again.id).toBe(first.id)
    expect(again.status).toBe('completed')
    expect(manual.now()).toBe(startedAt)
    expect(requests.slice(sent).map((r) => r.method)).toEqual(['POST'])
    expect(completed).toEqual([first.id])
  })

  it('should count its timeout from the call, and name it so, whatever the create took', async () => {
    const { manual, clock } = virtualClock()
    const start = manual.now()
    const fetch = fakeFetch(async (call) => {
      // The create takes 2 s; the job never ends.
      if (call.method === 'POST') await clock.sleep(2_000)
      return json(jobBody({ status: 'running', eta_ms: null }), call.method === 'POST' ? 202 : 200)
    })
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock, transport: 'poll' })
    const params = { video_url: 'https://e.com/a.mp4', target_language: 'es' }
    const waiting = client.jobs.createAndWait(params, { timeoutMs: 5_000 }).catch((e: unknown) => e)
    const error = (await drive(manual, waiting, 100, 100)) as TimeoutError
    expect(isTimeoutError(error)).toBe(true)
    expect(manual.now() - start).toBeLessThanOrEqual(5_000)
    expect(error.timeoutMs).toBe(5_000)
    expect(error.message).toMatch(/timed out after 5000 ms; the job was last seen running, 50 %$/)
  })

  it('should ask for the body at its last look, past a cache that answers 304 to everything', async () => {
    const { manual, clock } = virtualClock()
    const start = manual.now()
    const fetch = fakeFetch((call) => {
      if (call.headers.get('if-none-match')) return new Response(null, { status: 304 })
      const done = manual.now() - start >= 5_000
      const body = jobBody({ status: done ? 'completed' : 'running', eta_ms: null })
      return json(body, 200, { etag: '"v1"' })
    })
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock, transport: 'poll' })
    const waiting = client.jobs.wait('job_1', { timeoutMs: 20_000 }).catch((e: unknown) => e)
    await expect(drive(manual, waiting, 500, 100)).resolves.toMatchObject({ status: 'completed' })
    // Without a deadline: every tenth check asks for the body, so the end is seen all the same.
    const since = manual.now()
    const cached = fakeFetch((call) => {
      if (call.headers.get('if-none-match')) return new Response(null, { status: 304 })
      const done = manual.now() - since >= 3_000
      const body = jobBody({ status: done ? 'completed' : 'running', eta_ms: null })
      return json(body, 200, { etag: '"v1"' })
    })
    const other = createClient({
      baseUrl: 'http://api.test',
      fetch: cached,
      clock,
      transport: 'poll',
    })
    const endless = other.jobs.wait('job_1', { polling: fixedInterval(1_000) })
    await expect(drive(manual, endless, 500, 100)).resolves.toMatchObject({ status: 'completed' })
    const seenAfter = manual.now() - since
    expect(seenAfter).toBeGreaterThanOrEqual(9_000)
    expect(seenAfter).toBeLessThanOrEqual(11_000)
  })

  it('should give a retry only what is left of its check’s time limit', async () => {
    const { manual, clock } = virtualClock()
    const start = clock.now()
    const sentAt: number[] = []
    const fetch = fakeFetch(async (call) => {
      sentAt.push(clock.now() - start)
      // The first check: a 503 after 4.95 s of its 5 s; then the network holds every request.
      if (fetch.calls.length === 1) {
        await clock.sleep(4_950)
        return new Response('busy', { status: 503 })
      }
      return new Promise<Response>((_, reject) =>
        call.signal?.addEventListener('abort', () => reject(call.signal?.reason)),
      )
    })
    const client = plainPoller(fetch, clock, { random: () => 0 })
    const waiting = client.jobs.wait('job_1', { timeoutMs: 5_000 }).catch((e: unknown) => e)
    const error = (await drive(manual, waiting, 50, 200)) as TimeoutError
    expect(isTimeoutError(error)).toBe(true)
    // The retry had the 50 ms left (a request's limit runs on real timers), not 5 s again: the
    // wait's last look went at the deadline, and had the second after it.
    expect(sentAt).toEqual([0, 4_950, 5_000])
    expect(String(error.cause)).toMatch(/GET \/v1\/jobs\/job_1 timed out after 50 ms/)
    expect(clock.now() - start).toBeLessThanOrEqual(6_050)
  })

  it('should say why its checks failed when its time runs out without an answer', async () => {
    const { manual, clock } = virtualClock()
    let failing = false
    const fetch = fakeFetch(() =>
      failing
        ? new Response('<html>Bad gateway</html>', {
            status: 502,
            headers: { 'content-type': 'text/html' },
          })
        : json(jobBody({ status: 'running', eta_ms: null })),
    )
    const client = plainPoller(fetch, clock)
    const answered = client.jobs.wait('job_1', { timeoutMs: 5_000 }).catch((e: unknown) => e)
    expect(await drive(manual, answered, 100, 100)).toMatchObject({ name: 'TimeoutError' })
    expect(((await answered) as TimeoutError).cause).toBeUndefined()
    failing = true
    const waiting = client.jobs
      .wait('job_1', { timeoutMs: 5_000, maxConsecutiveErrors: 1_000 })
      .catch((e: unknown) => e)
    const error = (await drive(manual, waiting, 100, 100)) as TimeoutError
    expect(isTimeoutError(error)).toBe(true)
    expect(error.cause).toMatchObject({ name: 'ServerError', status: 502 })
    expect(error.message).toMatch(/timed out after 5000 ms; its last request failed: .*502/)
  })

  it('should cancel a job, and a wait on it then fails with the canceled job', async () => {
    const { client, manual, settle } = virtualSetup()
    const job = await client.jobs.create(jobParams(60_000))
    const waiting = client.jobs.wait(job.id).catch((e: unknown) => e)
    await manual.tickAsync(5_000)
    expect(await client.jobs.cancel(job.id)).toMatchObject({ status: 'canceled' })
    const error = (await settle(waiting)) as JobFailedError
    expect(isJobFailedError(error)).toBe(true)
    expect(error.job.status).toBe('canceled')
  })

  it('should keep polling when onProgress throws, and log it', async () => {
    const logged: string[] = []
    const { client, settle } = virtualSetup({
      client: { logger: { error: (m) => logged.push(m) } },
    })
    const done = await settle(
      client.jobs.createAndWait(jobParams(5_000), {
        onProgress: () => {
          throw new Error('ui bug')
        },
      }),
    )
    expect(done.status).toBe('completed')
    expect(logged).toContain('onProgress threw')
  })

  it('should log, not let loose, what an async onProgress or listener rejects with', async () => {
    const logged: string[] = []
    const loose: unknown[] = []
    const onLoose = (reason: unknown) => loose.push(reason)
    process.on('unhandledRejection', onLoose)
    try {
      const { client, settle } = virtualSetup({
        client: { logger: { error: (m) => logged.push(m) } },
      })
      client.on('job:status', async () => {
        throw new Error('listener store down')
      })
      const done = await settle(
        client.jobs.createAndWait(jobParams(5_000), {
          onProgress: async () => {
            throw new Error('store down')
          },
        }),
      )
      expect(done.status).toBe('completed')
      await new Promise((resolve) => setTimeout(resolve, 10))
      expect(logged).toContain('onProgress threw')
      expect(logged.some((m) => m.includes('job:status'))).toBe(true)
      expect(loose).toEqual([])
    } finally {
      process.off('unhandledRejection', onLoose)
    }
  })

  it('should say on the console what a callback threw when no logger is given', async () => {
    const said = vi.spyOn(console, 'error').mockImplementation(() => {})
    try {
      const { client, settle } = virtualSetup()
      client.on('job:status', () => {
        throw new Error('listener bug')
      })
      const done = await settle(
        client.jobs.createAndWait(jobParams(5_000), {
          onProgress: () => {
            throw new Error('ui bug')
          },
        }),
      )
      expect(done.status).toBe('completed')
      const lines = said.mock.calls.map((call) => call.map(String).join(' '))
      expect(lines.some((l) => l.includes('onProgress threw') && l.includes('ui bug'))).toBe(true)
      expect(lines.some((l) => l.includes('job:status') && l.includes('listener bug'))).toBe(true)
    } finally {
      said.mockRestore()
    }
  })

  it('should keep polling when a listener throws', async () => {
    const { client, settle } = virtualSetup({ client: { logger: { error: () => undefined } } })
    client.on('job:status', () => {
      throw new Error('listener bug')
    })
    expect((await settle(client.jobs.createAndWait(jobParams(5_000)))).status).toBe('completed')
  })

  it('should try the create again within its timeout after a short outage', async () => {
    const { manual, clock } = virtualClock()
    // Every create fails for a second (the connection reset), then goes through; the server
    // answered the client before (one never reached fails the wait at once: breaker.test.ts).
    let start = Number.POSITIVE_INFINITY
    const fetch = fakeFetch(async (call) => {
      if (call.method === 'POST' && clock.now() - start < 1_000) throw new TypeError('reset')
      return call.method === 'POST'
        ? json(jobBody({ id: 'job_back', status: 'pending' }), 201)
        : json(jobBody({ id: 'job_back', status: 'completed' }))
    })
    const client = createClient({
      baseUrl: 'http://api.test',
      fetch,
      clock,
      transport: 'poll',
      retry: { maxRetries: 1, initialDelayMs: 500, maxDelayMs: 5_000 },
      // Where in the time left the next create goes is drawn at random: fixed here.
      random: () => 0.5,
    })
    await drive(manual, client.jobs.get('job_back'))
    start = clock.now()
    const outcome = client.jobs.createAndWait(jobParams(), { timeoutMs: 4_000 })
    const job = await drive(manual, outcome, 100, 60)
    expect(job).toMatchObject({ id: 'job_back', status: 'completed' })
    // Within its timeout (by its last look, at the deadline at the latest).
    expect(manual.now() - start).toBeLessThanOrEqual(4_000)
    expect(fetch.calls.filter((c) => c.method === 'POST')).toHaveLength(3)
  })

  it('should ride out a maintenance that asks for longer than a request waits, however long', async () => {
    const { manual, clock } = virtualClock()
    // Two hours of 503s each asking for 2 minutes (more than maxRetryAfterMs), then the server.
    const start = clock.now()
    const fetch = fakeFetch((call) => {
      if (clock.now() - start < 7_200_000) {
        const response = problemResponse(503, 'Maintenance')
        response.headers.set('retry-after', '120')
        return response
      }
      return call.method === 'POST'
        ? json(jobBody({ id: 'job_late', status: 'pending' }), 201)
        : json(jobBody({ id: 'job_late', status: 'completed', result: { url: 'https://x/y' } }))
    })
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock, transport: 'poll' })
    const outcome = client.jobs.createAndWait(jobParams(), { timeoutMs: 5 * 3_600_000 })
    const job = await drive(manual, outcome, 60_000, 300)
    expect(job).toMatchObject({ id: 'job_late', status: 'completed' })
    // One try each time the server said, not more.
    const refused = fetch.calls.filter((call) => call.method === 'POST').length - 1
    expect(refused).toBe(60)
  })

  it('should send one request, not every call’s, when a maintenance’s Retry-After is over', async () => {
    const { manual, clock } = virtualClock()
    const start = clock.now()
    let refused = 0
    let made = 0
    // Ten minutes of 503s asking for 2 minutes, then the server.
    const fetch = fakeFetch((call) => {
      if (clock.now() - start < 600_000) {
        refused++
        const response = problemResponse(503, 'Maintenance')
        response.headers.set('retry-after', '120')
        return response
      }
      if (call.method !== 'POST') {
        const id = call.url.split('/').pop() as string
        return json(jobBody({ id, status: 'completed', result: { url: 'https://x/y' } }))
      }
      made++
      return json(jobBody({ id: `job_${made}`, status: 'pending' }), 201)
    })
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock, transport: 'poll' })
    const calls = Array.from({ length: 30 }, () =>
      client.jobs.createAndWait(jobParams(), { timeoutMs: 3_600_000 }),
    )
    const jobs = await drive(manual, Promise.all(calls), 1_000, 1_000)
    expect(jobs.every((job) => job.status === 'completed')).toBe(true)
    expect(made).toBe(30)
    // One request each time the server said, or each minute (what a call waits inside itself):
    // not every call's each time (30 x 5). Known within a minute of the end.
    expect(refused).toBeLessThanOrEqual(12)
    expect(manual.now() - start).toBeLessThan(680_000)
  })

  it('should hold only the creates when only they are refused with 503 (reads answered)', async () => {
    const { manual, clock } = virtualClock()
    const start = clock.now()
    // Creates refused for ten minutes (a read-only maintenance); the job watched ends at 20 s.
    const fetch = fakeFetch((call) => {
      if (call.method === 'POST') {
        const response = problemResponse(503, 'Read-only maintenance')
        response.headers.set('retry-after', '30')
        return response
      }
      const done = clock.now() - start >= 20_000
      return json(
        jobBody({ status: done ? 'completed' : 'running', result: { url: 'https://x/y' } }),
      )
    })
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock, transport: 'poll' })
    const controller = new AbortController()
    const { signal } = controller
    const batch = client.jobs.createBatch([jobParams(), jobParams()], { signal }).catch(() => {})
    const wait = client.jobs.wait('job_1', { polling: fixedInterval(2_000) })
    await drive(manual, wait, 500, 200)
    expect(manual.now() - start).toBeLessThanOrEqual(22_000)
    controller.abort()
    await batch
  })

  it('should come back when a 202 without a body says, whatever the job’s ETA said before', async () => {
    const { manual, clock } = virtualClock()
    const start = clock.now()
    const reads: number[] = []
    // The create's answer gives an ETA of 10 s; the status monitor then says "working, 30 s".
    const fetch = fakeFetch((call) => {
      if (call.method === 'POST') return json(jobBody({ status: 'running', eta_ms: 10_000 }), 201)
      reads.push(clock.now() - start)
      if (clock.now() - start < 100_000) {
        return new Response(null, { status: 202, headers: { 'retry-after': '30' } })
      }
      return json(jobBody({ status: 'completed', result: { url: 'https://x/y' } }))
    })
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock, transport: 'poll' })
    const done = client.jobs.createAndWait(jobParams(), { timeoutMs: 3_600_000 })
    expect(await drive(manual, done, 1_000, 300)).toMatchObject({ status: 'completed' })
    const gaps = reads.slice(1).map((at, i) => at - (reads[i] as number))
    expect(gaps.every((gap) => gap >= 30_000)).toBe(true)
  })

  it('should take a 202 without a body as "still working", coming back when it says', async () => {
    const { manual, clock } = virtualClock()
    const start = clock.now()
    const reads: number[] = []
    const fetch = fakeFetch(() => {
      reads.push(clock.now() - start)
      if (clock.now() - start < 100_000) {
        return new Response(null, { status: 202, headers: { 'retry-after': '30' } })
      }
      return json(jobBody({ status: 'completed', result: { url: 'https://x/y' } }))
    })
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock, transport: 'poll' })
    const wait = client.jobs.wait('job_1', { timeoutMs: 3_600_000 })
    expect(await drive(manual, wait, 1_000, 300)).toMatchObject({ status: 'completed' })
    // At once, then each 30 s the server asked for: the end known at the first look after it.
    expect(reads).toEqual([0, 30_000, 60_000, 90_000, 120_000])
  })

  it('should count the create within the timeout of createAndWait, never cutting it short', async () => {
    const { manual, clock } = virtualClock()
    // A server whose creates take 3 s.
    const fetch = fakeFetch(async (call) => {
      if (call.method !== 'POST') return json(jobBody({ id: 'job_slow' }))
      await clock.sleep(3_000)
      return json(jobBody({ id: 'job_slow' }), 201)
    })
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock, transport: 'poll' })
    const start = manual.now()
    const outcome = client.jobs
      .createAndWait(jobParams(60_000), { timeoutMs: 2_000 })
      .catch((e: unknown) => e)
    await manual.tickAsync(3_000)
    await manual.tickAsync(0)
    const error = (await outcome) as TimeoutError
    // Past its deadline when the create answered: the wait ends at once, with the job made.
    expect(isTimeoutError(error)).toBe(true)
    expect(error.scope).toBe('wait')
    expect(error.job?.id).toBe('job_slow')
    expect(manual.now() - start).toBe(3_000)
    // The create, and at most a last look at the deadline.
    expect(fetch.calls.length).toBeLessThanOrEqual(2)
  })

  it('should listen to a signal shared by many waits once, and leave it as it found it', async () => {
    const { client, manual, settle } = virtualSetup({ client: { transport: 'poll' } })
    const controller = new AbortController()
    const { signal } = controller
    const jobs = await Promise.all(
      Array.from({ length: 30 }, (_, i) => client.jobs.create(jobParams(1_000 + i * 100))),
    )
    const done = Promise.all(jobs.map((job) => client.jobs.wait(job.id, { signal })))
    await manual.tickAsync(0)
    expect(getEventListeners(signal, 'abort')).toHaveLength(1)
    await settle(done)
    expect(getEventListeners(signal, 'abort')).toHaveLength(0)
    // And an abort still ends every wait on it.
    const more = await Promise.all(
      Array.from({ length: 12 }, () => client.jobs.create(jobParams(600_000))),
    )
    const waits = more.map((job) => client.jobs.wait(job.id, { signal }).catch((e: unknown) => e))
    await manual.tickAsync(1_000)
    controller.abort(new Error('left the page'))
    const reasons = await Promise.all(waits)
    expect(reasons.every((r) => (r as Error).message === 'left the page')).toBe(true)
    expect(getEventListeners(signal, 'abort')).toHaveLength(0)
  })
})

describe('a job just created that the server cannot show yet', () => {
  /**
   * The mock server behind a store whose reads lag its writes by `lagMs`: a job's own address
   * (and its event stream) answers `status` until then.
   */
  function lagging(lagMs: number, status = 404, transport: 'poll' | 'auto' = 'poll') {
    const madeAt = new Map<string, number>()
    let hidden = 0
    const setup = virtualSetup({
      simulation: { hints: { mode: 'none', eta_noise: 0, progress: false } },
      client: {
        transport,
        fetch: async (input, init) => {
          const url = new URL(input)
          const id = /^\/v1\/jobs\/([^/]+)/.exec(url.pathname)?.[1]
          const made = id === undefined ? undefined : madeAt.get(id)
          if (made !== undefined && setup.manual.now() - made < lagMs) {
            hidden++
            return problemResponse(status, status === 404 ? 'Not Found' : 'Not Ready')
          }
          const response = await setup.app.request(input, init)
          if (init.method === 'POST' && response.status === 202) {
            const { id: created } = (await response.clone().json()) as { id: string }
            madeAt.set(created, setup.manual.now())
          }
          return response
        },
      },
    })
    return { ...setup, hidden: () => hidden }
  }

  for (const status of [404, 425]) {
    it(`should wait through a few seconds of ${status} for it, not fail`, async () => {
      const { client, settle, hidden } = lagging(7_000, status)
      const job = await settle(client.jobs.createAndWait(jobParams(10_000)))
      expect(job.status).toBe('completed')
      expect(hidden()).toBeGreaterThan(0)
    })
  }

  it('should wait through it after create and wait, and with transport auto', async () => {
    const { client, settle, hidden } = lagging(3_000, 404, 'auto')
    const made = await settle(client.jobs.create(jobParams(10_000)))
    const [one] = await settle(client.jobs.waitAll([made.id]))
    expect(one?.status).toBe('fulfilled')
    const job = await settle(client.jobs.createAndWait(jobParams(10_000)))
    expect(job.status).toBe('completed')
    expect(hidden()).toBeGreaterThan(0)
  })

  it('should still fail at once for a job it did not create, and after 10 s for one it did', async () => {
    const { client, settle, manual } = lagging(3_600_000)
    const unknown = await settle(client.jobs.wait('job_never_made').catch((e: unknown) => e))
    expect(isNotFoundError(unknown)).toBe(true)
    const startedAt = manual.now()
    const lost = await settle(client.jobs.createAndWait(jobParams(10_000)).catch((e: unknown) => e))
    expect(isNotFoundError(lost)).toBe(true)
    expect(manual.now() - startedAt).toBeGreaterThanOrEqual(10_000)
    expect(manual.now() - startedAt).toBeLessThan(15_000)
  })
})

describe('a create refused past the wait’s deadline', () => {
  it('should say it gave up before the deadline, and when the server asked to come back', async () => {
    const { manual, clock } = virtualClock()
    const fetch = fakeFetch(() => {
      const refused = problemResponse(503, 'Maintenance')
      refused.headers.set('retry-after', '90')
      return refused
    })
    const client = plainPoller(fetch, clock)
    const done = client.jobs.createAndWait(jobParams(), { timeoutMs: 60_000 })
    const error = await drive(
      manual,
      done.catch((e: unknown) => e),
      100,
      100,
    )
    expect(isTimeoutError(error)).toBe(true)
    expect((error as Error).message).toMatch(
      /^Creating the job gave up \d+ ms before the wait's deadline \(timeoutMs: 60000 ms\): the server asked for no request until 9\d{4} ms on/,
    )
  })
})

describe('a job just created, then deleted', () => {
  /** Creates answer a job; its address then says 404, and batches list it as missing. */
  function deleting() {
    const { manual, clock } = virtualClock()
    let made = 0
    const fetch = fakeFetch((call) => {
      if (call.method === 'POST')
        return json(jobBody({ id: `job_${++made}`, status: 'pending' }), 202)
      const url = new URL(call.url)
      const ids = url.searchParams.get('ids')
      if (ids !== null) return json({ jobs: [], missing: ids.split(',') })
      return problemResponse(404, 'Not Found')
    })
    return { manual, clock, fetch }
  }

  it('should ask a batch, not each job alone, while its jobs are moments old', async () => {
    const { manual, clock, fetch } = deleting()
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock, transport: 'poll' })
    const made = await drive(
      manual,
      client.jobs.createBatch(Array.from({ length: 50 }, () => jobParams())),
    )
    const ids = made.flatMap((m) => (m.status === 'fulfilled' ? [m.job.id] : []))
    const outcomes = await drive(manual, client.jobs.waitAll(ids), 500, 200)
    expect(outcomes.every((o) => o.status === 'rejected' && isNotFoundError(o.reason))).toBe(true)
    // Batches during the grace, then each asked alone about once: not 50 single requests at
    // every look (7 looks a job). (Twice for a job whose look fell due alone in the grace's last
    // moments: 51 at most over 100 seeds of the jitter, which this client draws at random.)
    const alone = fetch.calls.filter((c) => c.method === 'GET' && !c.url.includes('ids='))
    expect(alone.length).toBeLessThanOrEqual(ids.length * 1.1)
    const perJob = new Map<string, number>()
    for (const { url } of alone) perJob.set(url, (perJob.get(url) ?? 0) + 1)
    expect(Math.max(...perJob.values())).toBeLessThanOrEqual(2)
  })

  it('should fail at once for a job read before, and for a wait with too little time', async () => {
    const { manual, clock } = virtualClock()
    let gone = false
    const fetch = fakeFetch((call) => {
      if (call.method === 'POST') return json(jobBody({ status: 'pending' }), 202)
      return gone ? problemResponse(404, 'Not Found') : json(jobBody({ status: 'running' }))
    })
    const client = plainPoller(fetch, clock)
    const job = await drive(manual, client.jobs.create(jobParams()))
    await drive(manual, client.jobs.get(job.id))
    // Read once through a wait's check, then deleted: no grace.
    const waiting = client.jobs.wait(job.id).catch((e: unknown) => e)
    await manual.tickAsync(5_000)
    gone = true
    const startedAt = manual.now()
    expect(isNotFoundError(await drive(manual, waiting, 100, 200))).toBe(true)
    expect(manual.now() - startedAt).toBeLessThan(5_000)
    // A job just created, its wait ending sooner than the next look: the 404 itself.
    const fresh = await drive(manual, client.jobs.create(jobParams()))
    const short = client.jobs.wait(fresh.id, { timeoutMs: 1_000 }).catch((e: unknown) => e)
    expect(isNotFoundError(await drive(manual, short, 100, 50))).toBe(true)
  })
})
