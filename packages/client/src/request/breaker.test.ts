import { describe, expect, it } from 'vitest'
import {
  fakeFetch,
  hangUntilAborted,
  jobBody,
  json,
  problemResponse,
} from '../../test/fake-fetch.js'
import { drive, virtualClock } from '../../test/virtual-time.js'
import { type Client, type ClientOptions, createClient } from '../client.js'
import { DEFAULTS } from '../defaults.js'
import {
  isCircuitOpenError,
  isNetworkError,
  isNotFoundError,
  isServerError,
  NetworkError,
} from '../errors.js'
import { encodeToken } from '../observe/cursor.js'
import { fixedInterval } from '../polling/strategy.js'
import { CircuitBreaker, type CircuitState } from './breaker.js'

function setup(respond: () => Response | Promise<Response>) {
  const { manual, clock } = virtualClock()
  const fetch = fakeFetch(respond)
  const transitions: string[] = []
  const client = createClient({
    baseUrl: 'http://api.test',
    apiKey: 'k',
    fetch,
    clock,
    retry: false,
    circuitBreaker: { failureThreshold: 3, resetTimeoutMs: 10_000 },
  })
  for (const type of ['circuit:open', 'circuit:half-open', 'circuit:close'] as const) {
    client.on(type, () => transitions.push(type))
  }
  return { client, fetch, manual, transitions }
}

