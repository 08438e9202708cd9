import { describe, expect, it } from 'vitest'
import { fakeFetch, hangingFetch, jobBody, json, problemResponse } from '../test/fake-fetch.js'
import { drive, virtualClock } from '../test/virtual-time.js'
import { createClient } from './client.js'
import {
  isApiError,
  isInvalidResponseError,
  isNetworkError,
  isNotFoundError,
  isServerError,
  isTimeoutError,
  type NotFoundError,
} from './errors.js'
import { fixedInterval } from './polling/strategy.js'

const API_KEY = 'vt_secret_key_do_not_leak'

function clientWith(fetch: ReturnType<typeof fakeFetch>, requestTimeoutMs = 10_000) {
  return createClient({
    baseUrl: 'http://api.test/base/',
    apiKey: API_KEY,
    fetch,
    // One attempt per call: these tests are about mapping each response; retries have their own.
    retry: false,
    requestTimeoutMs,
  })
}

describe('jobs.get', () => {
  it('should take an error answered after its time limit ran out for the timeout it is', async () => {
    // An in-process app answers an aborted request (its server saw the client leave: 499)
    // where a network fetch would reject.
    const fetch = fakeFetch(
      (call) =>
        new Promise((resolve) => {
          call.signal?.addEventListener('abort', () =>
            resolve(problemResponse(499, 'Client Closed Request')),
          )
        }),
    )
    const error = await clientWith(fetch, 20)
      .jobs.get('job_1')
      .catch((e: unknown) => e)
    expect(isTimeoutError(error)).toBe(true)
    expect(error).toMatchObject({ scope: 'request', reason: 'request', retryable: true })
  })

  it('should return the typed job and send the key as a bearer token', async () => {
    const fetch = fakeFetch(() =>
      json(
        jobBody({
          id: 'job_42',
          status: 'completed',
          progress: 1,
          result: { url: 'https://cdn.test/x.mp4' },
        }),
      ),
    )
    const job = await clientWith(fetch).jobs.get('job_42')
    expect(job.status).toBe('completed')
    expect(job.result).toEqual({ url: 'https://cdn.test/x.mp4' })
    expect(fetch.calls).toHaveLength(1)
    expect(fetch.calls[0]?.url).toBe('http://api.test/base/v1/jobs/job_42')
    expect(fetch.calls[0]?.method).toBe('GET')
    expect(fetch.calls[0]?.headers.get('authorization')).toBe(`Bearer ${API_KEY}`)
  })

  it('should encode the id into the path', async () => {
    const fetch = fakeFetch(() => json(jobBody({ id: 'a/b?c' })))
    await clientWith(fetch).jobs.get('a/b?c')
    expect(fetch.calls[0]?.url).toBe('http://api.test/base/v1/jobs/a%2Fb%3Fc')
  })

  it('should refuse a 304 to a request that sent no If-None-Match', async () => {
    const fetch = fakeFetch(() => new Response(null, { status: 304 }))
    const error = await clientWith(fetch)
      .jobs.get('job_42')
      .catch((e: unknown) => e)
    expect(isInvalidResponseError(error)).toBe(true)
  })

  it("should refuse an answer about another job (a proxy's or a server's mix-up)", async () => {
    const fetch = fakeFetch(() => json(jobBody({ id: 'job_other', status: 'completed' })))
    const error = await clientWith(fetch)
      .jobs.get('job_42')
      .catch((e: unknown) => e)
    expect(isInvalidResponseError(error)).toBe(true)
    expect(String(error)).toMatch(/"id" is not the job asked for/)
  })

  it('should throw NotFoundError with the problem body and request id on 404', async () => {
    const fetch = fakeFetch(() => problemResponse(404, 'Job not found', 'req_abc'))
    const error = (await clientWith(fetch)
      .jobs.get('job_x')
      .catch((e: unknown) => e)) as NotFoundError
    expect(isNotFoundError(error)).toBe(true)
    expect(isApiError(error)).toBe(true)
    expect(error.status).toBe(404)
    expect(error.requestId).toBe('req_abc')
    expect(error.problem?.title).toBe('Job not found')
    expect(error.retryable).toBe(false)
    expect(error.message).toContain('GET /v1/jobs/job_x failed with HTTP 404')
    expect(error.message).toContain('req_abc')
  })

  it('should throw a retryable ServerError on 503 even without a problem body', async () => {
    const fetch = fakeFetch(() => new Response('upstream down', { status: 503 }))
    const error = await clientWith(fetch)
      .jobs.get('job_1')
      .catch((e: unknown) => e)
    expect(isServerError(error)).toBe(true)
    expect(error).toMatchObject({
      status: 503,
      retryable: true,
      problem: { detail: 'upstream down' },
    })
  })

  it('should throw a retryable NetworkError when fetch itself fails', async () => {
    const fetch = fakeFetch(() => Promise.reject(new TypeError('fetch failed')))
    const error = await clientWith(fetch)
      .jobs.get('job_1')
      .catch((e: unknown) => e)
    expect(isNetworkError(error)).toBe(true)
    expect(error).toMatchObject({ retryable: true })
    expect((error as Error).message).toContain('fetch failed')
    expect(error).toMatchObject({ midAnswer: false })
  })

  it('should say when the connection was lost while the answer was read', async () => {
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"id":"job_1","sta'))
        controller.error(new TypeError('terminated'))
      },
    })
    const fetch = fakeFetch(
      () => new Response(body, { headers: { 'content-type': 'application/json' } }),
    )
    const error = await clientWith(fetch)
      .jobs.get('job_1')
      .catch((e: unknown) => e)
    expect(isNetworkError(error)).toBe(true)
    expect(error).toMatchObject({ retryable: true, midAnswer: true })
    expect((error as Error).message).toContain('lost its connection while the answer was read')
  })

  it.each([
    [
      'malformed JSON',
      () => new Response('{"id":', { headers: { 'content-type': 'application/json' } }),
      'malformed JSON',
    ],
    [
      'a wrong content type',
      () => new Response('<html></html>', { headers: { 'content-type': 'text/html' } }),
      'expected JSON, got content type text/html',
    ],
    [
      'a body that is not a Job',
      () => json({ id: 'job_1', status: 7 }),
      '"status" must be a string: pending, running, completed, error, canceled (it was 7)',
    ],
  ])('should throw InvalidResponseError on %s', async (_, respond, reason) => {
    const error = await clientWith(fakeFetch(respond))
      .jobs.get('job_1')
      .catch((e: unknown) => e)
    expect(isInvalidResponseError(error)).toBe(true)
    expect(error).toMatchObject({ retryable: true, status: 200 })
    expect((error as Error).message).toContain(reason)
  })

  it.each([
    [
      'a plain-text refusal',
      () => new Response('target_language must be\n an ISO 639-1 code', { status: 422 }),
      'failed with HTTP 422: target_language must be an ISO 639-1 code',
    ],
    [
      'a proxy’s page',
      () =>
        new Response('<html><head><title>502 Bad Gateway</title></head><body>…</body></html>', {
          status: 502,
          headers: { 'content-type': 'text/html' },
        }),
      'failed with HTTP 502: 502 Bad Gateway',
    ],
    [
      'an 8 MB detail',
      () =>
        json(
          { type: 'about:blank', title: 'Bad', status: 400, detail: 'x'.repeat(8_000_000) },
          400,
        ),
      `failed with HTTP 400: ${'x'.repeat(500)}…`,
    ],
  ])('should say what %s said, in a sentence', async (_, respond, said) => {
    const error = await clientWith(fakeFetch(respond))
      .jobs.get('job_1')
      .catch((e: unknown) => e)
    expect((error as Error).message).toContain(said)
    expect((error as Error).message.length).toBeLessThan(700)
  })

  it('should quote a status that does not read, a key echoed in it redacted', async () => {
    const error = await clientWith(fakeFetch(() => json({ id: 'job_1', status: [API_KEY] })))
      .jobs.get('job_1')
      .catch((e: unknown) => e)
    expect((error as Error).message).toContain('(it was ["[redacted]"])')
    expect((error as Error).message).not.toContain(API_KEY)
  })

  it('should say how long the server asked not to be asked again (retryAfterMs)', async () => {
    const refusal = (status: number, headers: Record<string, string>) => () => {
      const response = problemResponse(status, 'No')
      for (const [name, value] of Object.entries(headers)) response.headers.set(name, value)
      return response
    }
    const cases: [ReturnType<typeof refusal>, number | undefined][] = [
      [refusal(503, { 'retry-after': '7' }), 7_000],
      // A 429 without Retry-After: when its limit's window resets.
      [
        refusal(429, { ratelimit: '"default";r=0;t=5', 'ratelimit-policy': '"default";q=10;w=60' }),
        5_000,
      ],
      // An HTTP date, read against the server's Date.
      [
        refusal(429, {
          'retry-after': 'Sun, 06 Dec 2026 10:00:30 GMT',
          date: 'Sun, 06 Dec 2026 10:00:00 GMT',
        }),
        30_000,
      ],
      [refusal(500, {}), undefined],
    ]
    for (const [respond, retryAfterMs] of cases) {
      const error = await clientWith(fakeFetch(respond))
        .jobs.get('job_1')
        .catch((e: unknown) => e)
      expect(isApiError(error)).toBe(true)
      expect((error as { retryAfterMs?: number }).retryAfterMs).toBe(retryAfterMs)
    }
  })

  it('should fail a wait, not ask on and on, when a completed job has no result', async () => {
    const { manual, clock } = virtualClock()
    const fetch = fakeFetch(() => json({ id: 'job_1', status: 'completed' }))
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock, transport: 'poll' })
    const start = manual.now()
    const error = await drive(
      manual,
      client.jobs.wait('job_1').catch((e: unknown) => e),
      100,
      100,
    )
    expect(isInvalidResponseError(error)).toBe(true)
    expect((error as Error).message).toContain('"result" must be an object with a "url"')
    expect(error).toMatchObject({ retryable: false })
    // No later answer is waited for: a completed job's answer carries its result.
    expect(fetch.calls).toHaveLength(1)
    expect(manual.now() - start).toBeLessThanOrEqual(100)
  })

  it('should take an answer about another job for a mix-up, whatever it says', async () => {
    const { manual, clock } = virtualClock()
    let calls = 0
    const fetch = fakeFetch(() =>
      ++calls === 1
        ? json({ id: 'job_other', status: 'completed' })
        : json(jobBody({ status: 'completed' })),
    )
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock, transport: 'poll' })
    const done = await drive(manual, client.jobs.wait('job_1'), 100, 100)
    expect(done).toMatchObject({ id: 'job_1', status: 'completed' })
  })

  it.each([
    ['queued', 'pending'],
    ['PROCESSING', 'running'],
    ['in-progress', 'running'],
    ['Succeeded', 'completed'],
    ['failed', 'error'],
    ['cancelled', 'canceled'],
    ['COMPLETE', 'completed'],
    ['IN_QUEUE', 'pending'],
    ['expired', 'error'],
    ['timed-out', 'error'],
    ['Done', 'completed'],
    // A step of the work this client does not know: running, not an answer that does not read.
    ['transcoding', 'running'],
  ])("should read another server's status %s as %s", async (given, status) => {
    const result = status === 'completed' ? { url: 'https://cdn.test/x.mp4' } : null
    const fetch = fakeFetch(() => json(jobBody({ status: given, result })))
    expect((await clientWith(fetch).jobs.get('job_1')).status).toBe(status)
  })

  it('should wait through a status it does not know, however many answers say it', async () => {
    const { manual, clock } = virtualClock()
    let calls = 0
    const fetch = fakeFetch(() =>
      ++calls <= 15
        ? json(jobBody({ status: 'transcoding' }))
        : json(jobBody({ status: 'completed', result: { url: 'https://cdn.test/x.mp4' } })),
    )
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock, transport: 'poll' })
    const failures: unknown[] = []
    client.on('request:error', (event) => failures.push(event))
    const wait = client.jobs.wait('job_1', { polling: fixedInterval(1_000), timeoutMs: 60_000 })
    expect(await drive(manual, wait, 100, 1_000)).toMatchObject({ status: 'completed' })
    expect(calls).toBe(16)
    expect(failures).toEqual([])
  })

  it('should tell a check answered with what is not a Job as a failed request, its status kept', async () => {
    const { manual, clock } = virtualClock()
    let calls = 0
    const fetch = fakeFetch(() =>
      ++calls <= 2
        ? json({ id: 'job_1', status: 7 })
        : json(jobBody({ status: 'completed', result: { url: 'https://cdn.test/x.mp4' } })),
    )
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock, transport: 'poll' })
    const failures: unknown[] = []
    client.on('request:error', ({ error }) => failures.push(error))
    const wait = client.jobs.wait('job_1', { polling: fixedInterval(1_000) })
    await drive(manual, wait, 100, 1_000)
    expect(failures).toHaveLength(2)
    expect(failures.every(isInvalidResponseError)).toBe(true)
    const failed = client.jobs.history('job_1').filter((entry) => entry.error !== undefined)
    expect(failed.map((entry) => entry.httpStatus)).toEqual([200, 200])
  })

  it('should read a running job’s whole 1 after more than 1 % as done, not 1 %', async () => {
    const { manual, clock } = virtualClock()
    const answers = [
      jobBody({ progress: 0.6 }),
      jobBody({ progress: 1 }),
      jobBody({ status: 'completed', progress: 1, result: { url: 'https://cdn.test/x.mp4' } }),
    ]
    let calls = 0
    const fetch = fakeFetch(() => json(answers[Math.min(calls++, answers.length - 1)]))
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock, transport: 'poll' })
    const seen: string[] = []
    const wait = client.jobs.wait('job_1', {
      polling: fixedInterval(1_000),
      onProgress: (job) => seen.push(`${job.status} ${job.progress}`),
    })
    await drive(manual, wait, 100, 1_000)
    expect(seen).toEqual(['running 0.6', 'running 1', 'completed 1'])
    // From a server counting in per cent, 1 is 1 % first thing.
    calls = 0
    answers.splice(0, 2, jobBody({ progress: 1 }), jobBody({ progress: 40 }))
    seen.length = 0
    const again = client.jobs.wait('job_1', {
      polling: fixedInterval(1_000),
      onProgress: (job) => seen.push(`${job.status} ${job.progress}`),
    })
    await drive(manual, again, 100, 1_000)
    expect(seen).toEqual(['running 0.01', 'running 0.4', 'completed 1'])
  })

  it('should read a server that sends less than the protocol: only an id, a status, a result', async () => {
    const fetch = fakeFetch(() =>
      json({ id: 42, status: 'completed', result: 'https://cdn.test/x.mp4', error: 'none' }),
    )
    const job = await clientWith(fetch).jobs.get('42')
    expect(job).toEqual({
      id: '42',
      status: 'completed',
      progress: 1,
      eta_ms: null,
      created_at: '',
      updated_at: '',
      video_url: '',
      target_language: '',
      title: null,
      result: { url: 'https://cdn.test/x.mp4' },
      error: { code: 'unknown', message: 'none' },
    })
  })

  it('should read progress in per cent, epoch times, and drop what cannot be read', async () => {
    const body = { progress: 40, created_at: 1_767_225_600, updated_at: 1_767_225_601_500 }
    const fetch = fakeFetch(() => json(jobBody({ ...body, eta_ms: -5 })))
    const job = await clientWith(fetch).jobs.get('job_1')
    expect(job).toMatchObject({
      progress: 0.4,
      eta_ms: null,
      created_at: '2026-01-01T00:00:00.000Z',
      updated_at: '2026-01-01T00:00:01.500Z',
    })
    // A whole 1 on a job not done is 1 % (a server counting in fractions says 1 once done).
    const oneOf = async (progress: number) =>
      (await clientWith(fakeFetch(() => json(jobBody({ progress })))).jobs.get('job_1')).progress
    expect(await oneOf(1)).toBe(0.01)
    expect(await oneOf(1.000_000_1)).toBe(1)
    expect(await oneOf(0.999)).toBe(0.999)
    // Digits are epoch times too; a time without an offset is UTC (as the protocol's are).
    const timesOf = async (created_at: unknown, updated_at: unknown) => {
      const fetch = fakeFetch(() => json(jobBody({ created_at, updated_at })))
      const job = await clientWith(fetch).jobs.get('job_1')
      return [job.created_at, job.updated_at]
    }
    expect(await timesOf('1767225600', '1767225601500')).toEqual([
      '2026-01-01T00:00:00.000Z',
      '2026-01-01T00:00:01.500Z',
    ])
    expect(await timesOf('2026-01-01T00:00:05.123000', '2026-01-01 00:00:07')).toEqual([
      '2026-01-01T00:00:05.123000Z',
      '2026-01-01T00:00:07Z',
    ])
    expect(await timesOf('2026-01-01T09:00:05+09:00', true)).toEqual([
      '2026-01-01T09:00:05+09:00',
      '',
    ])
    const garbled = fakeFetch(() => json(jobBody({ progress: 250, created_at: {} })))
    expect(await clientWith(garbled).jobs.get('job_1')).toMatchObject({
      progress: 0,
      created_at: '',
    })
  })

  it.each([
    ['{ message }', { message: 'video_url is not reachable' }],
    ['{ error }', { error: 'video_url is not reachable' }],
    ['{ error: { message } }', { error: { message: 'video_url is not reachable', code: 'x' } }],
    ['{ detail }', { detail: 'video_url is not reachable' }],
  ])('should say what another server’s error body %s says', async (_, body) => {
    const fetch = fakeFetch(() => json(body, 422))
    const error = await clientWith(fetch)
      .jobs.get('job_1')
      .catch((e: unknown) => e)
    expect(isApiError(error)).toBe(true)
    expect((error as Error).message).toContain('video_url is not reachable')
    expect(error).toMatchObject({ status: 422, problem: { status: 422, title: 'HTTP 422' } })
  })

  it('should reject with the signal reason and send nothing when already aborted', async () => {
    const fetch = fakeFetch(() => json(jobBody()))
    const controller = new AbortController()
    const reason = new Error('user left the page')
    controller.abort(reason)
    await expect(clientWith(fetch).jobs.get('job_1', { signal: controller.signal })).rejects.toBe(
      reason,
    )
    expect(fetch.calls).toHaveLength(0)
  })

  it('should reject with the signal reason when aborted mid-request', async () => {
    const fetch = hangingFetch()
    const controller = new AbortController()
    const pending = clientWith(fetch).jobs.get('job_1', { signal: controller.signal })
    const reason = new Error('stop')
    controller.abort(reason)
    await expect(pending).rejects.toBe(reason)
  })

  it('should not report an aborted request as a failed one', async () => {
    const client = clientWith(hangingFetch())
    const reported: string[] = []
    client.on('request:error', () => reported.push('request:error'))
    client.on('request:retry', () => reported.push('request:retry'))
    const controller = new AbortController()
    const pending = client.jobs.get('job_1', { signal: controller.signal })
    controller.abort(new Error('stop'))
    await pending.catch(() => undefined)
    expect(reported).toEqual([])
  })

  it('should time out a hanging request with a retryable TimeoutError', async () => {
    const fetch = hangingFetch()
    const error = await clientWith(fetch, 20)
      .jobs.get('job_1')
      .catch((e: unknown) => e)
    expect(isTimeoutError(error)).toBe(true)
    expect(error).toMatchObject({ scope: 'request', timeoutMs: 20, retryable: true })
    expect(fetch.calls[0]?.signal?.aborted).toBe(true)
  })

  it('should time a request out on the client’s clock: in virtual time with a virtual one', async () => {
    const { manual, clock } = virtualClock()
    const fetch = hangingFetch()
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock, retry: false })
    const started = manual.now()
    const got = client.jobs.get('job_1').catch((e: unknown) => e)
    const error = await drive(manual, got, 1_000, 60)
    expect(isTimeoutError(error)).toBe(true)
    expect(manual.now() - started).toBe(10_000)
  })

  it('should never put the API key in an error message', async () => {
    const responses = [
      () => problemResponse(401, 'Unauthorized'),
      () => Promise.reject(new TypeError('fetch failed')),
      () => json({ nope: true }),
    ]
    for (const respond of responses) {
      const error = await clientWith(fakeFetch(respond))
        .jobs.get('job_1')
        .catch((e: unknown) => e)
      expect(String((error as Error).message)).not.toContain(API_KEY)
      expect(JSON.stringify(error)).not.toContain(API_KEY)
    }
  })
})

