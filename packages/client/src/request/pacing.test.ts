import { type ManualClock, sleep } from '@video-translation/mock-server'
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
import { type ClientOptions, createClient, createCore } from '../client.js'
import type { Clock } from '../clock.js'
import { request } from '../core.js'
import { isTimeoutError } from '../errors.js'
import { resolveOptions } from '../options.js'
import { fixedInterval } from '../polling/strategy.js'
import type { FetchLike } from './http.js'
import { Pacer } from './pacing.js'
import { PACED_FOR_MS } from './retry.js'

/** A server with a token bucket (`capacity`, `perS` a second) that states it as the mock does. */
function limitedServer(
  manual: ManualClock,
  capacity: number,
  perS: number,
  /** How long each answer takes to come back after the server counted the request. */
  latencyMs: () => number = () => 0,
  /** The job each answer carries. */
  jobOf: (call: FetchCall) => Record<string, unknown> = () => jobBody(),
) {
  let tokens = capacity
  let at = manual.now()
  let refused = 0
  const times: number[] = []
  const fetch = fakeFetch(async (call) => {
    const answer = count(call)
    const latency = latencyMs()
    if (latency > 0) await sleep(manual, latency)
    return answer
  })
  const count = (call: FetchCall) => {
    times.push(manual.now())
    tokens = Math.min(capacity, tokens + ((manual.now() - at) / 1_000) * perS)
    at = manual.now()
    const headers = {
      'ratelimit-policy': `"default";q=${capacity};w=${Math.ceil(capacity / perS)}`,
      ratelimit: `"default";r=${Math.max(0, Math.floor(tokens - 1))};t=1`,
    }
    if (tokens < 1) {
      refused++
      const response = problemResponse(429, 'Too Many Requests')
      for (const [k, v] of Object.entries({ ...headers, 'retry-after': '1' })) {
        response.headers.set(k, v)
      }
      return response
    }
    tokens -= 1
    return json(jobOf(call), 200, headers)
  }
  return { fetch, refused: () => refused, times }
}

/**
 * Waits that poll every second against `limitedServer(capacity, perS)`: job `endingId` ends at
 * `endsAtMs` from now, every other job runs on.
 */
function busyPolling(
  capacity: number,
  perS: number,
  endingId: string,
  endsAtMs: number,
  options: Partial<ClientOptions> = {},
) {
  const { manual, clock } = virtualClock()
  const start = manual.now()
  const jobOf = (call: FetchCall) => {
    const id = new URL(call.url).pathname.split('/').pop() as string
    const done = id === endingId && manual.now() - start >= endsAtMs
    return jobBody({ id, status: done ? 'completed' : 'running', eta_ms: null })
  }
  const server = limitedServer(manual, capacity, perS, () => 0, jobOf)
  const client = createClient({
    baseUrl: 'http://api.test',
    fetch: server.fetch,
    clock,
    circuitBreaker: false,
    polling: fixedInterval(1_000),
    transport: 'poll',
    ...options,
  })
  return { manual, start, server, client }
}

function setup(fetch: FetchLike, options: Partial<ClientOptions> = {}) {
  const { manual, clock } = virtualClock()
  const client = createClient({
    baseUrl: 'http://api.test',
    fetch,
    clock,
    circuitBreaker: false,
    ...options,
  })
  return { client, manual }
}

/** A seeded source of uniform numbers in [0, 1): each client its own. */
function seeded(seed: number): () => number {
  let state = seed * 2_654_435_761 + 1
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31
    return state / 2 ** 31
  }
}

/** Settles `promises`, moving virtual time in 100 ms steps (at most a minute). */
function driveAll(manual: ReturnType<typeof virtualClock>['manual'], promises: Promise<unknown>[]) {
  return drive(manual, Promise.allSettled(promises), 100, 600)
}

/**
 * A wait on job_1 (which `fetch`'s server ends 10 s after now) checked every second, and 30
 * creates from its second second on: when the wait learned of the end, in ms from now (every
 * create made).
 */
async function checksBesideCreates(manual: ManualClock, clock: Clock, fetch: FetchLike) {
  const start = manual.now()
  const client = createClient({
    baseUrl: 'http://api.test',
    fetch,
    clock,
    transport: 'poll',
    polling: fixedInterval(1_000),
  })
  const wait = client.jobs.wait('job_1', { timeoutMs: 120_000 })
  await manual.tickAsync(1_000)
  const params = { video_url: 'https://example.com/a.mp4', target_language: 'es' }
  const made = Array.from({ length: 30 }, () => client.jobs.create(params))
  await expect(drive(manual, wait, 100, 1_200)).resolves.toMatchObject({ status: 'completed' })
  const knownAt = manual.now() - start
  const results = await drive(manual, Promise.allSettled(made), 100, 1_200)
  expect(results.every((r) => r.status === 'fulfilled')).toBe(true)
  return knownAt
}

/**
 * A token bucket of `capacity`, `perS` a second, that states no limit: its refusals are 429s
 * with `retryAfter`, or bare ones.
 */
function silentBucket(manual: ManualClock, capacity: number, perS: number, retryAfter?: string) {
  let tokens = capacity
  let at = manual.now()
  let refused = 0
  const fetch = fakeFetch(() => {
    tokens = Math.min(capacity, tokens + ((manual.now() - at) / 1_000) * perS)
    at = manual.now()
    if (tokens < 1) {
      refused++
      const headers: Record<string, string> = retryAfter ? { 'retry-after': retryAfter } : {}
      return new Response('Too Many Requests', { status: 429, headers })
    }
    tokens -= 1
    return json(jobBody())
  })
  return { fetch, refused: () => refused }
}

/**
 * A server with a fixed window (`limit` requests per `windowS`) that states it in an older
 * dialect, and refuses with a 429 that carries no `Retry-After`.
 */
function fixedWindowServer(
  manual: ManualClock,
  limit: number,
  windowS: number,
  dialect: 'x-ratelimit' | 'ratelimit-*',
  /** Whether only its refusals say so (a server that states its limit once it is reached). */
  onRefusalOnly = false,
) {
  const start = manual.now()
  let window = 0
  let used = 0
  let refused = 0
  const fetch = fakeFetch(() => {
    const elapsed = manual.now() - start
    const current = Math.floor(elapsed / (windowS * 1_000))
    if (current !== window) {
      window = current
      used = 0
    }
    const resetS = Math.ceil(((current + 1) * windowS * 1_000 - elapsed) / 1_000)
    const ok = used < limit
    if (ok) used++
    const prefix = dialect === 'x-ratelimit' ? 'x-ratelimit' : 'ratelimit'
    const headers = {
      [`${prefix}-limit`]: String(limit),
      [`${prefix}-remaining`]: String(limit - used),
      // GitHub's form: the reset as an epoch time in seconds.
      [`${prefix}-reset`]: String(
        dialect === 'x-ratelimit' ? Math.ceil(manual.now() / 1_000) + resetS : resetS,
      ),
    }
    if (ok) return json(jobBody(), 200, onRefusalOnly ? {} : headers)
    refused++
    const response = problemResponse(429, 'Too Many Requests')
    for (const [k, v] of Object.entries(headers)) response.headers.set(k, v)
    return response
  })
  return { fetch, refused: () => refused }
}

