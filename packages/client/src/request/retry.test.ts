import { sleep } from '@video-translation/mock-server'
import { describe, expect, it } from 'vitest'
import {
  type FetchCall,
  fakeFetch,
  hangUntilAborted,
  jobBody,
  json,
  problemResponse,
} from '../../test/fake-fetch.js'
import { drive, virtualClock } from '../../test/virtual-time.js'
import { type ClientOptions, createClient } from '../client.js'
import {
  isNotFoundError,
  isRateLimitError,
  isServerError,
  type ServerError,
  TimeoutError,
} from '../errors.js'
import { MAX_PACED_RETRIES, RetryBudget } from './retry.js'

/** A refusal that says when to come back (`Retry-After`, in seconds). */
function paced(status: number, retryAfter: string, title = 'slow down'): Response {
  const response = problemResponse(status, title)
  response.headers.set('retry-after', retryAfter)
  return response
}

function setup(
  respond: (call: FetchCall) => Response | Promise<Response>,
  options: Partial<ClientOptions> = {},
) {
  const { manual, clock } = virtualClock()
  const fetch = fakeFetch(respond)
  const retries: { attempt: number; delayMs: number }[] = []
  const client = createClient({
    baseUrl: 'http://api.test',
    apiKey: 'secret_key_123',
    fetch,
    clock,
    circuitBreaker: false,
    random: () => 0.5,
    ...options,
  })
  client.on('request:retry', ({ attempt, delayMs }) => retries.push({ attempt, delayMs }))
  return { client, fetch, manual, retries }
}