describe('jobs.create', () => {
  it('should POST the params as JSON with a generated idempotency key', async () => {
    const fetch = fakeFetch(() => json(jobBody({ status: 'pending', progress: 0 }), 202))
    const params = { video_url: 'https://example.com/a.mp4', target_language: 'es' }
    const job = await clientWith(fetch).jobs.create(params)
    expect(job.status).toBe('pending')
    const call = fetch.calls[0]
    expect(call?.method).toBe('POST')
    expect(call?.url).toBe('http://api.test/base/v1/jobs')
    expect(call?.headers.get('content-type')).toBe('application/json')
    expect(JSON.parse(call?.body ?? '')).toEqual(params)
    expect(call?.headers.get('idempotency-key')).toMatch(/^[0-9a-f-]{36}$/)
  })

  it('should send the idempotency key it is given, and a new one per call otherwise', async () => {
    const fetch = fakeFetch(() => json(jobBody(), 202))
    const client = clientWith(fetch)
    const params = { video_url: 'https://example.com/a.mp4', target_language: 'es' }
    await client.jobs.create(params, { idempotencyKey: 'mine' })
    await client.jobs.create(params)
    await client.jobs.create(params)
    const keys = fetch.calls.map((call) => call.headers.get('idempotency-key'))
    expect(keys[0]).toBe('mine')
    expect(keys[1]).not.toBe(keys[2])
  })

  it.each([
    [
      'an empty 202 with a Location',
      () => new Response(null, { status: 202, headers: { location: '/base/v1/jobs/job_9' } }),
    ],
    ['only an id', () => json({ id: 'job_9' }, 201)],
  ])('should find the job it made when the answer is %s', async (_, answer) => {
    const fetch = fakeFetch((call) =>
      call.method === 'POST' ? answer() : json(jobBody({ id: 'job_9', status: 'pending' })),
    )
    const params = { video_url: 'https://example.com/a.mp4', target_language: 'es' }
    const job = await clientWith(fetch).jobs.create(params)
    expect(job).toMatchObject({ id: 'job_9', status: 'pending' })
    expect(fetch.calls.map((c) => `${c.method} ${c.url}`)).toEqual([
      'POST http://api.test/base/v1/jobs',
      'GET http://api.test/base/v1/jobs/job_9',
    ])
  })

  it('should take the job it made as pending when its address says only "still working"', async () => {
    // A status monitor: the create and the job's address both answer an empty 202.
    const fetch = fakeFetch(
      () => new Response(null, { status: 202, headers: { location: '/base/v1/jobs/job_9' } }),
    )
    const params = { video_url: 'https://example.com/a.mp4', target_language: 'es' }
    const job = await clientWith(fetch).jobs.create(params)
    expect(job).toMatchObject({ id: 'job_9', status: 'pending' })
  })

  it('should not lose the job it made when its status does not read either: pending', async () => {
    const fetch = fakeFetch((call) =>
      call.method === 'POST'
        ? json({ id: 9, status: 'accepted' }, 202)
        : problemResponse(404, 'Not Found'),
    )
    const params = { video_url: 'https://example.com/a.mp4', target_language: 'es' }
    const job = await clientWith(fetch).jobs.create(params)
    expect(job).toMatchObject({ id: '9', status: 'pending' })
  })
})