describe('pacing', () => {
  it('should count the requests still in flight against what an answer says is left', async () => {
    const { manual, clock } = virtualClock()
    // Answers come back 20-300 ms after the server counted them, out of order.
    let n = 0
    const server = limitedServer(manual, 100, 50, () => 20 + ((n++ * 97) % 280))
    const client = createClient({ baseUrl: 'http://api.test', fetch: server.fetch, clock })
    const gets = Array.from({ length: 400 }, () => client.jobs.get('job_1'))
    const results = await driveAll(manual, gets)
    expect(results.every((r) => r.status === 'fulfilled')).toBe(true)
    expect(server.refused()).toBe(0)
  })

  it('should keep 300 concurrent requests within the stated limit: none refused, none failed', async () => {
    const { manual, clock } = virtualClock()
    const server = limitedServer(manual, 100, 50)
    const client = createClient({ baseUrl: 'http://api.test', fetch: server.fetch, clock })
    const start = manual.now()
    const sentAt: number[] = []
    const gets = Array.from({ length: 300 }, () =>
      client.jobs.get('job_1').then(() => sentAt.push(manual.now() - start)),
    )
    const results = await driveAll(manual, gets)
    expect(results.every((r) => r.status === 'fulfilled')).toBe(true)
    expect(server.refused()).toBe(0)
    expect(server.fetch.calls).toHaveLength(300)
    // A burst of 100, then 50 a second: the last at about 4 s.
    expect(Math.max(...sentAt)).toBeGreaterThanOrEqual(3_800)
    expect(Math.max(...sentAt)).toBeLessThanOrEqual(4_500)
  })

  it.each(['x-ratelimit', 'ratelimit-*'] as const)(
    'should keep 300 requests within a fixed window stated in the %s headers, none failed',
    async (dialect) => {
      const { manual, clock } = virtualClock()
      const server = fixedWindowServer(manual, 100, 2, dialect)
      const client = createClient({ baseUrl: 'http://api.test', fetch: server.fetch, clock })
      const gets = Array.from({ length: 300 }, () => client.jobs.get('job_1'))
      const results = await driveAll(manual, gets)
      expect(results.every((r) => r.status === 'fulfilled')).toBe(true)
      // At most a refusal or two a window, where the window's length is still a guess.
      expect(server.refused()).toBeLessThanOrEqual(6)
    },
  )

  it('should share a stated limit with other clients of it, neither failing nor hammering it', async () => {
    const { manual, clock } = virtualClock()
    // 20 processes with one key: a burst of 10, then 2 requests a second for all of them.
    const server = limitedServer(manual, 10, 2, () => 20)
    const clients = Array.from({ length: 20 }, (_, i) =>
      createClient({ baseUrl: 'http://api.test', fetch: server.fetch, clock, random: seeded(i) }),
    )
    const gets = clients.flatMap((client) =>
      Array.from({ length: 10 }, () => client.jobs.get('job_1')),
    )
    const start = manual.now()
    const results = await drive(manual, Promise.allSettled(gets), 100, 3_000)
    expect(results.filter((r) => r.status === 'rejected')).toEqual([])
    // 200 requests: 10 at once, then 95 s at 2 a second; each refused once on average at most
    // (each client alone at the whole rate: several times each).
    expect(server.refused()).toBeLessThanOrEqual(200)
    expect(manual.now() - start).toBeLessThanOrEqual(125_000)
  }, 30_000)

  it('should not take a refusal that says tokens are left for a limit shared with others', async () => {
    const { manual, clock } = virtualClock()
    let n = 0
    const headers = { 'ratelimit-policy': '"default";q=100;w=2', ratelimit: '"default";r=90;t=1' }
    // Every tenth request refused (a fault, a quota of another kind), with plenty left.
    const fetch = fakeFetch(() => {
      if (++n % 10 !== 0) return json(jobBody(), 200, headers)
      const response = problemResponse(429, 'Too Many Requests')
      for (const [k, v] of Object.entries({ ...headers, 'retry-after': '0' })) {
        response.headers.set(k, v)
      }
      return response
    })
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock })
    const start = manual.now()
    const gets = Array.from({ length: 200 }, () => client.jobs.get('job_1'))
    const results = await drive(manual, Promise.allSettled(gets), 100, 600)
    expect(results.every((r) => r.status === 'fulfilled')).toBe(true)
    // At the stated 50 a second: a few seconds, not the minute a halved share would take.
    expect(manual.now() - start).toBeLessThanOrEqual(8_000)
  })

  it('should give up on a request a stated limit keeps refusing within minutes, not half an hour', async () => {
    const { manual, clock } = virtualClock()
    const fetch = fakeFetch(() => {
      const response = problemResponse(429, 'Too Many Requests')
      response.headers.set('ratelimit-policy', '"default";q=10;w=10')
      response.headers.set('ratelimit', '"default";r=0;t=1')
      response.headers.set('retry-after', '1')
      return response
    })
    const params = { video_url: 'https://example.com/a.mp4', target_language: 'es' }
    // Its share of the limit halved at each refusal: tries 1, 2, 4… 64 s apart, for 5 minutes;
    // so for a createAndWait without a timeout.
    for (const call of ['create', 'createAndWait'] as const) {
      const client = createClient({ baseUrl: 'http://api.test', fetch, clock })
      const start = manual.now()
      const sent = fetch.calls.length
      const create = client.jobs[call](params).catch((e: unknown) => e)
      expect(await drive(manual, create, 1_000, 600)).toMatchObject({ status: 429 })
      expect(manual.now() - start).toBeLessThanOrEqual(PACED_FOR_MS + 65_000)
      expect(fetch.calls.length - sent).toBeGreaterThanOrEqual(8)
    }
  })

  it('should not count a refused request’s wait behind its own client’s queue against it', async () => {
    const { manual, clock } = virtualClock()
    const headers = { 'ratelimit-policy': '"default";q=1;w=1', ratelimit: '"default";r=0;t=1' }
    let posts = 0
    // The client's own 330 requests fill its queue at a request a second; its create is refused
    // once (another process took the token) and must wait behind them all: longer than 5 min.
    const fetch = fakeFetch((call) => {
      if (call.method === 'POST' && ++posts === 1) {
        const response = problemResponse(429, 'Too Many Requests')
        for (const [k, v] of Object.entries({ ...headers, 'retry-after': '1' })) {
          response.headers.set(k, v)
        }
        return response
      }
      return json(jobBody(), 200, headers)
    })
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock })
    await drive(manual, client.jobs.get('job_1'), 1_000, 5)
    const params = { video_url: 'https://example.com/a.mp4', target_language: 'es' }
    const create = client.jobs.create(params)
    await manual.tickAsync(0)
    const gets = Array.from({ length: 330 }, () => client.jobs.get('job_1'))
    const results = await drive(manual, Promise.allSettled([create, ...gets]), 1_000, 900)
    expect(results[0]).toMatchObject({ status: 'fulfilled' })
    expect(posts).toBe(2)
  }, 30_000)

  it('should wait out paced refusals of a createAndWait’s create until its deadline, however many', async () => {
    const { manual, clock } = virtualClock()
    let posts = 0
    const fetch = fakeFetch((call) => {
      if (call.method === 'POST' && ++posts <= 40) {
        const response = problemResponse(429, 'Too Many Requests')
        response.headers.set('retry-after', '1')
        return response
      }
      return json(jobBody({ status: call.method === 'POST' ? 'pending' : 'completed' }), 200)
    })
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock, transport: 'poll' })
    const params = { video_url: 'https://example.com/a.mp4', target_language: 'es' }
    const done = client.jobs.createAndWait(params, { timeoutMs: 600_000 })
    await expect(drive(manual, done, 1_000, 600)).resolves.toMatchObject({ status: 'completed' })
    expect(posts).toBe(41)
    // A create alone gives up after MAX_PACED_RETRIES, and so does one without a deadline (a
    // quota used up must not hold it for ever).
    for (const call of [
      () => client.jobs.create(params),
      () => client.jobs.createAndWait(params),
    ]) {
      posts = 0
      const alone = call().catch((e: unknown) => e)
      expect(await drive(manual, alone, 1_000, 600)).toMatchObject({ status: 429 })
      expect(posts).toBe(31)
    }
  })

  it('should wait out a 429 that says only when its window resets, and fail one that says nothing', async () => {
    const refusal = (reset: string | undefined) => {
      const response = problemResponse(429, 'Too Many Requests')
      if (reset !== undefined) response.headers.set('ratelimit-reset', reset)
      return response
    }
    let calls = 0
    const fetch = fakeFetch(() => (++calls <= 6 ? refusal('3') : json(jobBody())))
    const { client, manual } = setup(fetch, { retry: { maxRetries: 1 } })
    const start = manual.now()
    await expect(drive(manual, client.jobs.get('job_1'))).resolves.toMatchObject({ id: 'job_1' })
    expect(fetch.calls).toHaveLength(7)
    expect(manual.now() - start).toBeGreaterThanOrEqual(6 * 3_000)
    // A quota used up says nothing of when: a failure, within maxRetries.
    const bare = fakeFetch(() => refusal(undefined))
    const other = setup(bare, { retry: { maxRetries: 1 } })
    await expect(drive(other.manual, other.client.jobs.get('job_1'))).rejects.toMatchObject({
      status: 429,
    })
    expect(bare.calls).toHaveLength(2)
  })

  it.each([
    ['seconds from now', () => '3600'],
    ['an epoch time in seconds', (now: number) => String(Math.ceil(now / 1_000) + 3_600)],
    ['an epoch time in milliseconds', (now: number) => String(now + 3_600_000)],
  ])('should fail a call, not sleep, on a reset an hour away as %s', async (_, reset) => {
    const { manual, clock } = virtualClock()
    const fetch = fakeFetch(() => {
      const response = problemResponse(429, 'Too Many Requests')
      response.headers.set('x-ratelimit-reset', reset(manual.now()))
      return response
    })
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock })
    const start = manual.now()
    await expect(drive(manual, client.jobs.get('job_1'))).rejects.toMatchObject({ status: 429 })
    expect(fetch.calls).toHaveLength(1)
    // The next call is not queued behind the hour: it waits a minute at most, then asks.
    const next = client.jobs.get('job_1').catch((e: unknown) => e)
    await drive(manual, next, 1_000, 120)
    expect(fetch.calls).toHaveLength(2)
    expect(manual.now() - start).toBeLessThanOrEqual(61_000)
  })

  it.each([
    ['a Retry-After date', 'retry-after'],
    ['an epoch reset', 'x-ratelimit-reset'],
  ])('should read %s against the answer’s Date, on a server an hour ahead', async (_, header) => {
    const { manual, clock } = virtualClock()
    const serverNow = () => manual.now() + 3_600_000
    const fetch = fakeFetch(() => {
      if (fetch.calls.length > 1) return json(jobBody())
      const response = problemResponse(429, 'Too Many Requests')
      const at = serverNow() + 2_000
      const value = header === 'retry-after' ? new Date(at).toUTCString() : String(at / 1_000)
      response.headers.set(header, value)
      response.headers.set('date', new Date(serverNow()).toUTCString())
      return response
    })
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock })
    const start = manual.now()
    await expect(drive(manual, client.jobs.get('job_1'), 100, 600)).resolves.toMatchObject({
      id: 'job_1',
    })
    expect(fetch.calls).toHaveLength(2)
    expect(manual.now() - start).toBeGreaterThanOrEqual(2_000)
    expect(manual.now() - start).toBeLessThanOrEqual(3_000)
  })

  it('should learn the limit of a server that states none and refuses with bare 429s', async () => {
    const { manual, clock } = virtualClock()
    // A token bucket of 20, 10 a second, that says nothing of it: no headers, no Retry-After.
    const { fetch, refused } = silentBucket(manual, 20, 10)
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock })
    const start = manual.now()
    const gets = Array.from({ length: 200 }, () => client.jobs.get('job_1'))
    const results = await drive(manual, Promise.allSettled(gets), 100, 1_200)
    expect(results.every((r) => r.status === 'fulfilled')).toBe(true)
    // The first burst (199 at once, after the first request found no limit stated) is refused
    // beyond the bucket; the retries after it are paced: few are refused again.
    expect(refused()).toBeLessThanOrEqual(200)
    // About as fast as the limit allows: 20 at once, then 10 a second.
    expect(manual.now() - start).toBeLessThanOrEqual(30_000)
  })

  it('should pace the retries of 429s that say when to come back, where no limit is stated', async () => {
    const { manual, clock } = virtualClock()
    // A token bucket of 5, 5 a second, that refuses with `Retry-After: 1` and states no limit.
    const { fetch, refused } = silentBucket(manual, 5, 5, '1')
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock })
    await drive(manual, client.jobs.get('job_1'))
    const start = manual.now()
    const gets = Array.from({ length: 60 }, () => client.jobs.get('job_1'))
    const results = await drive(manual, Promise.allSettled(gets), 100, 600)
    expect(results.every((r) => r.status === 'fulfilled')).toBe(true)
    // The first burst is refused past the bucket (55); the retries, each after its Retry-After,
    // go at the rate learned (they all came back at once each second: 251 refusals).
    expect(refused()).toBeLessThanOrEqual(70)
    expect(manual.now() - start).toBeLessThanOrEqual(40_000)
  })

  it('should not slow waits for long after a few seconds of refused reads, where no limit is stated', async () => {
    const { manual, clock } = virtualClock()
    const start = manual.now()
    // Every read refused for 5 s (`Retry-After: 1`), creates answered; no streams (a 404
    // worded as the endpoint's), held requests answered at once; jobs of 4 s.
    const made = new Map<string, number>()
    const view = (id: string) => {
      const at = made.get(id) ?? start
      const done = manual.now() - at >= 4_000
      const updated = new Date(done ? at + 4_000 : at).toISOString()
      const status = done ? 'completed' : 'running'
      return jobBody({
        id,
        status,
        eta_ms: null,
        created_at: new Date(at).toISOString(),
        updated_at: updated,
      })
    }
    // Creates answered in 30 ms, reads in 5: the first refusal comes before most creates'
    // answers.
    const fetch = fakeFetch(async (call) => {
      await sleep(manual, call.method === 'POST' ? 30 : 5)
      if (call.method === 'POST') {
        const id = `job_${made.size + 1}`
        made.set(id, manual.now())
        return json(view(id), 202)
      }
      if (manual.now() - start < 5_000) {
        return json({ title: 'Too Many Requests', status: 429 }, 429, { 'retry-after': '1' })
      }
      const url = new URL(call.url)
      if (url.pathname.endsWith('/events')) return problemResponse(404, 'Not Found')
      const ids = url.searchParams.get('ids')?.split(',')
      if (ids) return json({ jobs: ids.map(view), missing: [] })
      return json(view(url.pathname.split('/').at(-1) as string))
    })
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock })
    const params = { video_url: 'https://example.com/a.mp4', target_language: 'es' }
    const waits = Array.from({ length: 20 }, () => client.jobs.createAndWait(params))
    const results = await driveAll(manual, waits)
    expect(results.every((r) => r.status === 'fulfilled')).toBe(true)
    // The limit learned from the refusals (a request every 2-4 s) rose only with answers of
    // 200: the streams' 404s never raised it, and not all were known within a minute (94 s
    // over loopback); now 33 s.
    expect(manual.now() - start).toBeLessThanOrEqual(40_000)
  })

  it('should not hold other requests back for a Retry-After on one route where no limit is stated', async () => {
    const { manual, clock } = virtualClock()
    const start = manual.now()
    // The quota of creates is used up for the hour; status checks are answered.
    const fetch = fakeFetch((call) => {
      if (call.method === 'POST') {
        return json({ title: 'quota', status: 429 }, 429, { 'retry-after': '3600' })
      }
      const done = manual.now() - start >= 5_000
      return json(jobBody({ status: done ? 'completed' : 'running', eta_ms: null }))
    })
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock, transport: 'poll' })
    const wait = client.jobs.wait('job_1', { timeoutMs: 30_000 })
    await manual.tickAsync(1_000)
    const params = { video_url: 'https://example.com/a.mp4', target_language: 'es' }
    const made = client.jobs.create(params).catch((e: unknown) => e)
    await expect(drive(manual, wait, 100, 400)).resolves.toMatchObject({ status: 'completed' })
    expect(await made).toMatchObject({ status: 429 })
    // Known soon after its end (the whole client was paused a minute: the wait timed out).
    expect(manual.now() - start).toBeLessThan(10_000)
  })

  for (const usedUp of [false, true]) {
    const first = usedUp ? ', its first create refused' : ''
    it(`should not slow status checks for a quota of creates where no limit is stated${first}`, async () => {
      const { manual, clock } = virtualClock()
      const start = manual.now()
      // A create a second at most (`Retry-After: 1` past it), used up when the creates come
      // (`usedUp`: by another process); status checks unlimited; job_1 ends at 10 s.
      let lastCreate = usedUp ? start + 500 : Number.NEGATIVE_INFINITY
      let refused = 0
      const fetch = fakeFetch((call) => {
        if (call.method === 'POST') {
          if (manual.now() - lastCreate < 1_000) {
            refused++
            return json({ title: 'Too Many Requests', status: 429 }, 429, { 'retry-after': '1' })
          }
          lastCreate = manual.now()
          return json(jobBody({ status: 'pending' }), 202)
        }
        const done = manual.now() - start >= 10_000
        return json(jobBody({ status: done ? 'completed' : 'running', eta_ms: null }))
      })
      // Known within two checks of its end (behind the creates, paced with them: at 30 s).
      expect(await checksBesideCreates(manual, clock, fetch)).toBeLessThanOrEqual(12_000)
      // The first burst's, and a few more: the creates are held to the rate learned (a limit
      // learned before any create was answered held nothing: 102 refusals).
      expect(refused).toBeLessThanOrEqual(40)
    })
  }

  it('should come back to a learned rate within seconds of a refusal', async () => {
    const { manual, clock } = virtualClock()
    // A token bucket of 5, 5 a second, that says nothing of it.
    const { fetch, refused } = silentBucket(manual, 5, 5)
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock })
    await drive(manual, client.jobs.get('job_1'))
    const start = manual.now()
    const gets = Array.from({ length: 150 }, () => client.jobs.get('job_1'))
    const results = await drive(manual, Promise.allSettled(gets), 100, 1_200)
    expect(results.every((r) => r.status === 'fulfilled')).toBe(true)
    // 30 s at the server's rate (30.4 s); raised by 0.1 request a second each second after
    // each refusal, the learned rate took 35.1 s.
    expect(manual.now() - start).toBeLessThanOrEqual(32_000)
    expect(refused()).toBeLessThanOrEqual(170)
  })

  it('should read a limit that only the refusals state, though the first answer stated none', async () => {
    const { manual, clock } = virtualClock()
    const server = fixedWindowServer(manual, 10, 10, 'x-ratelimit', true)
    const client = createClient({ baseUrl: 'http://api.test', fetch: server.fetch, clock })
    await drive(manual, client.jobs.get('job_1'))
    const gets = Array.from({ length: 100 }, () => client.jobs.get('job_1'))
    const results = await drive(manual, Promise.allSettled(gets), 1_000, 200)
    expect(results.every((r) => r.status === 'fulfilled')).toBe(true)
    // The first burst is refused past the window's 10; then each window's 10 go, not a herd.
    expect(server.refused()).toBeLessThanOrEqual(120)
  })

  it('should retry a bare 429 it learns from only within maxRetries (a quota on one route)', async () => {
    const { manual, clock } = virtualClock()
    // No limit stated; creates refused (their quota is used up), status checks answered.
    const fetch = fakeFetch((call) =>
      call.method === 'POST' ? new Response('quota', { status: 429 }) : json(jobBody()),
    )
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock })
    await drive(manual, client.jobs.get('job_1'))
    const params = { video_url: 'https://example.com/a.mp4', target_language: 'es' }
    const made = client.jobs.create(params).catch((e: unknown) => e)
    // Status checks answered meanwhile, five a second, for a minute.
    for (let i = 0; i < 300; i++) {
      client.jobs.get('job_1').catch(() => {})
      await manual.tickAsync(200)
    }
    expect(await made).toMatchObject({ status: 429 })
    expect(fetch.calls.filter((c) => c.method === 'POST')).toHaveLength(4)
  })

  it('should not take a bare 429 for a limit to learn when the server states its limit', async () => {
    const fetch = fakeFetch((call) => {
      const headers = {
        'ratelimit-policy': '100;w=1',
        ratelimit: 'limit=100, remaining=99, reset=1',
      }
      // The quota of creates is used up; status checks are still answered.
      if (call.method === 'POST') return new Response('quota', { status: 429 })
      return json(jobBody(), 200, headers)
    })
    const { client, manual } = setup(fetch, { retry: { maxRetries: 1 } })
    await drive(manual, client.jobs.get('job_1'))
    const params = { video_url: 'https://example.com/a.mp4', target_language: 'es' }
    await expect(drive(manual, client.jobs.create(params))).rejects.toMatchObject({ status: 429 })
    expect(fetch.calls.filter((c) => c.method === 'POST')).toHaveLength(2)
  })

  it('should send the first request alone, and all the rest at once when no limit is stated', async () => {
    let answer: () => void = () => {}
    const fetch = fakeFetch(
      () =>
        new Promise<Response>((resolve) => {
          answer = () => resolve(json(jobBody()))
          if (fetch.calls.length > 1) answer()
        }),
    )
    const { client, manual } = setup(fetch)
    const gets = Array.from({ length: 20 }, () => client.jobs.get('job_1'))
    await manual.tickAsync(0)
    expect(fetch.calls).toHaveLength(1)
    answer()
    await manual.tickAsync(0)
    expect(fetch.calls).toHaveLength(20)
    await Promise.all(gets)
  })

  it('should let more go, twice as many every two seconds, while no answer comes', async () => {
    // No request is answered (a proxy holding them): 1 at once, then 1, 2, 4 more every 2 s,
    // not one after another at each one's time limit, nor all of them at once.
    const fetch = fakeFetch(hangUntilAborted)
    const { client, manual } = setup(fetch, { requestTimeoutMs: 10_000, retry: false })
    const start = manual.now()
    const gets = Array.from({ length: 8 }, () => client.jobs.get('job_1').catch((e: unknown) => e))
    const counts: number[] = []
    for (const at of [0, 1_999, 2_000, 4_000, 6_000]) {
      await manual.tickAsync(start + at - manual.now())
      counts.push(fetch.calls.length)
    }
    expect(counts).toEqual([1, 1, 2, 4, 8])
    const results = await drive(manual, Promise.all(gets))
    expect(results.every(isTimeoutError)).toBe(true)
    expect(manual.now() - start).toBeLessThanOrEqual(16_000)
  })

  it('should send a server slow to answer the first request only a few more meanwhile', async () => {
    const { manual, clock } = virtualClock()
    const server = limitedServer(manual, 5, 5, () => (server.times.length === 1 ? 3_000 : 0))
    const client = createClient({ baseUrl: 'http://api.test', fetch: server.fetch, clock })
    const results = await driveAll(
      manual,
      Array.from({ length: 100 }, () => client.jobs.get('job_1')),
    )
    expect(results.every((r) => r.status === 'fulfilled')).toBe(true)
    // One more at 2 s while the first was out; the rest once its answer said the limit.
    expect(server.refused()).toBeLessThanOrEqual(1)
  })

  it('should hold every request until a 429’s Retry-After has passed', async () => {
    const { manual, clock } = virtualClock()
    const server = limitedServer(manual, 1, 0.25) // one request, then one per 4 s
    const client = createClient({ baseUrl: 'http://api.test', fetch: server.fetch, clock })
    await driveAll(manual, [client.jobs.get('job_1')])
    const before = server.fetch.calls.length
    const results = await driveAll(manual, [client.jobs.get('job_1'), client.jobs.get('job_1')])
    expect(results.every((r) => r.status === 'fulfilled')).toBe(true)
    expect(server.fetch.calls.length - before).toBe(2)
    expect(server.refused()).toBe(0)
  })

  it('should send nothing more until a 429’s Retry-After has passed, whatever the stated limit', async () => {
    const { manual, clock } = virtualClock()
    const times: number[] = []
    const headers = { 'ratelimit-policy': '100;w=1', ratelimit: 'limit=100, remaining=99, reset=1' }
    // Another client of the same key used the quota: the second request is refused for 3 s.
    const fetch = fakeFetch(() => {
      times.push(manual.now())
      if (times.length !== 2) return json(jobBody(), 200, headers)
      const response = problemResponse(429, 'Too Many Requests')
      response.headers.set('retry-after', '3')
      return response
    })
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock })
    await driveAll(manual, [client.jobs.get('job_1')])
    const refused = client.jobs.get('job_1')
    await manual.tickAsync(0)
    const results = await driveAll(manual, [
      refused,
      client.jobs.get('job_1'),
      client.jobs.get('job_1'),
    ])
    expect(results.every((r) => r.status === 'fulfilled')).toBe(true)
    expect(times).toHaveLength(5)
    const after = times.slice(2).map((t) => t - (times[1] as number))
    expect(Math.min(...after)).toBeGreaterThanOrEqual(3_000)
  })

  /**
   * A server stating a limit of 100 a second with 99 left on every answer, that refuses
   * `refuses` requests all the same (another limit than the one stated) with `Retry-After: 1`;
   * job_1 ends at 10 s.
   */
  function refusingBesides(manual: ManualClock, refuses: (call: FetchCall) => boolean) {
    const start = manual.now()
    const headers = { 'ratelimit-policy': '100;w=1', ratelimit: 'limit=100, remaining=99, reset=1' }
    let refused = 0
    const fetch = fakeFetch((call) => {
      if (refuses(call)) {
        refused++
        const response = problemResponse(429, 'Too Many Requests')
        for (const [k, v] of Object.entries({ ...headers, 'retry-after': '1' })) {
          response.headers.set(k, v)
        }
        return response
      }
      if (call.method === 'POST') return json(jobBody({ status: 'pending' }), 202, headers)
      const done = manual.now() - start >= 10_000
      return json(jobBody({ status: done ? 'completed' : 'running', eta_ms: null }), 200, headers)
    })
    return { fetch, refused: () => refused }
  }

  it('should hold only the writes for a write’s 429 that says tokens are left', async () => {
    const { manual, clock } = virtualClock()
    // Every other create refused (a quota of creates behind the limit stated).
    let creates = 0
    const server = refusingBesides(manual, (call) => call.method === 'POST' && ++creates % 2 === 0)
    // Known within two checks of its end (every refused create paused the whole client a
    // second: at 13.3 s).
    expect(await checksBesideCreates(manual, clock, server.fetch)).toBeLessThanOrEqual(12_000)
  })

  it('should hold none for reads sent together and refused with tokens left, in any order', async () => {
    const stated = (left: number) =>
      new Headers({
        'ratelimit-policy': '"default";q=100;w=100',
        ratelimit: `"default";r=${left};t=100`,
      })
    const freeAfter = async (olderFirst: boolean) => {
      const { clock } = virtualClock()
      const pacer = new Pacer(clock, () => 0)
      const probe = await pacer.take(undefined, Number.POSITIVE_INFINITY)
      pacer.answered(probe, stated(99), 'ok')
      const a = await pacer.take(undefined, Number.POSITIVE_INFINITY)
      const b = await pacer.take(undefined, Number.POSITIVE_INFINITY)
      for (const ticket of olderFirst ? [a, b] : [b, a]) {
        pacer.answered(ticket, stated(90), { refused: 1_000 })
      }
      return pacer.free()
    }
    // Neither was sent after a refusal was known: each waits alone, the others go on.
    expect(await freeAfter(true)).toBeGreaterThan(0)
    expect(await freeAfter(false)).toBe(await freeAfter(true))
  })

  it('should hold every request for a read’s 429 that says tokens are left', async () => {
    const { manual, clock } = virtualClock()
    // A gateway's limit of 2 a second behind the limit stated.
    const sent: number[] = []
    const server = refusingBesides(manual, () => {
      const now = manual.now()
      while (sent.length > 0 && (sent[0] as number) <= now - 1_000) sent.shift()
      if (sent.length >= 2) return true
      sent.push(now)
      return false
    })
    const client = createClient({ baseUrl: 'http://api.test', fetch: server.fetch, clock })
    const results = await driveAll(
      manual,
      Array.from({ length: 60 }, () => client.jobs.get('job_1')),
    )
    expect(results.every((r) => r.status === 'fulfilled')).toBe(true)
    // Each refused request on its own, back a second later: 501 refusals.
    expect(server.refused()).toBeLessThanOrEqual(120)
  })

  it('should let a request waiting for its turn be aborted, and leave no timer behind', async () => {
    const { manual, clock } = virtualClock()
    const server = limitedServer(manual, 2, 1)
    // Turns exactly as tokens come (no spread at random), to count them.
    const random = () => 0
    const client = createClient({ baseUrl: 'http://api.test', fetch: server.fetch, clock, random })
    const controller = new AbortController()
    const reason = new Error('stop')
    const gets = Array.from({ length: 6 }, (_, i) =>
      client.jobs.get('job_1', i === 4 ? { signal: controller.signal } : {}),
    )
    await manual.tickAsync(0)
    controller.abort(reason)
    const results = await driveAll(manual, gets)
    expect(results[4]).toEqual({ status: 'rejected', reason })
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(5)
    expect(server.fetch.calls).toHaveLength(5)
    // Two at once, then one a second: the aborted request took no turn from the others.
    expect((server.times.at(-1) as number) - (server.times[0] as number)).toBeLessThanOrEqual(3_100)
    expect(manual.pending()).toBe(0)
  })

  it('should make progress when a turn is a fraction of a millisecond away', async () => {
    // A huge stated rate and nothing left: the next token is due in a microsecond, which a
    // clock at an epoch of 1.7e12 ms cannot add.
    const headers = {
      'ratelimit-policy': '"default";q=1000000000;w=1',
      ratelimit: '"default";r=0;t=1',
    }
    const fetch = fakeFetch(() => json(jobBody(), 200, headers))
    const { client, manual } = setup(fetch)
    const results = await driveAll(
      manual,
      [1, 2, 3].map(() => client.jobs.get('job_1')),
    )
    expect(results.every((r) => r.status === 'fulfilled')).toBe(true)
  })

  it('should give a wait near its deadline its turn before routine checks of waits with time', async () => {
    // A burst of 5, then one request a second; 30 waits without a deadline poll every second,
    // one with 8 s left waits for a job that ends at 4 s.
    const { manual, server, client } = busyPolling(5, 1, 'job_soon', 4_000)
    const others = new AbortController()
    for (let i = 0; i < 30; i++) {
      client.jobs.wait(`job_${i}`, { signal: others.signal }).catch(() => {})
    }
    const soon = client.jobs.wait('job_soon', { timeoutMs: 8_000 })
    const [result] = await drive(manual, Promise.allSettled([soon]), 100, 200)
    others.abort()
    expect(result?.status).toBe('fulfilled')
    expect(server.refused()).toBe(0)
  })

  it('should not keep a request without a time limit waiting behind ones that have one', async () => {
    // Two requests a second; six waits with an hour each keep the queue full.
    const requestTimeoutMs = Number.POSITIVE_INFINITY
    const { manual, client } = busyPolling(2, 2, 'none', 0, { requestTimeoutMs })
    const others = new AbortController()
    for (let i = 0; i < 6; i++) {
      client.jobs.wait(`job_${i}`, { signal: others.signal, timeoutMs: 3_600_000 }).catch(() => {})
    }
    await manual.tickAsync(2_000)
    const asked = manual.now()
    const got = await drive(manual, client.jobs.get('job_x'), 1_000, 120)
    others.abort()
    expect(got.id).toBe('job_x')
    expect(manual.now() - asked).toBeLessThanOrEqual(61_000)
  })

  it('should pace to a policy the server changed under it, not slow itself for others', async () => {
    const { manual, clock } = virtualClock()
    // A bucket stated as it goes: generous, then cut to a burst of 20 and 2 a second.
    let capacity = 1_000
    let perS = 500
    let tokens = capacity
    let at = manual.now()
    const fetch = fakeFetch(() => {
      tokens = Math.min(capacity, tokens + ((manual.now() - at) / 1_000) * perS)
      at = manual.now()
      const headers = {
        'ratelimit-policy': `"default";q=${capacity};w=${capacity / perS}`,
        ratelimit: `"default";r=${Math.max(0, Math.floor(tokens - 1))};t=1`,
      }
      if (tokens < 1) {
        const refusal = problemResponse(429, 'Too Many Requests')
        for (const [k, v] of Object.entries({ ...headers, 'retry-after': '1' })) {
          refusal.headers.set(k, v)
        }
        return refusal
      }
      tokens -= 1
      return json(jobBody(), 200, headers)
    })
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock, circuitBreaker: false })
    await drive(manual, client.jobs.get('job_1'))
    capacity = 20
    perS = 2
    tokens = 20
    const start = manual.now()
    const gets = Array.from({ length: 150 }, () => client.jobs.get('job_1'))
    const results = await drive(manual, Promise.allSettled(gets), 1_000, 300)
    expect(results.every((r) => r.status === 'fulfilled')).toBe(true)
    // 20 at once, the other 130 at 2 a second: 65 s at best.
    expect(manual.now() - start).toBeLessThanOrEqual(90_000)
  })

  it('should give no token back for a refusal that does not say what is left', async () => {
    const { manual, clock } = virtualClock()
    const start = manual.now()
    // A policy of 10 a second, stated alone; the bucket, shared, is empty from 1 s to 11 s.
    const headers = { 'ratelimit-policy': '10;w=1' }
    const fetch = fakeFetch(() => {
      const at = manual.now() - start
      if (at >= 1_000 && at < 11_000) return json({ title: 'Too Many Requests' }, 429, headers)
      return json(jobBody({ status: 'running' }), 200, headers)
    })
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock, circuitBreaker: false })
    await drive(manual, client.jobs.get('job_1'))
    await manual.tickAsync(1_000 - (manual.now() - start))
    const before = fetch.calls.length
    const gets = Array.from({ length: 60 }, () => client.jobs.get('job_1').catch(() => {}))
    await manual.tickAsync(1_000)
    // The bucket's 10, and at most as many again in its second.
    expect(fetch.calls.length - before).toBeLessThanOrEqual(20)
    await drive(manual, Promise.all(gets), 500, 100)
  })

  it('should order a wait with an hour left no later than a minute on, whatever the client’s limit', async () => {
    // Two a second; six waits without a deadline keep the queue full; a seventh, with an hour,
    // waits for a job that ends at 10 s. No request time limit at all.
    const requestTimeoutMs = Number.POSITIVE_INFINITY
    const { manual, start, client } = busyPolling(2, 2, 'job_x', 10_000, { requestTimeoutMs })
    const others = new AbortController()
    for (let i = 0; i < 6; i++) {
      client.jobs.wait(`job_${i}`, { signal: others.signal }).catch(() => {})
    }
    const waited = client.jobs.wait('job_x', { timeoutMs: 3_600_000 })
    const done = await drive(manual, waited, 1_000, 200)
    others.abort()
    expect(done.status).toBe('completed')
    expect(manual.now() - start).toBeLessThanOrEqual(90_000)
  })

  it('should not hold a wait past its timeout waiting for a turn', async () => {
    const headers = { 'ratelimit-policy': '1;w=6', ratelimit: 'limit=1, remaining=0, reset=6' }
    const fetch = fakeFetch(() => json(jobBody({ status: 'running' }), 200, headers))
    const { client, manual } = setup(fetch, { polling: fixedInterval(100) })
    const start = manual.now()
    const [result] = await driveAll(manual, [client.jobs.wait('job_1', { timeoutMs: 1_000 })])
    expect(result?.status).toBe('rejected')
    expect(isTimeoutError((result as PromiseRejectedResult).reason)).toBe(true)
    // The deadline, plus the last look's second at most: not the 6 s the next turn was away.
    expect(manual.now() - start).toBeLessThanOrEqual(2_100)
  })

  it('should not count a turn that came too late against the server', async () => {
    // One request every 6 s: the requests queued behind the first give up waiting for a turn.
    const headers = { 'ratelimit-policy': '1;w=6', ratelimit: 'limit=1, remaining=0, reset=6' }
    const fetch = fakeFetch(() => json(jobBody({ status: 'running' }), 200, headers))
    const { manual, clock } = virtualClock()
    const core = createCore(
      resolveOptions({
        baseUrl: 'http://api.test',
        fetch,
        clock,
        circuitBreaker: { failureThreshold: 2 },
      }),
    )
    const get = (timeoutMs?: number) =>
      request(core, { method: 'GET', path: '/v1/jobs/job_1', timeoutMs })
    await driveAll(manual, [get()])
    const late = await driveAll(manual, [get(1_000), get(1_000), get(1_000)])
    expect(late.every((r) => r.status === 'rejected' && isTimeoutError(r.reason))).toBe(true)
    expect(fetch.calls).toHaveLength(1)
    expect(core.breaker?.state).toEqual({ state: 'closed', failures: 0 })
  })

  it('should slow to a proxy’s limit behind the one the server states', async () => {
    const { manual, clock } = virtualClock()
    // The server states 50 a second (a burst of 100, always roomy); nginx in front of it lets
    // 20 a second through (a burst of 20) and refuses the rest with a bare 429.
    const origin = limitedServer(manual, 100, 50)
    let tokens = 20
    let at = manual.now()
    let refused = 0
    const fetch = fakeFetch((call) => {
      tokens = Math.min(20, tokens + ((manual.now() - at) / 1_000) * 20)
      at = manual.now()
      if (tokens < 1) {
        refused++
        const page = '<html><title>429 Too Many Requests</title></html>'
        return new Response(page, { status: 429, headers: { 'content-type': 'text/html' } })
      }
      tokens -= 1
      return origin.fetch(call.url, { headers: call.headers })
    })
    const { client } = setup(fetch, { clock })
    const gets = Array.from({ length: 600 }, () => client.jobs.get('job_1'))
    const results = await drive(manual, Promise.allSettled(gets), 250, 600)
    // Every read made (361 failed), its retries spaced by the pacer, not spending the budget.
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(0)
    // The first burst (the stated 100 at once) refused, then few: at the stated 50 a second,
    // 410 were.
    expect(refused).toBeLessThan(100)
  })

  it('should not slow down for a bare 429 now and then in front of a stated limit', async () => {
    const { manual, clock } = virtualClock()
    // The server states 50 a second; a gateway in front refuses 1 % of the requests, at
    // random, with a bare 429.
    const origin = limitedServer(manual, 100, 50)
    const random = seeded(7)
    const fetch = fakeFetch((call) => {
      if (random() < 0.01) return new Response('<html>429</html>', { status: 429 })
      return origin.fetch(call.url, { headers: call.headers })
    })
    const { client } = setup(fetch, { clock })
    const start = manual.now()
    const gets = Array.from({ length: 1_500 }, () => client.jobs.get('job_1'))
    const results = await drive(manual, Promise.allSettled(gets), 500, 2_000)
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(0)
    // At the stated rate: 30 s (each such refusal halving the rate, 300 s).
    expect(manual.now() - start).toBeLessThan(40_000)
    // 1,500 requests in virtual time: seconds of real time on a slow machine.
  }, 20_000)

  it('should not take creates refused by a proxy for a limit of every request in front', async () => {
    const { manual, clock } = virtualClock()
    // Reads answered under a stated 50 a second; the proxy's quota of creates is used up.
    const origin = limitedServer(manual, 100, 50)
    const fetch = fakeFetch((call) =>
      call.method === 'POST'
        ? new Response('<html>429</html>', { status: 429 })
        : origin.fetch(call.url, { headers: call.headers }),
    )
    const { client } = setup(fetch, { clock })
    await drive(manual, Promise.all(Array.from({ length: 20 }, () => client.jobs.get('job_1'))))
    // Two creates, each tried four times: eight bare refusals among the last 20 answers.
    const params = { video_url: 'https://example.com/a.mp4', target_language: 'es' }
    const creates = [client.jobs.create(params), client.jobs.create(params)]
    await drive(manual, Promise.allSettled(creates), 200, 100)
    await manual.tickAsync(2_000)
    const start = manual.now()
    const gets = Array.from({ length: 500 }, () => client.jobs.get('job_1'))
    await drive(manual, Promise.allSettled(gets), 100, 2_000)
    // At the stated rate (a burst of 100, then 50 a second): 8 s, not a halved rate's 62 s.
    expect(manual.now() - start).toBeLessThan(10_000)
  })

  it('should spend the retry budget on bare 429s once nothing is answered', async () => {
    const { manual, clock } = virtualClock()
    const origin = limitedServer(manual, 100, 50)
    let refuseAll = false
    const fetch = fakeFetch((call) =>
      refuseAll
        ? new Response('<html>429</html>', { status: 429 })
        : origin.fetch(call.url, { headers: call.headers }),
    )
    const { client } = setup(fetch, { clock })
    await drive(manual, Promise.all(Array.from({ length: 20 }, () => client.jobs.get('job_1'))))
    // The proxy in front refuses everything from now on (its quota used up): a first burst
    // refused, then, minutes on, 200 reads.
    refuseAll = true
    const burst = Array.from({ length: 10 }, () => client.jobs.get('job_1'))
    await drive(manual, Promise.allSettled(burst), 500, 2_000)
    await manual.tickAsync(300_000)
    const before = fetch.calls.length
    const gets = Array.from({ length: 200 }, () => client.jobs.get('job_1'))
    await drive(manual, Promise.allSettled(gets), 500, 2_000)
    // Each tried once and the budget's few again, not four times each (800).
    expect(fetch.calls.length - before).toBeLessThan(300)
  })

  it('should send everything at once with pacing: false', async () => {
    const { manual, clock } = virtualClock()
    const server = limitedServer(manual, 5, 1)
    const client = createClient({
      baseUrl: 'http://api.test',
      fetch: server.fetch,
      clock,
      pacing: false,
      retry: false,
    })
    const results = await driveAll(
      manual,
      Array.from({ length: 10 }, () => client.jobs.get('job_1')),
    )
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(5)
    expect(server.refused()).toBe(5)
  })
})