describe('request retries', () => {
  it('should retry a transient failure with growing jittered backoff and succeed', async () => {
    let calls = 0
    const { client, fetch, manual, retries } = setup(() =>
      ++calls < 3 ? problemResponse(503, 'busy') : json(jobBody()),
    )
    expect((await drive(manual, client.jobs.get('job_1'))).id).toBe('job_1')
    expect(fetch.calls).toHaveLength(3)
    expect(retries).toEqual([
      { attempt: 1, delayMs: 100 },
      { attempt: 2, delayMs: 200 },
    ])
  })

  it('should tell when a retry will likely go: its turn under the limit a 429 taught, if later', async () => {
    const sentAt: number[] = []
    let calls = 0
    const { client, manual, retries } = setup(() => {
      sentAt.push(manual.now())
      // Bare refusals (no Retry-After): the client learns a rate, and spaces its tries by it.
      return ++calls >= 2 && calls <= 4 ? new Response(null, { status: 429 }) : json(jobBody())
    })
    const both = client.jobs.get('job_1').then(() => client.jobs.get('job_1'))
    await drive(manual, both, 100, 300)
    const gaps = sentAt.slice(2).map((at, i) => at - (sentAt[i + 1] as number))
    expect(retries).toHaveLength(3)
    for (const [i, gap] of gaps.entries()) {
      const told = retries[i]?.delayMs ?? 0
      expect(told, `retry ${i + 1}: went ${gap} ms after the refusal`).toBeGreaterThanOrEqual(
        gap - 100,
      )
      expect(told).toBeLessThanOrEqual(gap)
    }
  })

  it('should honour Retry-After when it asks for longer than the backoff', async () => {
    let calls = 0
    const { client, manual, retries } = setup(() =>
      ++calls === 1
        ? new Response(null, { status: 429, headers: { 'retry-after': '4' } })
        : json(jobBody()),
    )
    await drive(manual, client.jobs.get('job_1'))
    expect(retries).toEqual([{ attempt: 1, delayMs: 4_000 }])
  })

  it('should reject at once with the abort reason during a retry backoff, and send nothing more', async () => {
    const { client, fetch, manual } = setup(() => problemResponse(503, 'busy'))
    const controller = new AbortController()
    const pending = client.jobs.get('job_1', { signal: controller.signal })
    await manual.tickAsync(0)
    expect(fetch.calls).toHaveLength(1)
    const reason = new Error('stop')
    controller.abort(reason)
    await expect(pending).rejects.toBe(reason)
    await manual.tickAsync(60_000)
    expect(fetch.calls).toHaveLength(1)
    expect(manual.pending()).toBe(0)
  })

  it('should give up after maxRetries with the last error', async () => {
    const { client, fetch, manual } = setup(() => problemResponse(500, 'down'), {
      retry: { maxRetries: 2 },
    })
    await expect(drive(manual, client.jobs.get('job_1'))).rejects.toSatisfy(isServerError)
    expect(fetch.calls).toHaveLength(3)
  })

  it('should not retry a client error', async () => {
    const { client, fetch } = setup(() => problemResponse(404, 'nope'))
    await expect(client.jobs.get('job_1')).rejects.toSatisfy(isNotFoundError)
    expect(fetch.calls).toHaveLength(1)
  })

  it('should stop retrying when the budget is spent, across requests', async () => {
    const { client, fetch, manual } = setup(() => problemResponse(503, 'down'), {
      retry: { maxRetries: 10, budget: { maxTokens: 10, tokenRatio: 0.1 } },
    })
    for (let i = 0; i < 5; i++) await drive(manual, client.jobs.get('job_1')).catch(() => undefined)
    // 10 tokens; retries stop at 5 or fewer left: 4 retries, then one attempt per request.
    expect(fetch.calls).toHaveLength(4 + 5)
  })

  it('should wait out 429s and 503s that say when to come back, beyond maxRetries and the budget', async () => {
    let calls = 0
    // Each request meets five paced answers before its job.
    const { client, fetch, manual } = setup(
      () => (++calls % 6 === 0 ? json(jobBody()) : paced(calls % 2 === 0 ? 429 : 503, '1')),
      { retry: { maxRetries: 2, budget: { maxTokens: 2, tokenRatio: 0.1 } } },
    )
    for (let i = 0; i < 3; i++) {
      await expect(drive(manual, client.jobs.get('job_1'))).resolves.toMatchObject({ id: 'job_1' })
    }
    expect(fetch.calls).toHaveLength(3 * 6)
  })

  it('should back off even when a paced answer says to come back at once', async () => {
    const { client, fetch, manual } = setup(() => {
      return paced(429, '0')
    })
    const start = manual.now()
    await expect(drive(manual, client.jobs.get('job_1'))).rejects.toSatisfy(isRateLimitError)
    expect(fetch.calls).toHaveLength(MAX_PACED_RETRIES + 1)
    // 100, 200, 400 … ms (half of each jittered range), capped at 2.5 s: not 31 requests at once.
    expect(manual.now() - start).toBeGreaterThan(30_000)
  })

  it('should give up on a server that paces every answer, after MAX_PACED_RETRIES', async () => {
    const { client, fetch, manual } = setup(() => {
      return paced(429, '1')
    })
    await expect(drive(manual, client.jobs.get('job_1'))).rejects.toSatisfy(isRateLimitError)
    expect(fetch.calls).toHaveLength(MAX_PACED_RETRIES + 1)
  })

  it('should fail a call at once on a Retry-After longer than maxRetryAfterMs, not sleep in it', async () => {
    const slowDown = (after: string) => () => paced(429, after)
    const { client, fetch, manual } = setup(slowDown('86400'))
    const start = manual.now()
    await expect(drive(manual, client.jobs.get('job_1'))).rejects.toSatisfy(isRateLimitError)
    expect(fetch.calls).toHaveLength(1)
    expect(manual.now() - start).toBeLessThanOrEqual(1_000)
    // Raised, it is waited out again.
    const patient = setup(slowDown('120'), { retry: { maxRetryAfterMs: 300_000 } })
    const controller = new AbortController()
    const got = patient.client.jobs.get('job_1', { signal: controller.signal })
    got.catch(() => {})
    for (let i = 0; i < 20; i++) await patient.manual.tickAsync(10_000)
    expect(patient.fetch.calls).toHaveLength(2)
    controller.abort()
  })

  it('should not retry the create of createAndWait past its timeout, ending at once', async () => {
    const { client, fetch, manual } = setup(() => {
      return paced(429, '30')
    })
    const params = { video_url: 'https://example.com/a.mp4', target_language: 'es' }
    const start = manual.now()
    const made = client.jobs.createAndWait(params, { timeoutMs: 10_000 })
    // The server asked for 30 s, more than the 10 s left: the wait cannot make it.
    const error = await drive(manual, made).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TimeoutError)
    expect((error as TimeoutError).cause).toSatisfy(isRateLimitError)
    expect(fetch.calls).toHaveLength(1)
    expect(manual.now() - start).toBeLessThanOrEqual(1_000)
  })

  it('should retry a create, which always carries an idempotency key, with the same key', async () => {
    let calls = 0
    const { client, fetch, manual } = setup(() =>
      ++calls === 1 ? problemResponse(502, 'bad gateway') : json(jobBody(), 202),
    )
    await drive(
      manual,
      client.jobs.create({ video_url: 'https://example.com/a.mp4', target_language: 'es' }),
    )
    const keys = fetch.calls.map((call) => call.headers.get('idempotency-key'))
    expect(keys).toHaveLength(2)
    expect(keys[0]).toBe(keys[1])
  })
})