describe('circuit breaker', () => {
  it('should not open for requests stalled on the way while the ones sent after them are answered', async () => {
    const { manual, clock } = virtualClock()
    let calls = 0
    // Every third request stalls until its time limit; the others are answered at once.
    const fetch = fakeFetch((call) => {
      return calls++ % 3 !== 0 ? json(jobBody()) : hangUntilAborted(call)
    })
    const client = createClient({
      baseUrl: 'http://api.test',
      fetch,
      clock,
      retry: false,
      pacing: false,
      requestTimeoutMs: 3_000,
      circuitBreaker: { failureThreshold: 3 },
    })
    const opened: unknown[] = []
    client.on('circuit:open', (event) => opened.push(event))
    const gets: Promise<unknown>[] = []
    for (let i = 0; i < 60; i++) {
      gets.push(client.jobs.get('job_1').catch((e: unknown) => e))
      await manual.tickAsync(100)
    }
    await manual.tickAsync(3_000)
    const results = await Promise.all(gets)
    expect(results.filter((r) => isCircuitOpenError(r))).toEqual([])
    expect(results.filter((r) => r instanceof Error)).toHaveLength(20)
    expect(opened).toEqual([])
  })

  it('should open when the requests sent after the last success fail in a row', () => {
    const { manual, clock } = virtualClock()
    const breaker = new CircuitBreaker(
      { ...DEFAULTS.circuitBreaker, failureThreshold: 2 },
      clock,
      () => {},
    )
    const down = new NetworkError({ method: 'GET', path: '/' }, new Error('reset'))
    const t0 = manual.now()
    breaker.succeeded(t0 + 10)
    // Sent before the success: old news, whenever they fail.
    manual.advance(100)
    breaker.failed(down, false, t0 + 5)
    breaker.failed(down, false, t0 + 9)
    expect(breaker.state).toEqual({ state: 'closed', failures: 0 })
    breaker.failed(down, false, t0 + 20)
    manual.advance(200)
    breaker.failed(down, false, t0 + 30)
    expect(breaker.state.state).toBe('open')
  })

  it('should count requests out together that fail together once (stale connections after a stall)', () => {
    const { manual, clock } = virtualClock()
    const breaker = new CircuitBreaker(
      { ...DEFAULTS.circuitBreaker, failureThreshold: 3 },
      clock,
      () => {},
    )
    const closed = new NetworkError({ method: 'GET', path: '/' }, new Error('other side closed'))
    const t0 = manual.now()
    manual.advance(7_000)
    // Eight sent at once, all refused within a few milliseconds: one failure.
    for (let i = 0; i < 8; i++) {
      breaker.failed(closed, false, t0)
      manual.advance(1)
    }
    expect(breaker.state).toEqual({ state: 'closed', failures: 1 })
    // Sent after it, failing at once (sequential calls, even in the same instant): each counts.
    const at = manual.now()
    breaker.failed(closed, false, at)
    breaker.failed(closed, false, at)
    expect(breaker.state.state).toBe('open')
  })

  it('should put the opening back as it was when an early probe (a last look) fails', () => {
    const { manual, clock } = virtualClock()
    const changes: string[] = []
    const breaker = new CircuitBreaker(
      { ...DEFAULTS.circuitBreaker, failureThreshold: 1, resetTimeoutMs: 5_000 },
      clock,
      (s) => changes.push(s.state),
    )
    const down = new NetworkError({ method: 'GET', path: '/' }, new Error('reset'))
    breaker.failed(down, false)
    const opened = breaker.state
    manual.advance(1_000)
    expect(breaker.admit(true, true)).toBe(true)
    breaker.failed(down, true)
    // Neither longer nor restarted: the regular probe is still due 5 s after the opening.
    expect(breaker.state).toEqual(opened)
    expect(breaker.openings).toBe(1)
    expect(() => breaker.admit()).toThrow(expect.objectContaining({ retryAfterMs: 4_000 }))
    manual.advance(4_000)
    expect(breaker.admit()).toBe(true)
    // Released early probes put it back too.
    breaker.failed(down, true)
    manual.advance(1_000)
    breaker.admit(true, true)
    breaker.released(true)
    expect(breaker.state.state).toBe('open')
    expect(() => breaker.admit()).toThrow(expect.objectContaining({ retryAfterMs: 9_000 }))
    // Each probe that ends without a verdict is told as the opening going on.
    expect(changes).toEqual(['open', 'half-open', 'open', 'half-open', 'open', 'half-open', 'open'])
    expect(breaker.openings).toBe(2)
  })

  it('should number each opening, and tell the same number while one opening goes on', () => {
    const { manual, clock } = virtualClock()
    const told: CircuitState[] = []
    const breaker = new CircuitBreaker(
      { ...DEFAULTS.circuitBreaker, failureThreshold: 1, resetTimeoutMs: 1_000 },
      clock,
      (state) => told.push(state),
    )
    const down = new NetworkError({ method: 'GET', path: '/' }, new Error('reset'))
    breaker.failed(down, false)
    manual.advance(1_000)
    breaker.released(breaker.admit())
    breaker.failed(down, breaker.admit())
    const opens = told.filter((s) => s.state === 'open').map((s) => s.opening)
    // The first opening, the same one told again after a probe that learned nothing, a second.
    expect(opens).toEqual([1, 1, 2])
    expect(breaker.openings).toBe(2)
  })

  it('should never let a held request probe: a plain call does', () => {
    const { manual, clock } = virtualClock()
    const breaker = new CircuitBreaker(
      { ...DEFAULTS.circuitBreaker, failureThreshold: 1, resetTimeoutMs: 5_000 },
      clock,
      () => {},
    )
    breaker.failed(new NetworkError({ method: 'GET', path: '/' }, new Error('reset')), false)
    manual.advance(5_000)
    let refused: unknown
    try {
      breaker.admit(false)
    } catch (error) {
      refused = error
    }
    expect(refused).toMatchObject({ name: 'CircuitOpenError', retryAfterMs: 0 })
    expect(breaker.state.state).toBe('open')
    expect(breaker.admit()).toBe(true)
    expect(breaker.state.state).toBe('half-open')
  })

  it('should open after the threshold, fail fast without sending, probe after the reset, and close on success', async () => {
    let status = 503
    const { client, fetch, manual, transitions } = setup(() =>
      status === 200 ? json(jobBody()) : problemResponse(status, 'down'),
    )
    for (let i = 0; i < 3; i++)
      await expect(client.jobs.get('job_1')).rejects.toSatisfy(isServerError)
    expect(transitions).toEqual(['circuit:open'])
    const error = await client.jobs.get('job_1').catch((e: unknown) => e)
    expect(isCircuitOpenError(error)).toBe(true)
    expect(error).toMatchObject({ retryAfterMs: 10_000, retryable: true })
    expect(fetch.calls).toHaveLength(3)
    manual.advance(10_000)
    status = 200
    expect((await client.jobs.get('job_1')).id).toBe('job_1')
    expect(transitions).toEqual(['circuit:open', 'circuit:half-open', 'circuit:close'])
    expect(fetch.calls).toHaveLength(4)
  })

  it('should let only one probe through while half-open, and reopen when it fails', async () => {
    let release: (r: Response) => void = () => undefined
    let hold = false
    const { client, fetch, manual, transitions } = setup(() =>
      hold
        ? new Promise<Response>((resolve) => {
            release = resolve
          })
        : problemResponse(500, 'down'),
    )
    for (let i = 0; i < 3; i++) await client.jobs.get('job_1').catch(() => undefined)
    manual.advance(10_000)
    hold = true
    const probe = client.jobs.get('job_1').catch((e: unknown) => e)
    await expect(client.jobs.get('job_1')).rejects.toSatisfy(isCircuitOpenError)
    expect(fetch.calls).toHaveLength(4)
    release(problemResponse(500, 'still down'))
    expect(isServerError(await probe)).toBe(true)
    expect(transitions).toEqual(['circuit:open', 'circuit:half-open', 'circuit:open'])
  })

  it('should not be tripped by client errors', async () => {
    const { client, transitions } = setup(() => problemResponse(404, 'nope'))
    for (let i = 0; i < 10; i++)
      await expect(client.jobs.get('job_1')).rejects.toSatisfy(isNotFoundError)
    expect(transitions).toEqual([])
  })

  it('should reset the failure count on a success', async () => {
    let calls = 0
    const { client, transitions } = setup(() =>
      ++calls % 3 === 0 ? json(jobBody()) : problemResponse(503, 'blip'),
    )
    for (let i = 0; i < 12; i++) await client.jobs.get('job_1').catch(() => undefined)
    expect(transitions).toEqual([])
  })
  it('should not count the calls it refuses as failures: they neither push back the probe nor reopen', async () => {
    let release: (r: Response) => void = () => undefined
    let down = true
    const { client, fetch, manual, transitions } = setup(() =>
      down
        ? problemResponse(503, 'down')
        : new Promise<Response>((resolve) => {
            release = resolve
          }),
    )
    for (let i = 0; i < 3; i++) await client.jobs.get('job_1').catch(() => undefined)
    manual.advance(5_000)
    await expect(client.jobs.get('job_1')).rejects.toSatisfy(isCircuitOpenError)
    manual.advance(5_000)
    down = false
    const probe = client.jobs.get('job_1')
    await expect(client.jobs.get('job_1')).rejects.toSatisfy(isCircuitOpenError)
    release(json(jobBody()))
    expect((await probe).id).toBe('job_1')
    expect(transitions).toEqual(['circuit:open', 'circuit:half-open', 'circuit:close'])
    expect(fetch.calls).toHaveLength(4)
  })

  it('should not open on 429s or 503s that say when to come back: the server is up and pacing', async () => {
    let retryAfter: string | undefined = '1'
    const { client, fetch, manual, transitions } = setup(() => {
      const pacing = retryAfter !== undefined && fetch.calls.length % 2 === 0
      const response = problemResponse(pacing ? 429 : 503, 'busy')
      if (retryAfter !== undefined) response.headers.set('retry-after', retryAfter)
      return response
    })
    // (Each call goes when the last refusal said: the client holds its requests until then.)
    for (let i = 0; i < 10; i++) {
      await expect(drive(manual, client.jobs.get('job_1'), 500, 10)).rejects.toThrow()
    }
    expect(transitions).toEqual([])
    expect(fetch.calls).toHaveLength(10)
    // Without the header, a 503 is a failure like any other (a 429 is still pacing: below).
    retryAfter = undefined
    for (let i = 0; i < 3; i++) await expect(client.jobs.get('job_1')).rejects.toThrow()
    expect(transitions).toEqual(['circuit:open'])
  })

  it('should not open on 429s that say when their window resets, without Retry-After', async () => {
    const { client, transitions } = setup(() => {
      const response = problemResponse(429, 'Too Many Requests')
      response.headers.set('x-ratelimit-reset', '2')
      return response
    })
    for (let i = 0; i < 10; i++) await expect(client.jobs.get('job_1')).rejects.toThrow()
    expect(transitions).toEqual([])
  })

  it('should not open on bare 429s either: too many requests is no outage', async () => {
    const { client, transitions } = setup(() => new Response('Too Many Requests', { status: 429 }))
    for (let i = 0; i < 10; i++) await expect(client.jobs.get('job_1')).rejects.toThrow()
    expect(transitions).toEqual([])
  })

  it('should let other waits wait out a slow probe instead of failing on its refusals', async () => {
    const { manual, clock } = virtualClock()
    let calls = 0
    const fetch = fakeFetch(async (call) => {
      calls++
      if (calls <= 3) return problemResponse(500, 'broken')
      // Recovered, but the first answer (the probe) takes 2.5 s.
      if (calls === 4) await new Promise<void>((resolve) => clock.sleep(2_500).then(resolve))
      const id = new URL(call.url).pathname.split('/').pop()
      return json(jobBody({ id, status: 'completed', progress: 1 }))
    })
    const client = createClient({
      transport: 'poll',
      baseUrl: 'http://api.test',
      fetch,
      clock,
      retry: false,
      circuitBreaker: { failureThreshold: 3, resetTimeoutMs: 1_000 },
      polling: { requestCostMs: 100, minIntervalMs: 100 },
    })
    let settled = 0
    const waits = ['job_a', 'job_b'].map((id) =>
      client.jobs.wait(id, { timeoutMs: 60_000 }).finally(() => settled++),
    )
    for (let i = 0; i < 600 && settled < 2; i++) await manual.tickAsync(100)
    const results = await Promise.allSettled(waits)
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled'])
  })

  /** A polling client of a server that refuses every connection. */
  /** A server that answered the client once, then went down for good. */
  async function deadServer(options: Partial<ClientOptions>) {
    const { manual, clock } = virtualClock()
    let up = true
    const fetch = fakeFetch(() =>
      up ? json(jobBody()) : Promise.reject(new TypeError('fetch failed')),
    )
    const client = createClient({
      transport: 'poll',
      baseUrl: 'http://api.test',
      fetch,
      clock,
      ...options,
    })
    await drive(manual, client.jobs.get('job_1'))
    up = false
    return { client, fetch, manual }
  }

  it('should wait for a server that starts a few seconds after the client', async () => {
    const { manual, clock } = virtualClock()
    const start = manual.now()
    const fetch = fakeFetch((call) => {
      if (manual.now() - start < 3_000) return Promise.reject(new TypeError('fetch failed'))
      if (call.method === 'POST') return json(jobBody({ id: 'job_b', status: 'pending' }), 201)
      const id = new URL(call.url).pathname.split('/').pop()
      return json(jobBody({ id, status: 'completed' }))
    })
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock, transport: 'poll' })
    const params = { video_url: 'https://example.com/a.mp4', target_language: 'es' }
    const done = await drive(
      manual,
      Promise.all([client.jobs.wait('job_a'), client.jobs.createAndWait(params)]),
      100,
      300,
    )
    // Failed at its first check's retries, a second in, before the first probe's verdict.
    expect(done.map((job) => job.status)).toEqual(['completed', 'completed'])
  })

  it('should wait through an outage when a wait resumes in a new client', async () => {
    const { manual, clock } = virtualClock()
    const start = manual.now()
    // Down for the new process's first 20 s (a deploy); its token says the server was there.
    const fetch = fakeFetch(() =>
      manual.now() - start < 20_000
        ? Promise.reject(new TypeError('fetch failed'))
        : json(jobBody({ id: 'job_1', status: 'completed' })),
    )
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock, transport: 'poll' })
    const resume = encodeToken({ id: 'job_1', checks: 3, delays: 2 })
    const job = await drive(manual, client.jobs.wait('job_1', { resume }), 100, 600)
    expect(job.status).toBe('completed')
  })

  it('should end a wait within seconds on a server never reached (a wrong port), saying why', async () => {
    const { manual, clock } = virtualClock()
    const fetch = fakeFetch(() => Promise.reject(new TypeError('fetch failed')))
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock, transport: 'poll' })
    const params = { video_url: 'https://example.com/a.mp4', target_language: 'es' }
    const start = manual.now()
    const [waited, made] = await drive(
      manual,
      Promise.all([
        client.jobs.wait('job_a').catch((e: unknown) => e),
        client.jobs.createAndWait(params).catch((e: unknown) => e),
      ]),
      100,
      3_000,
    )
    // At the breaker's first failed probe, not after its openings' minutes (318 s).
    expect(manual.now() - start).toBeLessThan(10_000)
    expect(isNetworkError(waited)).toBe(true)
    expect(isNetworkError(made)).toBe(true)
  })

  it('should end with the network’s failure, not a refusal, when a wait gives up on it first', async () => {
    const params = { video_url: 'https://example.com/a.mp4', target_language: 'es' }
    // Two failed checks: the first check's, then the circuit's opening that refuses the next.
    const limits = { maxConsecutiveErrors: 2 }
    const calls = [
      (client: Client) => client.jobs.wait('job_a', limits),
      (client: Client) => client.jobs.createAndWait(params, limits),
    ]
    for (const call of calls) {
      const { manual, clock } = virtualClock()
      const fetch = fakeFetch(() => Promise.reject(new TypeError('fetch failed')))
      // The default transport: a held request first, then checks.
      const client = createClient({ baseUrl: 'http://api.test', fetch, clock })
      const error = await drive(
        manual,
        call(client).catch((e: unknown) => e),
        100,
        3_000,
      )
      expect(isNetworkError(error)).toBe(true)
    }
  })

  it('should end waits on a server that stays down after maxConsecutiveErrors openings', async () => {
    const { client, fetch, manual } = await deadServer({
      circuitBreaker: { failureThreshold: 5, resetTimeoutMs: 1_000 },
    })
    const limits = { maxConsecutiveErrors: 3 }
    const start = manual.now()
    let settled = 0
    const one = client.jobs.wait('job_a', limits).catch((e: unknown) => e)
    const all = client.jobs.waitAll(['job_b', 'job_c'], limits)
    const waits = [one.finally(() => settled++), all.finally(() => settled++)]
    for (let i = 0; i < 600 && settled < 2; i++) await manual.tickAsync(100)
    const [alone, many] = await Promise.all(waits)
    // Each opening of the circuit (the first, then each failed probe) is one failed check; the
    // refusal carries the server's failure as its cause.
    expect(isCircuitOpenError(alone)).toBe(true)
    expect((alone as Error).message).toContain('(last: GET /v1/jobs')
    expect(isNetworkError((alone as Error).cause)).toBe(true)
    expect(many).toMatchObject([{ status: 'rejected' }, { status: 'rejected' }])
    expect(manual.now() - start).toBeLessThan(10_000)
    // Nothing left to send: the clock moving on sends no request.
    const sent = fetch.calls.length
    await manual.tickAsync(60_000)
    expect(fetch.calls).toHaveLength(sent)
  })

  it('should send the probe as soon as the circuit lets it, whatever the strategy learned', async () => {
    const { client, manual } = await deadServer({
      retry: false,
      circuitBreaker: { failureThreshold: 1, resetTimeoutMs: 5_000 },
    })
    const openedAt: number[] = []
    client.on('circuit:open', () => openedAt.push(manual.now()))
    let ended = false
    const wait = client.jobs
      .wait('job_a', { maxConsecutiveErrors: 3 })
      .catch(() => undefined)
      .finally(() => {
        ended = true
      })
    for (let i = 0; i < 1_200 && !ended; i++) await manual.tickAsync(100)
    await wait
    // Open 5 s, then 10 s after each failed probe: each probe went when it could.
    const gaps = openedAt.slice(1).map((t, i) => t - (openedAt[i] as number))
    expect(gaps).toHaveLength(2)
    expect(gaps[0]).toBeGreaterThanOrEqual(5_000)
    expect(gaps[0]).toBeLessThan(5_200)
    expect(gaps[1]).toBeGreaterThanOrEqual(10_000)
    expect(gaps[1]).toBeLessThan(10_200)
  })

  it.each([
    ['the default strategy', undefined, false],
    ['a fixed 100 ms interval, deaf to hints', fixedInterval(100), false],
    ['waitAll (aligned checks)', undefined, true],
  ] as const)('should count each opening once per wait, with %s', async (_, polling, many) => {
    const { client, manual } = await deadServer({
      retry: false,
      circuitBreaker: { failureThreshold: 1, resetTimeoutMs: 5_000 },
    })
    let opens = 0
    client.on('circuit:open', () => opens++)
    const limits = { maxConsecutiveErrors: 3, ...(polling && { polling }) }
    let openedAtEnd: number | undefined
    const wait = (
      many ? client.jobs.waitAll(['job_a', 'job_b'], limits) : client.jobs.wait('job_a', limits)
    )
      .catch(() => undefined)
      .finally(() => {
        openedAtEnd = opens
      })
    for (let i = 0; i < 600 && openedAtEnd === undefined; i++) await manual.tickAsync(100)
    await wait
    // The first failure opened it (one failed check), each failed probe opened it again: the
    // refusals in between, however many, counted for nothing.
    expect(openedAtEnd).toBe(3)
  })

  it('should stay open twice as long after each failed probe, up to the most, and start over once closed', () => {
    const { clock, manual } = virtualClock()
    const breaker = new CircuitBreaker(
      { failureThreshold: 1, resetTimeoutMs: 1_000, maxResetTimeoutMs: 5_000 },
      clock,
      () => {},
    )
    const down = new NetworkError({ method: 'GET', path: '/' }, new TypeError('down'))
    /** How long the circuit stays open after the call it lets through fails. */
    const openFor = (): number => {
      const probe = breaker.admit()
      breaker.failed(down, probe)
      let waited = 0
      for (;;) {
        try {
          breaker.admit()
          // Let through: put the circuit back as the probe found it.
          breaker.released(true)
          return waited
        } catch {
          manual.advance(100)
          waited += 100
        }
      }
    }
    expect([openFor(), openFor(), openFor(), openFor(), openFor()]).toEqual([
      1_000, 2_000, 4_000, 5_000, 5_000,
    ])
    breaker.admit()
    breaker.succeeded()
    expect(openFor()).toBe(1_000)
  })

  it('should not let a call that fails late, let through before the circuit opened, move it', () => {
    const { clock, manual } = virtualClock()
    const breaker = new CircuitBreaker(
      { failureThreshold: 1, resetTimeoutMs: 1_000, maxResetTimeoutMs: 8_000 },
      clock,
      () => {},
    )
    const down = new NetworkError({ method: 'GET', path: '/' }, new TypeError('down'))
    const early = breaker.admit()
    const opener = breaker.admit()
    breaker.failed(down, opener)
    manual.advance(900)
    // The call let through before the opening fails now: the probe is still due at 1 s.
    breaker.failed(down, early)
    manual.advance(100)
    const probe = breaker.admit()
    expect(probe).toBe(true)
    // Another late call fails while the probe is out: not the verdict.
    breaker.failed(down, false)
    expect(breaker.state.state).toBe('half-open')
    breaker.failed(down, probe)
    manual.advance(1_999)
    expect(() => breaker.admit()).toThrow()
    manual.advance(1)
    expect(breaker.admit()).toBe(true)
  })

  it('should leave the circuit as it was for a call released, and let the next call probe', () => {
    const { clock, manual } = virtualClock()
    const states: string[] = []
    const breaker = new CircuitBreaker(
      { ...DEFAULTS.circuitBreaker, failureThreshold: 1, resetTimeoutMs: 1_000 },
      clock,
      (state) => states.push(state.state),
    )
    breaker.admit()
    breaker.failed(new NetworkError({ method: 'GET', path: '/' }, new TypeError('down')), false)
    manual.advance(1_000)
    expect(breaker.admit()).toBe(true)
    breaker.released(true)
    // The probe gave its turn back: still not closed, and the next call probes.
    expect(breaker.state.state).toBe('open')
    expect(breaker.admit()).toBe(true)
    // A probe released after another call closed the circuit changes nothing.
    breaker.succeeded()
    breaker.released(true)
    expect(breaker.state.state).toBe('closed')
    expect(states).toEqual(['open', 'half-open', 'open', 'half-open', 'closed'])
  })

  it('should not close the circuit on a probe its caller aborted', async () => {
    const { manual, clock } = virtualClock()
    let down = true
    const fetch = fakeFetch((call) =>
      down
        ? problemResponse(503, 'down')
        : new Promise<Response>((_, reject) =>
            call.signal?.addEventListener('abort', () => reject(call.signal?.reason)),
          ),
    )
    const client = createClient({
      baseUrl: 'http://api.test',
      fetch,
      clock,
      retry: false,
      circuitBreaker: { failureThreshold: 2, resetTimeoutMs: 10_000 },
    })
    const transitions: string[] = []
    for (const type of ['circuit:open', 'circuit:half-open', 'circuit:close'] as const) {
      client.on(type, () => transitions.push(type))
    }
    for (let i = 0; i < 2; i++) await client.jobs.get('job_1').catch(() => {})
    expect(transitions).toEqual(['circuit:open'])
    down = false
    await manual.tickAsync(10_000)
    const controller = new AbortController()
    const probe = client.jobs.get('job_1', { signal: controller.signal }).catch((e: unknown) => e)
    await manual.tickAsync(0)
    controller.abort(new Error('left'))
    await probe
    // Open again, the same opening (the aborted probe learned nothing).
    expect(transitions).toEqual(['circuit:open', 'circuit:half-open', 'circuit:open'])
    // The next call probes again at once.
    down = true
    expect(isServerError(await client.jobs.get('job_1').catch((e: unknown) => e))).toBe(true)
    expect(transitions).toEqual([
      'circuit:open',
      'circuit:half-open',
      'circuit:open',
      'circuit:half-open',
      'circuit:open',
    ])
  })
})