describe('turns between checks and creates with time to spare', () => {
  /** A stated limit of 10 requests in 10 s, `left` of them left. */
  const tenLeft = (left: number) =>
    new Headers({ 'ratelimit-policy': '"default";q=10;w=10', ratelimit: `"default";r=${left};t=1` })

  /** A pacer whose server allows one request a second, none left now. */
  async function oneASecond() {
    const { manual, clock } = virtualClock()
    const pacer = new Pacer(clock, () => 0)
    const probe = await pacer.take(undefined, manual.now())
    const headers = new Headers({
      'ratelimit-policy': '"default";q=1;w=1',
      ratelimit: '"default";r=0;t=1',
    })
    pacer.answered(probe, headers, 'ok')
    return { manual, pacer }
  }

  it('should say when a turn is free, after those waiting', async () => {
    const { manual, clock } = virtualClock()
    const pacer = new Pacer(clock, () => 0)
    expect(pacer.untilFree()).toBe(Infinity)
    const probe = await pacer.take(undefined, manual.now())
    pacer.answered(probe, new Headers(), 'ok')
    // No limit stated: free now.
    expect(pacer.untilFree()).toBe(0)
    const { pacer: paced } = await oneASecond()
    expect(paced.untilFree()).toBe(1_000)
    // Two turns waiting go first: the third second's token.
    const waiting = [0, 1].map(() => paced.take(undefined, manual.now() + 60_000))
    expect(paced.untilFree()).toBe(3_000)
    void Promise.all(waiting)
  })

  it('should take back a turn not used, unless the server pauses the client', async () => {
    const { manual, clock } = virtualClock()
    const pacer = new Pacer(clock, () => 0)
    const probe = await pacer.take(undefined, manual.now())
    const left = tenLeft
    pacer.answered(probe, left(3), 'ok')
    const a = await pacer.take(undefined, manual.now())
    const b = await pacer.take(undefined, manual.now())
    const c = await pacer.take(undefined, manual.now())
    // None left when `a` was answered, and two out after it: a debt of two tokens.
    pacer.answered(a, left(0), 'ok')
    expect(pacer.untilFree()).toBe(3_000)
    // `b` and `c` were not sent: their tokens back.
    pacer.release(b)
    expect(pacer.untilFree()).toBe(2_000)
    pacer.release(c)
    expect(pacer.untilFree()).toBe(1_000)
    // A `Retry-After` of 5 s: a turn given before it and not used does not cut it short.
    manual.advance(2_000)
    const d = await pacer.take(undefined, manual.now())
    const e = await pacer.take(undefined, manual.now())
    pacer.answered(d, left(0), { refused: 5_000 })
    expect(pacer.untilFree()).toBe(5_000)
    pacer.release(e)
    expect(pacer.untilFree()).toBe(5_000)
  })

  it('should learn a limit of every request from refused writes once reads are refused too', async () => {
    /** A refusal of a request (a `write` or not) where no limit is stated, an answer before it. */
    async function refusal(pacer: Pacer, manual: ManualClock, write: boolean) {
      const answered = await drive(manual, pacer.take(undefined, manual.now()))
      pacer.answered(answered, new Headers(), 'ok')
      const refused = await drive(manual, pacer.take(undefined, manual.now(), { write }))
      pacer.answered(refused, new Headers(), { refused: undefined })
    }
    const untilFree: number[] = []
    for (const readsRefused of [false, true]) {
      const { manual, clock } = virtualClock()
      const pacer = new Pacer(clock, () => 0)
      // The first refusal (a write's) teaches both limits; each rate is back 8 s after.
      await refusal(pacer, manual, true)
      manual.advance(8_000)
      if (readsRefused) {
        await refusal(pacer, manual, false)
        manual.advance(8_000)
      }
      await refusal(pacer, manual, true)
      untilFree.push(pacer.untilFree())
    }
    // A write's refusal halved the limit of every request only where reads were refused.
    expect(untilFree[0]).toBe(0)
    expect(untilFree[1]).toBeGreaterThan(1_000)
  })

  /** A pacer on a server that states no limit, and its requests answered or refused. */
  function unstated() {
    const { manual, clock } = virtualClock()
    const pacer = new Pacer(clock, () => 0)
    const turn = (write: boolean) =>
      drive(manual, pacer.take(undefined, manual.now(), { write }), 10, 10_000)
    const ok = async (write: boolean, headers = new Headers()) => {
      pacer.answered(await turn(write), headers, 'ok')
    }
    const refuse = async (write: boolean) => {
      pacer.answered(await turn(write), new Headers(), { refused: undefined })
    }
    return { manual, pacer, ok, refuse }
  }

  it('should count no write held back by its own limit as ahead of other requests', async () => {
    const { manual, pacer, ok, refuse } = unstated()
    for (let i = 0; i < 10; i++) await ok(false)
    await ok(true)
    // Both limits learned; 50 s on, the writes' alone halved; 11 s on, the other forgotten.
    await refuse(true)
    manual.advance(50_000)
    await refuse(true)
    manual.advance(11_000)
    await ok(false)
    void pacer.take(undefined, manual.now() + 60_000, { write: true })
    void pacer.take(undefined, manual.now() + 60_000, { write: true })
    expect(pacer.waiting).toBe(1)
    // A check goes at once all the same (said 0 free, the monitor asked again every 1 ms).
    expect(pacer.free()).toBe(Infinity)
    expect(pacer.untilFree()).toBe(0)
  })

  it('should give a write not sent its token back, unless its limit was learned anew since', async () => {
    for (const refusedSince of [false, true]) {
      const { manual, pacer, ok, refuse } = unstated()
      for (let i = 0; i < 10; i++) await ok(false)
      for (let i = 0; i < 4; i++) await ok(true)
      await refuse(true)
      manual.advance(10_000)
      const unsent = await drive(manual, pacer.take(undefined, manual.now(), { write: true }))
      // Another write, given its turn before, refused meanwhile: the writes' limit learned anew.
      if (refusedSince) {
        await ok(false)
        await refuse(true)
      }
      pacer.release(unsent)
      let next = false
      void pacer.take(undefined, manual.now(), { write: true }).then(() => {
        next = true
      })
      await manual.tickAsync(0)
      expect(next).toBe(!refusedSince)
    }
  })

  it('should count no create held back by the writes’ own limit alone as waiting for others’ turns', async () => {
    const { manual, pacer, ok, refuse } = unstated()
    for (let i = 0; i < 10; i++) await ok(false)
    await ok(true)
    // Both limits learned; 50 s on, the writes' alone halved; 11 s on, the other forgotten.
    await refuse(true)
    const both = pacer.take(undefined, manual.now() + 60_000, { background: true })
    // Under a limit of every request, a stream opened would take a create's turn.
    expect(pacer.creating).toBe(true)
    await drive(manual, both)
    manual.advance(50_000)
    await refuse(true)
    manual.advance(11_000)
    await ok(false)
    void pacer.take(undefined, manual.now() + 60_000, { background: true })
    void pacer.take(undefined, manual.now() + 60_000, { background: true })
    expect(pacer.waiting).toBe(1)
    // Streams put off for creates open: the create waits for its own limit, not for their turns.
    expect(pacer.creating).toBe(false)
    let called = false
    pacer.afterBackground(() => {
      called = true
    })
    expect(called).toBe(true)
  })

  it('should drop the writes’ learned limit once the server states one', async () => {
    const { manual, pacer, ok, refuse } = unstated()
    for (let i = 0; i < 10; i++) await ok(false)
    await ok(true)
    await refuse(true)
    manual.advance(3_000)
    const stated = new Headers({
      'ratelimit-policy': '"default";q=100;w=1',
      ratelimit: '"default";r=99;t=1',
    })
    await ok(false, stated)
    const at = manual.now()
    const writes = [0, 1, 2].map(() => pacer.take(undefined, at + 60_000, { write: true }))
    await drive(manual, Promise.all(writes), 10, 100)
    // All three at once (held 2 s apart by the rate learned before).
    expect(manual.now() - at).toBeLessThanOrEqual(100)
  })

  it('should give a write in eight turns to others than creates, though checks pass the creates', async () => {
    const { manual, pacer, ok, refuse } = unstated()
    for (let i = 0; i < 10; i++) await ok(false)
    for (let i = 0; i < 4; i++) await ok(true)
    await refuse(true)
    const now = manual.now()
    let creates = 0
    for (let i = 0; i < 30; i++) {
      void pacer.take(undefined, now - 1_000, { background: true }).then(() => creates++)
    }
    let cancelled = false
    void pacer.take(undefined, now + 30_000, { write: true }).then(() => {
      cancelled = true
    })
    // Status checks every 500 ms pass the creates held back by the writes' limit.
    for (let i = 0; i < 80 && !cancelled; i++) {
      void ok(false)
      await manual.tickAsync(500)
    }
    // The cancel after seven creates (each check passing them gave it none: after all 30).
    expect(cancelled).toBe(true)
    expect(creates).toBe(7)
  })

  it('should give nothing back for a held request let go before the limit was known', async () => {
    const { manual, clock } = virtualClock()
    const pacer = new Pacer(clock, () => 0)
    // Held (a long-poll) while the limit is unknown: let go without a token.
    const held = await pacer.take(undefined, manual.now(), { held: true })
    const probe = await pacer.take(undefined, manual.now())
    const headers = new Headers({
      'ratelimit-policy': '"default";q=10;w=10',
      ratelimit: '"default";r=0;t=1',
    })
    pacer.answered(probe, headers, 'ok')
    expect(pacer.free()).toBe(0)
    pacer.release(held)
    expect(pacer.free()).toBe(0)
  })

  it('should count a held request let go before the limit was known against the first answer', async () => {
    const { clock } = virtualClock()
    const pacer = new Pacer(clock, () => 0)
    // The probe goes, then a held request (a long-poll) unpaced beside it: it may reach the
    // server after the probe, whose answer then does not count it.
    const probe = await pacer.take(undefined, 0)
    const held = await pacer.take(undefined, 0, { held: true })
    pacer.answered(probe, tenLeft(9), 'ok')
    expect(pacer.free()).toBe(8)
    // Once answered, the next answers count what they say.
    pacer.answered(held, undefined, 'ok', true)
    const next = await pacer.take(undefined, 0)
    pacer.answered(next, tenLeft(7), 'ok')
    expect(pacer.free()).toBe(7)
  })

  it('should count only the held requests still out, whichever answered first', async () => {
    const { clock } = virtualClock()
    const pacer = new Pacer(clock, () => 0)
    // One hold let go before the probe (its answer counts it), one after (it may not).
    const before = await pacer.take(undefined, 0, { held: true })
    const probe = await pacer.take(undefined, 0)
    const after = await pacer.take(undefined, 0, { held: true })
    // The later one answers first: the earlier one, still out, was counted by the probe.
    pacer.answered(after, undefined, 'ok', true)
    pacer.answered(probe, tenLeft(9), 'ok')
    expect(pacer.free()).toBe(9)
    pacer.answered(before, undefined, 'ok', true)
  })

  it('should give checks a turn in eight behind a backlog of creates older than theirs', async () => {
    const { manual, pacer } = await oneASecond()
    const order: string[] = []
    const now = manual.now()
    // Creates queued long ago (due before the checks), then checks: neither side waits for all
    // of the other.
    const creates = Array.from({ length: 20 }, () =>
      pacer.take(undefined, now - 1_000, { background: true }).then(() => order.push('create')),
    )
    const checks = Array.from({ length: 3 }, () =>
      pacer.take(undefined, now + 60_000).then(() => order.push('check')),
    )
    await drive(manual, Promise.all([...creates, ...checks]), 1_000, 30)
    // Seven creates, a check, seven creates, a check, the last six creates, the last check.
    const checkTurns = order.flatMap((what, i) => (what === 'check' ? [i] : []))
    expect(checkTurns).toEqual([7, 15, 22])
  })

  it('should give a check whose turn is due the next turn, whatever the creates', async () => {
    const { manual, pacer } = await oneASecond()
    const order: string[] = []
    const now = manual.now()
    const creates = Array.from({ length: 5 }, () =>
      pacer.take(undefined, now - 1_000, { background: true }).then(() => order.push('create')),
    )
    const due = pacer.take(undefined, now - 2_000).then(() => order.push('check'))
    await drive(manual, Promise.all([...creates, due]), 1_000, 10)
    expect(order[0]).toBe('check')
  })

  it('should give a turn released unused to the next request at once', async () => {
    const { manual, pacer } = await oneASecond()
    await manual.tickAsync(1_000)
    const turn = await pacer.take(undefined, manual.now())
    let next = false
    pacer.take(undefined, manual.now()).then(() => {
      next = true
    })
    await manual.tickAsync(0)
    expect(next).toBe(false)
    pacer.release(turn)
    await manual.tickAsync(0)
    expect(next).toBe(true)
  })

  it('should not spread turns where the bucket holds two tokens, nor a turn due soon', async () => {
    for (const [capacity, by] of [
      [2, 60_000],
      [10, 1_000],
    ] as const) {
      const { manual, clock } = virtualClock()
      // The spread at its widest.
      const pacer = new Pacer(clock, () => 0.999)
      const probe = await pacer.take(undefined, manual.now())
      const headers = new Headers({
        'ratelimit-policy': `"default";q=${capacity};w=${capacity}`,
        ratelimit: '"default";r=0;t=1',
      })
      pacer.answered(probe, headers, 'ok')
      let at = 0
      const start = manual.now()
      const turn = pacer.take(undefined, manual.now() + by).then(() => {
        at = manual.now() - start
      })
      await drive(manual, turn, 10, 300)
      // A token a second: the turn at its token, not up to a second after it (a token past a
      // bucket of two is lost; a wait's last look has a second).
      expect(at).toBeLessThanOrEqual(1_010)
    }
  })
})