describe('the create a wait follows', () => {
  const params = { video_url: 'https://example.com/a.mp4', target_language: 'es' }
  const failingCreates = (failures: number) => {
    let posts = 0
    return (call: FetchCall) => {
      if (call.method !== 'POST')
        return json(
          jobBody({ status: 'completed', result: { url: 'https://example.com/out.mp4' } }),
        )
      return ++posts <= failures ? problemResponse(500, 'oops') : json(jobBody(), 202)
    }
  }

  it('should be made again, with the same key, when its request’s retries ran out', async () => {
    const { client, fetch, manual } = setup(failingCreates(6))
    const done = await drive(manual, client.jobs.createAndWait(params), 1_000, 120)
    expect(done.status).toBe('completed')
    const posts = fetch.calls.filter((call) => call.method === 'POST')
    expect(posts).toHaveLength(7)
    expect(new Set(posts.map((call) => call.headers.get('idempotency-key'))).size).toBe(1)
  })

  it('should give up after maxConsecutiveErrors tries, where jobs.create gives up after one', async () => {
    const { client, fetch, manual } = setup(failingCreates(Number.POSITIVE_INFINITY))
    await expect(drive(manual, client.jobs.create(params))).rejects.toSatisfy(isServerError)
    expect(fetch.calls).toHaveLength(4)
    const made = client.jobs.createAndWait(params, { maxConsecutiveErrors: 3 })
    await expect(drive(manual, made, 1_000, 120)).rejects.toSatisfy(isServerError)
    expect(fetch.calls).toHaveLength(4 + 3 * 4)
  })

  it('should count each opening of the circuit once, and no refusal while another call probes', async () => {
    // Every create fails and opens the circuit (threshold 1): its opening, then the probe's.
    const failing = setup(failingCreates(Number.POSITIVE_INFINITY), {
      retry: { maxRetries: 0 },
      circuitBreaker: { failureThreshold: 1, resetTimeoutMs: 5_000 },
      pacing: false,
    })
    const made = failing.client.jobs.createAndWait(params, { maxConsecutiveErrors: 2 })
    await expect(drive(failing.manual, made, 500, 200)).rejects.toSatisfy(isServerError)
    expect(failing.fetch.calls.filter((call) => call.method === 'POST')).toHaveLength(2)
    // The circuit opened by a failed GET; another call's probe then hangs for its 10 s limit:
    // the create is refused meanwhile (counting nothing) and goes through after.
    let down = true
    const { client, fetch, manual } = setup(
      (call) => {
        if (call.method === 'POST') return json(jobBody({ id: 'job_new' }), 202)
        if (call.url.endsWith('/job_probe')) return hangUntilAborted(call)
        if (down) return problemResponse(503, 'down')
        return json(jobBody({ id: 'job_new', status: 'completed', result: { url: 'https://x/y' } }))
      },
      {
        retry: { maxRetries: 0 },
        circuitBreaker: { failureThreshold: 1, resetTimeoutMs: 2_000 },
        pacing: false,
        transport: 'poll',
      },
    )
    await client.jobs.get('job_1').catch(() => {})
    down = false
    manual.schedule(2_000, () => void client.jobs.get('job_probe').catch(() => {}))
    const waited = client.jobs.createAndWait(params, { maxConsecutiveErrors: 4 })
    await expect(drive(manual, waited, 250, 200)).resolves.toMatchObject({ status: 'completed' })
    expect(fetch.calls.filter((call) => call.method === 'POST')).toHaveLength(1)
  })

  it('should wait out a Retry-After longer than the request waits out inside itself', async () => {
    let posts = 0
    const { client, manual } = setup((call) => {
      if (call.method !== 'POST') {
        return json(jobBody({ status: 'completed', result: { url: 'https://x/y' } }))
      }
      if (++posts > 1) return json(jobBody(), 202)
      return paced(503, '120', 'maintenance')
    })
    const made = client.jobs.createAndWait(params, { timeoutMs: 3_600_000 })
    await expect(drive(manual, made, 5_000, 100)).resolves.toMatchObject({ status: 'completed' })
    expect(posts).toBe(2)
  })

  it('should fail calls at once, unsent, while the server said it is unavailable for longer than they wait', async () => {
    // Down for maintenance for two minutes from the first request on, saying what is left.
    const sentAt: number[] = []
    let start: number | undefined
    const { client, fetch, manual } = setup(() => {
      start ??= manual.now()
      const at = manual.now() - start
      sentAt.push(at)
      const left = Math.ceil((120_000 - at) / 1_000)
      return left > 0 ? paced(503, String(left), 'maintenance') : json(jobBody())
    })
    const settled = (p: Promise<unknown>) =>
      p.then(
        () => 'resolved',
        (e: unknown) => e,
      )
    const calls = [
      client.jobs.get('job_1'),
      client.jobs.get('job_2'),
      client.jobs.create({ video_url: 'https://x/v.mp4', target_language: 'fr' }),
    ].map(settled)
    await manual.tickAsync(100)
    const errors = await Promise.all(calls)
    // The first was answered 503; the others, queued behind it, fail with its word, unsent.
    expect(fetch.calls).toHaveLength(1)
    for (const error of errors) {
      expect(isServerError(error)).toBe(true)
      expect((error as ServerError).retryAfterMs).toBeGreaterThan(119_000)
    }
    expect((errors[1] as Error).message).toMatch(/^GET \/v1\/jobs\/job_2 .*not sent.*12[01] s more/)
    expect((errors[2] as Error).message).toMatch(/^POST \/v1\/jobs /)
    // Made later, still unsent and at once.
    await manual.tickAsync(30_000)
    const later = settled(client.jobs.get('job_1'))
    await manual.tickAsync(1)
    expect(isServerError(await later)).toBe(true)
    expect(fetch.calls).toHaveLength(1)
    // Requests are held a minute at most (then one goes alone to see), and a call that would
    // wait out what is left of the server's word then waits.
    await manual.tickAsync(31_000)
    const waited = settled(client.jobs.get('job_1'))
    await manual.tickAsync(120_000)
    expect(await waited).toBe('resolved')
    // Sent once the hold ended (told 59 s more: waited out inside the call), then at the end.
    expect(sentAt).toHaveLength(3)
    expect(sentAt[1]).toBeGreaterThanOrEqual(60_000)
    expect(sentAt[2]).toBeGreaterThanOrEqual(120_000)
  })

  it('should let calls queued behind a 503 asking for just maxRetryAfterMs wait it out', async () => {
    let first = true
    const { client, manual } = setup((call) => {
      if (!first) return json(jobBody({ id: new URL(call.url).pathname.split('/').pop() }))
      first = false
      return paced(503, '60', 'maintenance')
    })
    const calls = ['job_1', 'job_2'].map((id) => client.jobs.get(id).then(() => 'ok'))
    // (Not the spread of a second at random the hold adds: the server's word is 60 s.)
    await expect(drive(manual, Promise.all(calls), 1_000, 300)).resolves.toEqual(['ok', 'ok'])
  })

  it('should not take a 404 after a 503’s pause for the server being back', async () => {
    // 503 with `Retry-After: 10` for a minute, but a stale id outside the maintenance: 404.
    let start: number | undefined
    let unavailable = 0
    const { client, manual } = setup(
      async (call) => {
        start ??= manual.now()
        await sleep(manual, 5)
        const id = new URL(call.url).pathname.split('/').pop()
        if (id === 'gone') return problemResponse(404, 'Not Found')
        if (manual.now() - start >= 60_000) return json(jobBody({ id }))
        unavailable++
        return paced(503, '10', 'maintenance')
      },
      { transport: 'poll', retry: { maxRetryAfterMs: 120_000 } },
    )
    const first = client.jobs.get('job_0')
    await manual.tickAsync(100)
    // After each pause, the stale id goes first (alone), 100 gets queued behind it.
    const gets: Promise<unknown>[] = []
    for (let round = 0; round < 5; round++) {
      void client.jobs.get('gone').catch(() => undefined)
      await manual.tickAsync(10)
      if (round === 0) for (let i = 1; i <= 100; i++) gets.push(client.jobs.get(`job_${i}`))
      await manual.tickAsync(9_990)
    }
    const settled = await drive(manual, Promise.allSettled([first, ...gets]), 1_000, 300)
    expect(settled.every((s) => s.status === 'fulfilled')).toBe(true)
    // The queue let go after each 404 drew 406 503s (each pause: one alone, then the rest).
    expect(unavailable).toBeLessThanOrEqual(20)
  })

  it('should check a waitAll’s jobs when the server said, after the turn they waited for was refused', async () => {
    let start: number | undefined
    const completed = (id: string | undefined) =>
      jobBody({ id, status: 'completed', result: { url: 'https://x/y' } })
    const { client, manual } = setup(async (call) => {
      start ??= manual.now()
      const at = manual.now() - start
      const url = new URL(call.url)
      // The first request hangs 5 s, then says two minutes; every other until then says what is left.
      if (url.pathname === '/v1/jobs/z') {
        await sleep(manual, 5_000)
        return paced(503, '120', 'maintenance')
      }
      if (at < 125_000) return paced(503, String(Math.ceil((125_000 - at) / 1_000)), 'maintenance')
      if (url.pathname !== '/v1/jobs') return json(completed(url.pathname.split('/').pop()))
      const ids = (url.searchParams.get('ids') ?? '').split(',')
      return json({ jobs: ids.map(completed), missing: [] })
    })
    const z = client.jobs.get('z').catch((e: unknown) => e)
    await manual.tickAsync(100)
    // Queued behind it: turns are short, so the waitAll's check is gathered for a turn.
    const y = client.jobs.get('y').catch((e: unknown) => e)
    await manual.tickAsync(900)
    const all = client.jobs.waitAll(['c', 'd'])
    const settled = await drive(manual, all, 10_000, 100)
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled'])
    expect(isServerError(await z)).toBe(true)
    expect(isServerError(await y)).toBe(true)
  })

  it('should let a createAndWait wait out a long unavailability its deadline allows', async () => {
    const posts: number[] = []
    let start: number | undefined
    const { client, manual } = setup((call) => {
      start ??= manual.now()
      const down = manual.now() - start < 120_000
      if (call.method === 'POST') posts.push(manual.now() - start)
      if (down) return paced(503, '120', 'maintenance')
      if (call.method === 'POST') return json(jobBody(), 202)
      return json(jobBody({ status: 'completed', result: { url: 'https://x/y' } }))
    })
    const made = [1, 2].map(() => client.jobs.createAndWait(params, { timeoutMs: 3_600_000 }))
    await expect(drive(manual, Promise.all(made), 5_000, 100)).resolves.toHaveLength(2)
    // The second create waited in its queue: not refused, not sent while requests were held.
    expect(posts.filter((at) => at < 60_000)).toHaveLength(1)
  })

  it('should end with a TimeoutError when refused with Retry-After until its deadline', async () => {
    // A short Retry-After too: the request's own backoff, not the hint, meets the deadline.
    for (const retryAfter of ['3', '0']) {
      const { client, fetch, manual } = setup(() => {
        return paced(429, retryAfter, 'Too Many Requests')
      })
      const made = client.jobs.createAndWait(params, { timeoutMs: 20_000 })
      const error = await drive(manual, made, 1_000, 100).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(TimeoutError)
      expect((error as TimeoutError).cause).toSatisfy(isRateLimitError)
      expect(fetch.calls.length).toBeGreaterThan(3)
      expect(fetch.calls.every((call) => call.method === 'POST')).toBe(true)
    }
  })

  it('should time a resubmit out at a resume token’s deadline, with the job that failed', async () => {
    const failed = jobBody({ status: 'error', error: { code: 'x', message: 'broken' } })
    const { client, manual } = setup((call) =>
      call.method === 'POST' ? problemResponse(500, 'oops') : json(failed),
    )
    const watch = client.jobs.watch('job_1', { timeoutMs: 20_000 })
    const token = watch.resumeToken()
    await watch.return()
    const waited = client.jobs.wait('job_1', { resume: token, retryOnError: true })
    const error = await drive(manual, waited, 1_000, 100).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TimeoutError)
    expect((error as TimeoutError).job).toMatchObject({ id: 'job_1', status: 'error' })
    expect((error as Error).message).toMatch(
      /deadline its resume token carried(: [^;]+)?; its last request failed: .*500/,
    )
  })

  it('should reject at once, sending nothing, when its signal is already aborted', async () => {
    // Another request is out, which the pacer's first turn waits for: not this call.
    const { client, fetch, manual } = setup((call) =>
      call.method === 'GET' ? hangUntilAborted(call) : json(jobBody(), 202),
    )
    const looking = client.jobs.get('job_x').catch(() => {})
    let settled: unknown = 'pending'
    const signal = AbortSignal.abort('gone')
    client.jobs.createAndWait(params, { signal, timeoutMs: 60_000 }).catch((e: unknown) => {
      settled = e
    })
    await manual.tickAsync(0)
    expect(settled).toBe('gone')
    expect(fetch.calls.filter((call) => call.method === 'POST')).toHaveLength(0)
    await drive(manual, looking)
  })

  it('should wait out a short Retry-After its request did not (maxRetries: 0)', async () => {
    let posts = 0
    const { client, manual } = setup(
      (call) => {
        if (call.method !== 'POST') {
          return json(jobBody({ status: 'completed', result: { url: 'https://x/y' } }))
        }
        if (++posts > 1) return json(jobBody(), 202)
        return paced(429, '1', 'Too Many Requests')
      },
      { retry: { maxRetries: 0 } },
    )
    const made = client.jobs.createAndWait(params, { timeoutMs: 3_600_000 })
    await expect(drive(manual, made, 1_000, 100)).resolves.toMatchObject({ status: 'completed' })
    expect(posts).toBe(2)
  })

  it('should not be made again past its wait’s deadline (a TimeoutError), nor for a refusal', async () => {
    let respond = failingCreates(Number.POSITIVE_INFINITY)
    const { client, fetch, manual } = setup((call) => respond(call))
    const start = manual.now()
    const made = client.jobs.createAndWait(params, { timeoutMs: 8_000 })
    const error = await drive(manual, made, 500, 100).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TimeoutError)
    expect(error).toMatchObject({ scope: 'wait', reason: 'deadline', timeoutMs: 8_000 })
    expect((error as TimeoutError).cause).toSatisfy(isServerError)
    expect((error as Error).message).toMatch(
      /before the wait's deadline \(timeoutMs: 8000 ms\): too little time left for another try; its last request failed: .*500/,
    )
    expect(manual.now() - start).toBeLessThan(8_000)
    // Three tries of four attempts at most: the last with a second or more before the deadline.
    expect(fetch.calls.length).toBeLessThanOrEqual(12)
    fetch.calls.length = 0
    respond = () => problemResponse(422, 'no such language')
    await expect(drive(manual, client.jobs.createAndWait(params))).rejects.toMatchObject({
      status: 422,
    })
    expect(fetch.calls).toHaveLength(1)
  })
})

describe('RetryBudget', () => {
  it('should allow retries while more than half the tokens are left, and earn them back', () => {
    const budget = new RetryBudget({ maxTokens: 4, tokenRatio: 0.5 })
    expect(budget.spend()).toBe(true)
    expect(budget.spend()).toBe(false)
    for (let i = 0; i < 4; i++) budget.earn()
    expect(budget.spend()).toBe(true)
  })

  it('should never refuse when turned off', () => {
    const budget = new RetryBudget(false)
    for (let i = 0; i < 1_000; i++) expect(budget.spend()).toBe(true)
  })
})

describe('secrets', () => {
  it('should keep the API key out of errors, events and log lines', async () => {
    const logged: string[] = []
    const emitted: unknown[] = []
    let calls = 0
    const { client, manual } = setup(
      () => (++calls % 2 ? problemResponse(503, 'busy') : problemResponse(401, 'no')),
      {
        logger: {
          debug: (m, d) => logged.push(m + JSON.stringify(d)),
          error: (m, d) => logged.push(m + JSON.stringify(d)),
        },
      },
    )
    for (const type of ['request:retry', 'request:error'] as const)
      client.on(type, (e) => emitted.push(e))
    const error = await drive(manual, client.jobs.get('job_1')).catch((e: unknown) => e)
    const everything = JSON.stringify([
      String(error),
      (error as Error).message,
      emitted.map(String),
      logged,
      JSON.stringify(emitted),
    ])
    expect(emitted.length).toBeGreaterThan(0)
    expect(everything).not.toContain('secret_key_123')
  })
})
