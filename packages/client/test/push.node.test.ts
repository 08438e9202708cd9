/**
 * Push transports (SSE, long-poll) and `transport: 'auto'`, against the real mock server
 * in-process in virtual time, and against fake servers that lack them.
 */
import { DEV_API_KEY, type ManualClock, sleep } from '@video-translation/mock-server'
import { describe, expect, it } from 'vitest'
import { type ClientOptions, type ClientState, createClient } from '../src/client.js'
import {
  isCircuitOpenError,
  isNetworkError,
  isNotFoundError,
  isTimeoutError,
  isVideoTranslationError,
} from '../src/errors.js'
import type { ClientEvents } from '../src/events.js'
import { fixedInterval } from '../src/polling/strategy.js'
import type { Job } from '../src/types.js'
import {
  type FetchCall,
  fakeFetch,
  hangUntilAborted,
  jobBody,
  json,
  problemResponse,
} from './fake-fetch.js'
import { drive, jobParams, limitedSetup, virtualClock, virtualSetup } from './virtual-time.js'

/**
 * A wait that wants every change (`onProgress`): its stream is a whole one, looked beside after
 * five quiet minutes (one of the job's end alone is looked beside every 30 min).
 */
const EVERY_CHANGE = { onProgress: () => {} }

/** A text/event-stream response whose body the test writes. */
function eventStream() {
  let controller: ReadableStreamDefaultController<Uint8Array> | undefined
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c
    },
  })
  const encoder = new TextEncoder()
  return {
    response: new Response(body, { headers: { 'content-type': 'text/event-stream' } }),
    write: (text: string) => controller?.enqueue(encoder.encode(text)),
    close: () => controller?.close(),
    /** The connection cut on the way. */
    cut: () => controller?.error(new TypeError('terminated')),
  }
}

type EventStream = ReturnType<typeof eventStream>

/**
 * The event streams a fake server opens, in order (`open` makes the next one's response);
 * `prepare` writes what each starts with, knowing how many came before.
 */
function streamServer(prepare: (stream: EventStream, before: number) => void = () => {}) {
  const streams: EventStream[] = []
  const open = () => {
    const stream = eventStream()
    prepare(stream, streams.length)
    streams.push(stream)
    return stream.response
  }
  return { streams, open }
}

const statusEvent = (job: Record<string, unknown>, id: number) =>
  `event: status\nid: ${id}\ndata: ${JSON.stringify(job)}\n\n`

/**
 * A stream that says the job runs, then keep-alives alone, and every plain look beside it held
 * until aborted: the looks, to see what ends them.
 */
function quietStream(requestTimeoutMs: number) {
  const { manual, clock } = virtualClock()
  const { streams, open } = streamServer((stream) => {
    stream.write(statusEvent(jobBody({ status: 'running' }), 1))
  })
  const looks: FetchCall[] = []
  const fetch = fakeFetch((call) => {
    if (call.url.includes('/events')) return open()
    looks.push(call)
    return hangUntilAborted(call)
  })
  const client = createClient({
    baseUrl: 'http://api.test',
    fetch,
    clock,
    transport: 'sse',
    requestTimeoutMs,
  })
  /** Five minutes and a little of keep-alives: a look goes out. */
  const quietFiveMinutes = async () => {
    for (let i = 0; i < 21; i++) {
      streams.at(-1)?.write(': keep-alive\n\n')
      await manual.tickAsync(15_000)
    }
  }
  return { manual, streams, looks, client, quietFiveMinutes }
}

describe('transport: sse', () => {
  it('should learn of the end the instant the server sends it, over one stream', async () => {
    const { client, manual, requests, settle } = virtualSetup({ client: { transport: 'sse' } })
    const job = await client.jobs.create(jobParams(42_000))
    const done = await settle(client.jobs.wait(job.id))
    expect(done.status).toBe('completed')
    expect(manual.now()).toBe(Date.parse(job.created_at) + 42_000)
    const after = requests.filter((r) => r.method === 'GET')
    // For its end alone: nobody wants every change.
    expect(after.map((r) => r.path)).toEqual([`/v1/jobs/${job.id}/events?until=terminal`])
  })

  it('should ask the stream for the end alone until a watch or a job:status listener joins', async () => {
    for (const joiner of ['watch', 'listener'] as const) {
      const { client, manual, requests, settle } = virtualSetup({
        client: { transport: 'sse' },
        simulation: { hints: { mode: 'eta', eta_noise: 0, progress: true } },
      })
      const job = await client.jobs.create(jobParams(25_000))
      const waited = client.jobs.wait(job.id)
      await manual.tickAsync(10_000)
      // Running since 2.5 s, its progress moving every half second: none of it sent.
      expect(client.jobs.history(job.id).filter((h) => h.pushed)).toHaveLength(1)
      const seen: number[] = []
      const watching =
        joiner === 'watch'
          ? (async () => {
              for await (const j of client.jobs.watch(job.id)) seen.push(j.progress)
            })()
          : undefined
      if (joiner === 'listener') client.on('job:status', (e) => seen.push(e.job.progress))
      await settle(Promise.all([waited, watching]))
      // The joiner sees the progress move from then on: the stream opened again, widened.
      expect(new Set(seen).size).toBeGreaterThan(5)
      const paths = requests.filter((r) => r.method === 'GET').map((r) => r.path)
      expect(paths[0]).toBe(`/v1/jobs/${job.id}/events?until=terminal`)
      expect(paths.at(-1)).toBe(`/v1/jobs/${job.id}/events`)
    }
  })

  it('should keep streams of the end alone after a 400 about a job, not the parameter', async () => {
    const { client, requests, settle } = virtualSetup({ client: { transport: 'sse' } })
    // The mock refuses an id with dots (400) wherever it is asked.
    await settle(client.jobs.wait('job.with.dots').catch(() => {}))
    const job = await client.jobs.create(jobParams(5_000))
    await settle(client.jobs.wait(job.id))
    const opens = requests.filter((r) => r.path.startsWith(`/v1/jobs/${job.id}/events`))
    expect(opens.map((r) => r.path)).toEqual([`/v1/jobs/${job.id}/events?until=terminal`])
  })

  it('should look beside a stream of the end alone seldom, and count no look as a status check', async () => {
    const { client, requests, settle } = virtualSetup({
      client: { transport: 'sse' },
      simulation: { hints: { mode: 'eta', eta_noise: 0, progress: true } },
    })
    const job = await client.jobs.create(jobParams(3_600_000))
    // Five status checks at most: a stream makes none, nor does a look beside it.
    const done = await settle(client.jobs.wait(job.id, { maxAttempts: 5 }))
    expect(done.status).toBe('completed')
    const gets = requests.filter((r) => r.method === 'GET')
    // The stream, and a look every 30 min of the hour (was every 5 min: 13 requests).
    expect(gets.length).toBeLessThanOrEqual(3)
  })

  it('should stream every change on a server that refuses until=terminal (a 400)', async () => {
    const { manual, clock } = virtualClock()
    const start = manual.now()
    const fetch = fakeFetch((call) => {
      if (call.url.includes('until=')) return problemResponse(400, 'Unknown parameter until')
      const id = new URL(call.url).pathname.split('/').at(-2) as string
      const stream = eventStream()
      stream.write(statusEvent(jobBody({ id, status: 'running' }), 1))
      const done = { id, status: 'completed', progress: 1, result: { url: 'https://x.test' } }
      const ended = jobBody(done as Partial<Job>)
      sleep(manual, start + 20_000 - manual.now()).then(() => stream.write(statusEvent(ended, 2)))
      return stream.response
    })
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock, transport: 'sse' })
    const fallbacks: unknown[] = []
    client.on('transport:fallback', (event) => fallbacks.push(event))
    const first = client.jobs.wait('job_1')
    await expect(drive(manual, first, 1_000, 60)).resolves.toMatchObject({ status: 'completed' })
    const second = client.jobs.wait('job_2')
    await expect(drive(manual, second, 1_000, 60)).resolves.toMatchObject({ status: 'completed' })
    expect(fallbacks).toEqual([])
    // Refused once; every stream after opened without it.
    expect(fetch.calls.map((c) => c.url.replace('http://api.test/v1/jobs/', ''))).toEqual([
      'job_1/events?until=terminal',
      'job_1/events',
      'job_2/events',
    ])
  })

  it('should open a refused stream again when the server said, not at the strategy’s next check', async () => {
    const { manual, clock } = virtualClock()
    const start = manual.now()
    // The first open refused for a second; the created job's ETA (10 minutes) overstates: the
    // stream says it ended at 20 s.
    let opens = 0
    const fetch = fakeFetch((call) => {
      if (call.method === 'POST') return json(jobBody({ status: 'pending', eta_ms: 600_000 }), 202)
      if (opens++ === 0) {
        const response = problemResponse(429, 'slow down')
        response.headers.set('retry-after', '1')
        return response
      }
      const stream = eventStream()
      stream.write(statusEvent(jobBody({ status: 'running', eta_ms: 600_000 }), 1))
      const ended = jobBody({ status: 'completed', progress: 1, result: { url: 'https://x.test' } })
      sleep(manual, start + 20_000 - manual.now()).then(() => stream.write(statusEvent(ended, 2)))
      return stream.response
    })
    // ('auto': an open refused is not tried again inside its request, as 'sse''s is.)
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock })
    const done = client.jobs.createAndWait(jobParams())
    await expect(drive(manual, done, 1_000, 700)).resolves.toMatchObject({ status: 'completed' })
    expect(opens).toBe(2)
    expect(manual.now() - start).toBeLessThanOrEqual(21_000)
  })

  it('should open the stream with the key a function gives', async () => {
    let given = 0
    const apiKey = async () => {
      given++
      return DEV_API_KEY
    }
    const { client, requests, settle } = virtualSetup({ client: { transport: 'sse', apiKey } })
    const job = await settle(client.jobs.createAndWait(jobParams(5_000)))
    expect(job.status).toBe('completed')
    // The create and the stream, each with the key given for it (the server refuses none).
    expect(requests.map((r) => [r.method, r.status])).toEqual([
      ['POST', 202],
      ['GET', 200],
    ])
    expect(given).toBe(2)
  })

  it('should open the stream at once after a create, whatever the strategy would wait', async () => {
    const { client, manual, requests, settle } = virtualSetup({ client: { transport: 'sse' } })
    const done = client.jobs.createAndWait(jobParams(2_500))
    await manual.tickAsync(0)
    const opened = requests.find((r) => r.path.includes('/events'))
    expect(opened?.at).toBe(requests[0]?.at)
    const job = await settle(done)
    expect(manual.now()).toBe(Date.parse(job.created_at) + 2_500)
  })

  it('should let a watch see every progress step through the stream', async () => {
    const { client, settle } = virtualSetup({
      client: { transport: 'sse' },
      simulation: { hints: { mode: 'eta', eta_noise: 0, progress: true } },
    })
    const job = await client.jobs.create(jobParams(5_000))
    const seen: Job[] = []
    await settle(
      (async () => {
        for await (const update of client.jobs.watch(job.id)) seen.push(update)
      })(),
    )
    expect(seen.length).toBeGreaterThan(4)
    expect(seen.at(-1)?.status).toBe('completed')
  })

  it('should keep the key out of a job an event echoes it in', async () => {
    const { manual, clock } = virtualClock()
    const key = 'vt_live_S3CR3T'
    const stream = eventStream()
    const client = createClient({
      baseUrl: 'http://api.test',
      apiKey: key,
      fetch: fakeFetch(() => stream.response),
      clock,
      transport: 'sse',
    })
    const wait = client.jobs.wait('job_1')
    await manual.tickAsync(0)
    const echoed = { result: { url: `https://cdn.test/a.mp4?token=${key}` } }
    stream.write(statusEvent(jobBody({ status: 'completed', progress: 1, ...echoed }), 1))
    const job = await wait
    expect(job.result.url).toBe('https://cdn.test/a.mp4?token=[redacted]')
  })

  it('should reconnect with Last-Event-ID after a drop, and stop on a 204', async () => {
    const { manual, clock } = virtualClock()
    const { streams, open } = streamServer()
    const fetch = fakeFetch((call) => {
      if (call.url.includes('/events')) {
        if (streams.length === 2) return new Response(null, { status: 204 })
        return open()
      }
      return json(jobBody({ status: 'completed', progress: 1 }))
    })
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock, transport: 'sse' })
    const wait = client.jobs.wait('job_1')
    await manual.tickAsync(0)
    streams[0]?.write('retry: 2000\n\n')
    streams[0]?.write(statusEvent(jobBody({ status: 'running' }), 7))
    streams[0]?.close()
    await manual.tickAsync(0)
    await manual.tickAsync(2_000)
    const second = fetch.calls.filter((c) => c.url.includes('/events'))[1] as FetchCall
    expect(second.headers.get('last-event-id')).toBe('7')
    streams[1]?.close()
    for (let i = 0; i < 10; i++) await manual.tickAsync(3_000)
    await expect(wait).resolves.toMatchObject({ status: 'completed' })
    expect(fetch.calls.at(-1)?.url).toBe('http://api.test/v1/jobs/job_1')
  })

  it('should open a stream cut on the way again after the server’s retry:, not as a failure', async () => {
    const { manual, clock } = virtualClock()
    const { streams, open } = streamServer()
    const fetch = fakeFetch(open)
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock, transport: 'sse' })
    const errors: unknown[] = []
    client.on('request:error', (e) => errors.push(e.error))
    const wait = client.jobs.wait('job_1', { timeoutMs: 120_000 })
    await manual.tickAsync(0)
    streams[0]?.write('retry: 3000\n\n')
    streams[0]?.write(statusEvent(jobBody({ status: 'running' }), 4))
    await manual.tickAsync(2_000)
    streams[0]?.cut()
    await manual.tickAsync(2_999)
    expect(streams).toHaveLength(1)
    await manual.tickAsync(1)
    expect(streams).toHaveLength(2)
    expect(fetch.calls[1]?.headers.get('last-event-id')).toBe('4')
    streams[1]?.write(statusEvent(jobBody({ status: 'completed', progress: 1 }), 5))
    await expect(wait).resolves.toMatchObject({ status: 'completed' })
    expect(errors).toEqual([])
  })

  it('should give a plain last look before the deadline the time it takes', async () => {
    const { manual, clock } = virtualClock()
    const { streams, open } = streamServer()
    const fetch = fakeFetch(async (call) => {
      if (call.url.includes('/events')) return open()
      // The plain check takes 600 ms: it answers after the deadline, within the last look.
      await clock.sleep(600)
      return json(jobBody({ status: 'completed', progress: 1 }))
    })
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock, transport: 'sse' })
    const wait = client.jobs.wait('job_1', { timeoutMs: 10_000 })
    wait.catch(() => {})
    await manual.tickAsync(0)
    streams[0]?.write('retry: 100\n\n')
    streams[0]?.write(statusEvent(jobBody({ status: 'running' }), 1))
    await manual.tickAsync(9_400)
    // Dropped at 9.4 s after it spoke: the last look is a plain check.
    streams[0]?.close()
    for (let i = 0; i < 30; i++) await manual.tickAsync(100)
    await expect(wait).resolves.toMatchObject({ status: 'completed' })
  })

  it('should not count a stream opened again as a status check (maxAttempts)', async () => {
    const { manual, clock } = virtualClock()
    const { streams, open } = streamServer((stream, before) => {
      stream.write('retry: 1000\n\n')
      stream.write(statusEvent(jobBody({ status: 'running' }), before + 1))
    })
    const fetch = fakeFetch(open)
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock, transport: 'sse' })
    const wait = client.jobs.wait('job_1', { maxAttempts: 2 })
    for (let i = 0; i < 4; i++) {
      await manual.tickAsync(500)
      streams.at(-1)?.cut()
      await manual.tickAsync(1_000)
    }
    expect(streams.length).toBeGreaterThanOrEqual(4)
    streams.at(-1)?.write(statusEvent(jobBody({ status: 'completed', progress: 1 }), 9))
    await expect(wait).resolves.toMatchObject({ status: 'completed' })
  })

  it('should open a stream again by the strategy’s next check (10 s at least), whatever its retry: says', async () => {
    const { manual, clock } = virtualClock()
    const start = manual.now()
    const { streams, open } = streamServer((stream) => {
      // A day to come back, one event, and the stream ends; the job ends a minute in.
      const done = manual.now() - start >= 60_000
      stream.write('retry: 86400000\n\n')
      stream.write(statusEvent(jobBody({ status: done ? 'completed' : 'running' }), 1))
      if (!done) stream.close()
    })
    const client = createClient({
      baseUrl: 'http://api.test',
      fetch: fakeFetch(open),
      clock,
      transport: 'sse',
    })
    const wait = client.jobs.wait('job_1')
    await manual.tickAsync(70_000)
    await expect(wait).resolves.toMatchObject({ status: 'completed' })
    // Opened every 10 s (its ETA would have it checked each second): known at 60 s, not 300 s.
    expect(streams).toHaveLength(7)
  })

  /** A client whose server refuses stream opens (`refuses(n)` for the n-th) with `Retry-After`. */
  function refusingOpens(refuses: (n: number) => string | undefined) {
    const setup = virtualSetup()
    const { app, manual } = setup
    const opens: number[] = []
    const client = createClient({
      baseUrl: 'http://mock.test',
      apiKey: DEV_API_KEY,
      clock: { now: () => manual.now(), sleep: (ms, signal) => sleep(manual, ms, signal) },
      fetch: async (input, init) => {
        if (!new URL(input).pathname.includes('/events')) return app.request(input, init)
        opens.push(manual.now())
        const retryAfter = refuses(opens.length)
        if (retryAfter === undefined) return app.request(input, init)
        const headers = { 'content-type': 'application/problem+json', 'retry-after': retryAfter }
        return new Response('{"title":"Too many streams","status":503}', { status: 503, headers })
      },
    })
    const fallbacks: unknown[] = []
    client.on('transport:fallback', (event) => fallbacks.push(event))
    return { ...setup, client, opens, fallbacks }
  }

  it('should open a stream refused with a time to come back again then, not fall back (auto)', async () => {
    // A burst limit on stream opens: the first refused, with when to come back.
    const { client, manual, settle, opens, fallbacks } = refusingOpens((n) =>
      n === 1 ? '1' : undefined,
    )
    const job = await client.jobs.create(jobParams(20_000))
    const done = await settle(client.jobs.wait(job.id))
    expect(done.status).toBe('completed')
    expect(fallbacks).toEqual([])
    expect(opens).toHaveLength(2)
    expect((opens[1] as number) - (opens[0] as number)).toBeGreaterThanOrEqual(1_000)
    expect(manual.now()).toBe(Date.parse(job.created_at) + 20_000)
  })

  it('should long-poll a job whose stream opens are refused for minutes, and know it on time', async () => {
    const { client, manual, settle, opens, fallbacks } = refusingOpens(() => '120')
    const job = await client.jobs.create(jobParams(20_000))
    const done = await settle(client.jobs.wait(job.id, { timeoutMs: 90_000 }))
    expect(done.status).toBe('completed')
    expect(opens).toHaveLength(1)
    expect(fallbacks).toMatchObject([{ from: 'sse', to: 'long-poll' }])
    expect(manual.now()).toBe(Date.parse(job.created_at) + 20_000)
  })

  it('should give up on streams whose headers a proxy holds back, for long-poll (auto)', async () => {
    const { manual, clock } = virtualClock()
    // The answer is forwarded only once it ends, which an event stream never does.
    const fetch = fakeFetch((call) => {
      if (call.url.includes('/events')) {
        return new Promise<Response>((_, reject) => {
          call.signal?.addEventListener('abort', () => reject(call.signal?.reason), { once: true })
        })
      }
      const id = new URL(call.url).pathname.split('/')[3]
      return json(jobBody({ id, status: 'completed', progress: 1 }))
    })
    // Requests' own limits run on real timers: a short one keeps the test short.
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock, requestTimeoutMs: 20 })
    const reasons: string[] = []
    client.on('transport:fallback', (e) => reasons.push(e.reason))
    const waitFor = async (id: string) => {
      const wait = client.jobs.wait(id, { timeoutMs: 60_000 })
      let settled = false
      wait.finally(() => (settled = true)).catch(() => {})
      // Bounded by count (10 s of real time at most), not by the machine's speed.
      for (let i = 0; i < 2_000 && !settled; i++) {
        await new Promise((resolve) => setTimeout(resolve, 5))
        await manual.tickAsync(100)
      }
      return wait
    }
    const opened = () => fetch.calls.filter((c) => c.url.includes('/events')).length
    await expect(waitFor('job_1')).resolves.toMatchObject({ status: 'completed' })
    expect(reasons).toEqual([
      expect.stringMatching(/within the request's limit \(a buffering proxy\?\)/),
    ])
    // One stream tried, not retried: the next request held instead.
    expect(opened()).toBe(1)
    // Once may be a slow moment: the next job tries a stream again; twice, and the client's
    // later jobs go to long-poll at once.
    await expect(waitFor('job_2')).resolves.toMatchObject({ status: 'completed' })
    expect(opened()).toBe(2)
    await expect(waitFor('job_3')).resolves.toMatchObject({ status: 'completed' })
    expect(opened()).toBe(2)
  }, 60_000)

  it('should make a resumed wait past its deadline one plain check, and find the job done', async () => {
    const { manual, clock } = virtualClock()
    let done = false
    const fetch = fakeFetch((call) => {
      if (call.url.includes('/events')) {
        const stream = eventStream()
        stream.write(statusEvent(jobBody({ status: 'running' }), 1))
        return stream.response
      }
      return json(jobBody(done ? { status: 'completed', progress: 1 } : { status: 'running' }))
    })
    // One process watches with a 1 s deadline, saves its token and stops.
    const watching = createClient({ baseUrl: 'http://api.test', fetch, clock }).jobs.watch(
      'job_1',
      { timeoutMs: 1_000 },
    )
    const iterator = watching[Symbol.asyncIterator]()
    const first = iterator.next()
    await manual.tickAsync(10)
    expect((await first).value).toMatchObject({ status: 'running' })
    const token = watching.resumeToken()
    await iterator.return?.()
    // The job ends; another process resumes long after the deadline.
    done = true
    await manual.tickAsync(5_000)
    const before = fetch.calls.length
    const resumed = createClient({ baseUrl: 'http://api.test', fetch, clock }).jobs.wait('job_1', {
      resume: token,
    })
    await manual.tickAsync(100)
    await expect(resumed).resolves.toMatchObject({ status: 'completed' })
    expect(fetch.calls.slice(before).map((c) => c.url)).toEqual(['http://api.test/v1/jobs/job_1'])
  })
})

describe('transport: long-poll', () => {
  it('should not send a new client’s held requests all at once before the limit is known', async () => {
    const { client, settle, refused, made } = limitedSetup({ transport: 'long-poll' })
    const jobs = await settle(Promise.all(made(300, 20_000).map((id) => client.jobs.wait(id))))
    expect(jobs.every((job) => job.status === 'completed')).toBe(true)
    expect(refused()).toBe(0)
  }, 20_000)

  it('should hold one request at a time and learn of the end at once', async () => {
    const { client, manual, requests, settle } = virtualSetup({
      client: { transport: 'long-poll' },
    })
    const job = await client.jobs.create(jobParams(100_000))
    const done = await settle(client.jobs.wait(job.id))
    expect(done.status).toBe('completed')
    expect(manual.now()).toBe(Date.parse(job.created_at) + 100_000)
    const held = requests.filter((r) => r.method === 'GET')
    // At most 1 + duration / hold (30 s): a wait for the end alone is held through the change
    // from pending to running.
    expect(held.length).toBeLessThanOrEqual(1 + 100 / 30)
    expect(held.every((r) => r.path === `/v1/jobs/${job.id}?wait=30&until=terminal`)).toBe(true)
  })

  it('should widen a hold for the end alone when a watch or a job:status listener joins', async () => {
    for (const joiner of ['watch', 'listener'] as const) {
      const { client, manual, requests, settle } = virtualSetup({
        client: { transport: 'long-poll' },
      })
      const job = await client.jobs.create(jobParams(25_000))
      const waited = client.jobs.wait(job.id)
      await manual.tickAsync(1_000)
      const seen: string[] = []
      const watching =
        joiner === 'watch'
          ? (async () => {
              for await (const j of client.jobs.watch(job.id)) seen.push(j.status)
            })()
          : undefined
      if (joiner === 'listener') client.on('job:status', (e) => seen.push(e.job.status))
      await settle(Promise.all([waited, watching]))
      // The job ran from 2.5 s: the joiner heard of it then, not only at the end.
      expect(seen).toContain('running')
      const paths = requests.filter((r) => r.method === 'GET').map((r) => r.path)
      expect(paths[0]).toBe(`/v1/jobs/${job.id}?wait=30&until=terminal`)
      // Nothing known of the job yet: the joiner's first look is a plain one.
      expect(paths[1]).toBe(`/v1/jobs/${job.id}`)
      expect(paths.slice(2).every((p) => p === `/v1/jobs/${job.id}?wait=30`)).toBe(true)
      expect(client.jobs.history(job.id).every((h) => h.error === undefined)).toBe(true)
    }
  })

  it('should hold at every change on a server that refuses until (a 400), and remember', async () => {
    const { manual, clock } = virtualClock()
    let calls = 0
    const fetch = fakeFetch((call) => {
      calls++
      if (call.url.includes('until=')) return problemResponse(400, 'Bad Request')
      const id = new URL(call.url).pathname.split('/')[3]
      return json(jobBody({ id, status: calls > 3 ? 'completed' : 'running' }))
    })
    const client = createClient({
      baseUrl: 'http://api.test',
      fetch,
      clock,
      transport: 'long-poll',
    })
    for (const id of ['job_1', 'job_2']) {
      const wait = client.jobs.wait(id, { timeoutMs: 60_000 })
      for (let i = 0; i < 20; i++) await manual.tickAsync(1_000)
      await expect(wait).resolves.toMatchObject({ status: 'completed' })
    }
    const asked = fetch.calls.map((c) => c.url.replace('http://api.test', ''))
    expect(asked.filter((u) => u.includes('until='))).toEqual([
      '/v1/jobs/job_1?wait=30&until=terminal',
    ])
  })

  it('should poll jobs on a server that answers 404 to any query, once a plain check finds them', async () => {
    const { manual, clock } = virtualClock()
    const start = manual.now()
    // Routed by the whole URL: `/events`, `?wait=` and `&until=` are all unknown to it.
    const fetch = fakeFetch((call) => {
      const url = new URL(call.url)
      if (url.search !== '' || url.pathname.endsWith('/events')) {
        return new Response('Not Found', { status: 404 })
      }
      const id = url.pathname.split('/')[3]
      const done = manual.now() - start >= 5_000
      return json(jobBody({ id, status: done ? 'completed' : 'running', eta_ms: null }))
    })
    const client = createClient({
      baseUrl: 'http://api.test',
      fetch,
      clock,
      polling: fixedInterval(1_000),
    })
    const fallbacks: string[] = []
    client.on('transport:fallback', (e) => fallbacks.push(`${e.from} -> ${e.to}`))
    const first = client.jobs.wait('job_1', { timeoutMs: 60_000 })
    await manual.tickAsync(10_000)
    await expect(first).resolves.toMatchObject({ status: 'completed' })
    expect(fallbacks).toEqual(['sse -> long-poll', 'long-poll -> poll'])
    const paths = fetch.calls.map((c) => c.url.replace('http://api.test', ''))
    // Held without `until` too (a server may 404 that parameter alone), then polled.
    expect(paths.slice(0, 6)).toEqual([
      '/v1/jobs/job_1/events?until=terminal',
      '/v1/jobs/job_1',
      '/v1/jobs/job_1?wait=30&until=terminal',
      '/v1/jobs/job_1',
      '/v1/jobs/job_1?wait=30',
      '/v1/jobs/job_1',
    ])
    // Remembered: the next job is polled from its first check.
    const before = fetch.calls.length
    const second = client.jobs.wait('job_2', { timeoutMs: 60_000 })
    await manual.tickAsync(1_000)
    await expect(second).resolves.toMatchObject({ status: 'completed' })
    expect(fetch.calls.slice(before).map((c) => c.url)).toEqual(['http://api.test/v1/jobs/job_2'])
  })

  /**
   * A 5 s job long-polled (chosen) on a server that answers 404 to the URLs `refuses` picks, and
   * the job's address otherwise; the requests made and the fallbacks told.
   */
  async function longPolledThrough404s(refuses: (url: string) => boolean) {
    const { manual, clock } = virtualClock()
    const start = manual.now()
    const fetch = fakeFetch((call) => {
      if (refuses(call.url)) return new Response('Not Found', { status: 404 })
      const done = manual.now() - start >= 5_000
      return json(jobBody({ id: 'job_1', status: done ? 'completed' : 'running', eta_ms: null }))
    })
    const polling = fixedInterval(1_000)
    const client = createClient({
      baseUrl: 'http://api.test',
      fetch,
      clock,
      transport: 'long-poll',
      polling,
    })
    const fallbacks: unknown[] = []
    client.on('transport:fallback', (event) => fallbacks.push(event))
    const wait = client.jobs.wait('job_1', { timeoutMs: 60_000 })
    await manual.tickAsync(10_000)
    await expect(wait).resolves.toMatchObject({ status: 'completed' })
    return { paths: fetch.calls.map((c) => c.url.replace('http://api.test', '')), fallbacks }
  }

  it("should keep a job's checks plain after held requests answered 404 (long-poll chosen)", async () => {
    const { paths, fallbacks } = await longPolledThrough404s((url) => url.includes('?'))
    expect(paths.filter((p) => p.includes('?'))).toEqual([
      '/v1/jobs/job_1?wait=30&until=terminal',
      '/v1/jobs/job_1?wait=30',
    ])
    expect(fallbacks).toEqual([])
    // Checked every second by the strategy meanwhile, not asked in a loop.
    expect(paths.length).toBeGreaterThanOrEqual(5)
    expect(paths.length).toBeLessThanOrEqual(10)
  })

  it('should hold without until on a server that answers 404 to that parameter alone', async () => {
    const { paths, fallbacks } = await longPolledThrough404s((url) => url.includes('until='))
    expect(paths.slice(0, 3)).toEqual([
      '/v1/jobs/job_1?wait=30&until=terminal',
      '/v1/jobs/job_1',
      '/v1/jobs/job_1?wait=30',
    ])
    expect(fallbacks).toEqual([])
  })

  it('should fail a long-polled wait for a job that is not there with NotFoundError, after one plain check', async () => {
    const { manual, clock } = virtualClock()
    const fetch = fakeFetch((call) =>
      call.url.includes('job_typo')
        ? problemResponse(404, 'Not Found')
        : json(jobBody({ id: 'job_2', status: 'completed' })),
    )
    const client = createClient({
      baseUrl: 'http://api.test',
      fetch,
      clock,
      transport: 'long-poll',
    })
    const fallbacks: unknown[] = []
    client.on('transport:fallback', (event) => fallbacks.push(event))
    const wait = client.jobs.wait('job_typo').catch((e: unknown) => e)
    await manual.tickAsync(1_000)
    expect(isNotFoundError(await wait)).toBe(true)
    expect(fetch.calls.map((c) => c.url.replace('http://api.test', ''))).toEqual([
      '/v1/jobs/job_typo?wait=30&until=terminal',
      '/v1/jobs/job_typo',
    ])
    expect(fallbacks).toEqual([])
  })

  it.each([403, 410, 429, 502, 503])(
    'should ask a job whose stream and held requests are refused with a %i by polling (auto)',
    async (status) => {
      const { manual, clock } = virtualClock()
      const start = manual.now()
      const refused = () =>
        new Response(JSON.stringify({ type: 'about:blank', title: 'No', status }), {
          status,
          headers: { 'content-type': 'application/problem+json', 'retry-after': '600' },
        })
      const fetch = fakeFetch((call) => {
        if (call.url.includes('/events') || call.url.includes('wait=')) return refused()
        const id = new URL(call.url).pathname.split('/')[3]
        const done = manual.now() - start >= 5_000
        return json(jobBody({ id, status: done ? 'completed' : 'running', eta_ms: null }))
      })
      const polling = fixedInterval(1_000)
      const warnings: string[] = []
      const logger = { warn: (message: string) => warnings.push(message) }
      const client = createClient({ baseUrl: 'http://api.test', fetch, clock, polling, logger })
      const wait = client.jobs.wait('job_1', { timeoutMs: 1_800_000 })
      await expect(drive(manual, wait, 1_000, 400)).resolves.toMatchObject({ status: 'completed' })
      // Said as what it is: refused for the key (the next jobs too), or for this job, for now.
      const remembered = status === 403 || status === 410
      expect(warnings[0]).toMatch(
        remembered
          ? /^sse does not work here \(/
          : /^sse failed for this job \(.*\): using long-poll for it$/,
      )
      // Not at the deadline's last look, nor after the 600 s the refusals asked for.
      expect(manual.now() - start).toBeLessThan(300_000)
      // Not for this key or plan: the client's next jobs are polled at once.
      const pushed = fetch.calls.filter((c) => c.url.includes('/events') || c.url.includes('wait='))
      const next = client.jobs.wait('job_2', { timeoutMs: 1_800_000 })
      await expect(drive(manual, next, 1_000, 400)).resolves.toMatchObject({ status: 'completed' })
      const more = fetch.calls.filter((c) => c.url.includes('/events') || c.url.includes('wait='))
      if (status === 403 || status === 410) expect(more).toHaveLength(pushed.length)
      else expect(more.length).toBeGreaterThan(pushed.length)
    },
  )

  it.each(['502', 'reset'] as const)(
    'should not let a proxy failing streams only (%s) open the circuit: each job asked by long-poll',
    async (failure) => {
      const { manual, clock } = virtualClock()
      const start = manual.now()
      const fetch = fakeFetch(async (call) => {
        if (call.url.includes('/events')) {
          if (failure === 'reset') throw new TypeError('fetch failed')
          return new Response('<html><title>502 Bad Gateway</title></html>', {
            status: 502,
            headers: { 'content-type': 'text/html' },
          })
        }
        // Held to the job's end at 3 s.
        if (call.url.includes('wait=')) await clock.sleep(start + 3_000 - manual.now(), call.signal)
        const id = new URL(call.url).pathname.split('/')[3]
        const done = manual.now() - start >= 3_000
        return json(jobBody({ id, status: done ? 'completed' : 'running', eta_ms: null }))
      })
      const client = createClient({ baseUrl: 'http://api.test', fetch, clock })
      const opened: string[] = []
      const fallbacks: string[] = []
      client.on('circuit:open', () => opened.push('open'))
      client.on('transport:fallback', ({ id }) => fallbacks.push(id))
      // Eight waits at once: one failed open each is more than the breaker's threshold (5).
      const ids = Array.from({ length: 8 }, (_, i) => `job_${i}`)
      const waits = Promise.all(ids.map((id) => client.jobs.wait(id)))
      const done = await drive(manual, waits, 100, 200)
      expect(done.every((job) => job.status === 'completed')).toBe(true)
      // Known by long-poll at the job's end, not at a deadline or after the breaker's openings.
      expect(manual.now() - start).toBeLessThan(3_500)
      expect(opened).toEqual([])
      expect(fallbacks.sort()).toEqual([...ids].sort())
      // One open a job, not tried again: long-poll asks the job's own address.
      expect(fetch.calls.filter((c) => c.url.includes('/events'))).toHaveLength(8)
      // A refusal for this route and plan is the client's; a connection failing may be the
      // whole server's (a restart): the next job tries a stream again.
      await drive(manual, client.jobs.wait('job_next'), 100, 50)
      const opens = fetch.calls.filter((c) => c.url.includes('/events')).length
      expect(opens).toBe(9)
    },
  )

  it('should probe an open circuit with a plain check, not a stream (sse chosen)', async () => {
    const { manual, clock } = virtualClock()
    const start = manual.now()
    const fetch = fakeFetch((call) => {
      // A server down for 5 s, whose streams stay broken after it came back.
      if (manual.now() - start < 5_000 || call.url.includes('/events')) {
        return problemResponse(500, 'Down')
      }
      return json(jobBody({ status: 'completed', progress: 1 }))
    })
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock, transport: 'sse' })
    const opened: number[] = []
    client.on('circuit:open', () => opened.push(manual.now() - start))
    const wait = client.jobs.wait('job_1').catch((e: unknown) => e)
    const done = await drive(manual, wait, 500, 200)
    expect(done).toMatchObject({ status: 'completed' })
    expect(opened).toHaveLength(1)
    // Known at the breaker's first probe after the server came back, a plain check.
    expect(manual.now() - start).toBeLessThan(20_000)
  })

  it('should take a 204 for a job still running as streams not working here (auto)', async () => {
    const { manual, clock } = virtualClock()
    const start = manual.now()
    const fetch = fakeFetch(async (call) => {
      if (call.url.includes('/events')) return new Response(null, { status: 204 })
      // Held to the job's end at 20 s.
      if (call.url.includes('wait=')) await clock.sleep(start + 20_000 - manual.now(), call.signal)
      const id = new URL(call.url).pathname.split('/')[3]
      const done = manual.now() - start >= 20_000
      return json(jobBody({ id, status: done ? 'completed' : 'running', eta_ms: null }))
    })
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock })
    const first = await drive(manual, client.jobs.wait('job_1'), 500, 100)
    expect(first.status).toBe('completed')
    // One stream, then the job's own address (held): not a stream and a GET for every check.
    expect(fetch.calls.filter((c) => c.url.includes('/events'))).toHaveLength(1)
    // This job's alone (the GET may have met a replica behind): the next job tries a stream.
    await drive(manual, client.jobs.wait('job_2'), 500, 100)
    expect(fetch.calls.filter((c) => c.url.includes('/events'))).toHaveLength(2)
  })

  it.each([400, 422])(
    'should poll a strict server that refuses wait with a %i (auto), and remember after two',
    async (status) => {
      const { manual, clock } = virtualClock()
      const start = manual.now()
      const fetch = fakeFetch((call) => {
        if (call.url.includes('/events')) return problemResponse(404, 'Not Found')
        if (call.url.includes('wait=')) return problemResponse(status, 'unknown parameter: wait')
        const id = new URL(call.url).pathname.split('/')[3]
        const done = manual.now() - start >= 5_000
        return json(jobBody({ id, status: done ? 'completed' : 'running', eta_ms: null }))
      })
      const polling = fixedInterval(1_000)
      const client = createClient({ baseUrl: 'http://api.test', fetch, clock, polling })
      for (const id of ['job_1', 'job_2', 'job_3']) {
        const wait = client.jobs.wait(id, { timeoutMs: 60_000 })
        await expect(drive(manual, wait, 1_000, 30)).resolves.toMatchObject({
          status: 'completed',
        })
      }
      const held = fetch.calls.filter((c) => c.url.includes('wait='))
      // Each refused with and without until=terminal; job_3 not held at all.
      expect(held.map((c) => new URL(c.url).pathname)).toEqual([
        '/v1/jobs/job_1',
        '/v1/jobs/job_1',
        '/v1/jobs/job_2',
        '/v1/jobs/job_2',
      ])
    },
  )

  it('should take a 204 or a 304 ending an idle hold for nothing new', async () => {
    const { manual, clock } = virtualClock()
    const start = manual.now()
    const fetch = fakeFetch(async (call) => {
      if (!call.url.includes('wait=')) return json(jobBody({ status: 'running', eta_ms: null }))
      const done = manual.now() - start >= 100_000
      if (done) return json(jobBody({ status: 'completed' }))
      // Held 30 s, then ended without a change, as some long-poll servers do.
      await clock.sleep(30_000)
      return new Response(null, { status: fetch.calls.length % 2 ? 204 : 304 })
    })
    const client = createClient({
      baseUrl: 'http://api.test',
      fetch,
      clock,
      transport: 'long-poll',
    })
    const wait = client.jobs.wait('job_1', { timeoutMs: 600_000 })
    await expect(drive(manual, wait, 1_000, 200)).resolves.toMatchObject({ status: 'completed' })
    expect(manual.now() - start).toBeLessThan(125_000)
    expect(fetch.calls.length).toBeLessThanOrEqual(7)
  })

  it('should keep until=terminal after a 400 that was about something else', async () => {
    const { manual, clock } = virtualClock()
    const fetch = fakeFetch((call) => {
      const id = new URL(call.url).pathname.split('/')[3]
      if (id === 'job_bad') return problemResponse(400, 'Bad Request')
      return json(jobBody({ id, status: 'completed', progress: 1 }))
    })
    const client = createClient({
      baseUrl: 'http://api.test',
      fetch,
      clock,
      transport: 'long-poll',
    })
    const bad = client.jobs.wait('job_bad', { timeoutMs: 60_000 })
    bad.catch(() => {})
    for (let i = 0; i < 3; i++) await manual.tickAsync(1_000)
    await expect(bad).rejects.toMatchObject({ status: 400 })
    const good = client.jobs.wait('job_2', { timeoutMs: 60_000 })
    for (let i = 0; i < 3; i++) await manual.tickAsync(1_000)
    await expect(good).resolves.toMatchObject({ status: 'completed' })
    expect(fetch.calls.at(-1)?.url).toBe('http://api.test/v1/jobs/job_2?wait=30&until=terminal')
  })

  it('should be held at every status change for a watch, and one request for a short wait', async () => {
    const { client, requests, settle } = virtualSetup({ client: { transport: 'long-poll' } })
    const watched = await client.jobs.create(jobParams(20_000))
    const statuses: string[] = []
    await settle(
      (async () => {
        for await (const job of client.jobs.watch(watched.id)) statuses.push(job.status)
      })(),
    )
    // The job as it is first (a plain check: a held one would wait for the next change).
    expect(statuses).toEqual(['pending', 'running', 'completed'])
    const watchGets = requests.filter((r) => r.method === 'GET')
    const watchPaths = watchGets.map((r) => r.path)
    expect(watchPaths[0]).toBe(`/v1/jobs/${watched.id}`)
    // Then held at once.
    expect(watchGets[1]?.at).toBe(watchGets[0]?.at)
    expect(watchPaths.slice(1).every((p) => p === `/v1/jobs/${watched.id}?wait=30`)).toBe(true)
    const since = requests.length
    const waited = await client.jobs.create(jobParams(20_000))
    await settle(client.jobs.wait(waited.id))
    const waitPaths = requests.slice(since).filter((r) => r.method === 'GET')
    expect(waitPaths.map((r) => r.path)).toEqual([`/v1/jobs/${waited.id}?wait=30&until=terminal`])
  })

  it('should not ask in a loop a slow server whose ETag moves with progress on the way', async () => {
    // Each answer takes 1.2 s to come back, progress moves every 0.5 s: the ETag a held request
    // carries is always stale when it arrives, and the server answers a stale one at once.
    const { client, requests, settle } = virtualSetup({
      client: { transport: 'long-poll' },
      simulation: { latency_ms: { min: 1_200, max: 1_200 }, progress_interval_ms: 500 },
    })
    // With onProgress, holds end at every status change (not only the end): ETags matter.
    const done = await settle(
      client.jobs.createAndWait(jobParams(20_000), { onProgress: () => {} }),
    )
    expect(done.status).toBe('completed')
    // One hold for pending -> running, one stale catch-up, one hold to the end (it was 16).
    const held = requests.filter((r) => r.method === 'GET')
    expect(held.length).toBeLessThanOrEqual(3)
  })

  it('should not make other requests wait for a held one to learn the rate limit', async () => {
    const { client, newClient, manual } = virtualSetup({ client: { transport: 'long-poll' } })
    const job = await client.jobs.create(jobParams(600_000))
    // A new client whose first request is a held one (it would be its rate-limit probe).
    const other = newClient()
    const waiting = other.jobs.wait(job.id, { timeoutMs: 120_000 }).catch(() => {})
    await manual.tickAsync(0)
    let got = false
    const get = other.jobs.get(job.id).then(() => {
      got = true
    })
    await manual.tickAsync(10)
    expect(got).toBe(true)
    await get
    await manual.tickAsync(130_000)
    await waiting
  })

  it('should never hold a request past the wait’s deadline', async () => {
    const { client, manual, requests, settle } = virtualSetup({
      client: { transport: 'long-poll' },
    })
    const job = await client.jobs.create(jobParams(600_000))
    const start = manual.now()
    await expect(settle(client.jobs.wait(job.id, { timeoutMs: 12_000 }))).rejects.toThrow(
      /timed out/,
    )
    expect(manual.now() - start).toBeLessThanOrEqual(13_000)
    expect(requests.some((r) => /wait=(1[0-2]|[1-9])&until=terminal$/.test(r.path))).toBe(true)
  })

  /**
   * A client over the in-process server behind a proxy that may cut held requests (and, for
   * `transport: 'auto'`, has no event streams, so that long-poll is what it falls back to).
   * `gateway`: the status the proxy answers a cut request with (an error page), rather than
   * closing the connection.
   */
  function behindProxy(
    cut: (held: number, holdS: number) => number | 'silent' | undefined,
    transport: 'long-poll' | 'auto' = 'long-poll',
    gateway?: number,
  ) {
    const setup = virtualSetup()
    const { app, manual } = setup
    const holds: number[] = []
    const client = createClient({
      baseUrl: 'http://mock.test',
      apiKey: DEV_API_KEY,
      clock: { now: () => manual.now(), sleep: (ms, signal) => sleep(manual, ms, signal) },
      transport,
      fetch: async (input, init) => {
        const url = new URL(input)
        if (url.pathname.includes('/events')) return new Response(null, { status: 404 })
        const answer = Promise.resolve(app.request(input, init))
        const hold = url.searchParams.get('wait')
        if (hold === null) return answer
        holds.push(Number(hold))
        const cutAfterMs = cut(holds.length, Number(hold))
        if (cutAfterMs === undefined) return answer
        // Dropped without a word: no answer, no close.
        if (cutAfterMs === 'silent') return new Promise<Response>(() => {})
        const cutting = sleep(manual, cutAfterMs, init.signal ?? undefined).then(() => {
          if (gateway === undefined) throw new TypeError('terminated')
          const page = '<html><head><title>504 Gateway Time-out</title></head></html>'
          return new Response(page, { status: gateway, headers: { 'content-type': 'text/html' } })
        })
        return Promise.race([answer, cutting])
      },
    })
    const retries: unknown[] = []
    const fallbacks: ClientEvents['transport:fallback'][] = []
    client.on('request:retry', (event) => retries.push(event))
    client.on('transport:fallback', (event) => fallbacks.push(event))
    return { ...setup, client, holds, retries, fallbacks }
  }

  it('should hold less, not fail, behind a proxy that cuts held requests after 10 s', async () => {
    const { client, manual, settle, holds, retries } = behindProxy(() => 10_000)
    const job = await client.jobs.create(jobParams(120_000))
    const done = await settle(client.jobs.wait(job.id))
    // Known the moment it ended, with no retry spent and holds that end before the cut.
    expect(done.status).toBe('completed')
    expect(manual.now()).toBe(Date.parse(job.created_at) + 120_000)
    expect(retries).toHaveLength(0)
    // Cut twice in a row (a hold that ended at the job's start in between), then 9 s holds.
    const lowered = holds.indexOf(9)
    expect(lowered).toBeGreaterThan(0)
    expect(lowered).toBeLessThanOrEqual(5)
    expect(holds.slice(lowered).every((s) => s === 9)).toBe(true)
    expect(holds.length).toBeLessThanOrEqual(lowered + Math.ceil(120 / 9) + 2)
  })

  it('should poll a job whose held requests are cut within seconds (auto)', async () => {
    const { client, settle, holds, retries } = behindProxy(() => 3_000, 'auto')
    const fallbacks: ClientEvents['transport:fallback'][] = []
    client.on('transport:fallback', (event) => fallbacks.push(event))
    const job = await client.jobs.create(jobParams(60_000))
    const done = await settle(client.jobs.wait(job.id))
    expect(done.status).toBe('completed')
    expect(retries).toHaveLength(0)
    expect(fallbacks).toMatchObject([
      { from: 'sse', to: 'long-poll' },
      { from: 'long-poll', to: 'poll' },
    ])
    expect(fallbacks[1]?.reason).toMatch(/cut after 3 s/)
    expect(holds.length).toBeLessThanOrEqual(6)
    // This job's path, or a passing outage: the client's next job is long-polled again.
    const before = holds.length
    const next = await client.jobs.create(jobParams(10_000))
    await settle(client.jobs.wait(next.id))
    expect(holds.length).toBeGreaterThan(before)
  })

  it('should hold less, not poll, behind such a proxy when long-poll was chosen', async () => {
    const { client, manual, settle, holds } = behindProxy(() => 3_000)
    const fallbacks: unknown[] = []
    client.on('transport:fallback', (event) => fallbacks.push(event))
    const job = await client.jobs.create(jobParams(60_000))
    const done = await settle(client.jobs.wait(job.id))
    expect(done.status).toBe('completed')
    expect(manual.now()).toBe(Date.parse(job.created_at) + 60_000)
    expect(fallbacks).toEqual([])
    expect(holds.at(-1)).toBe(2)
  })

  it.each([504, 502])(
    'should take a proxy answering holds over 5 s with a %i for cut holds, not failures',
    async (status) => {
      const cutAt5 = (_: number, holdS: number) => (holdS > 5 ? 5_000 : undefined)
      // Long-poll chosen: held less (4 s at a time), and the job known the moment it ended.
      const chosen = behindProxy(cutAt5, 'long-poll', status)
      const opened: unknown[] = []
      chosen.client.on('circuit:open', (event) => opened.push(event))
      const job = await chosen.client.jobs.create(jobParams(120_000))
      const done = await chosen.settle(chosen.client.jobs.wait(job.id))
      expect(done.status).toBe('completed')
      expect(chosen.manual.now()).toBe(Date.parse(job.created_at) + 120_000)
      expect(chosen.holds.at(-1)).toBe(4)
      // No retry spent on the proxy's answers, no breaker opened.
      expect(chosen.retries).toHaveLength(0)
      expect(opened).toHaveLength(0)
      // 'auto': this job polled once two holds were cut at the same point, as for a connection
      // closed (the job known on time for the price of polling).
      const auto = behindProxy(cutAt5, 'auto', status)
      const next = await auto.client.jobs.create(jobParams(120_000))
      const polled = await auto.settle(auto.client.jobs.wait(next.id))
      expect(polled.status).toBe('completed')
      expect(auto.holds).toEqual([30, 30])
      expect(auto.retries).toHaveLength(0)
      expect(auto.fallbacks.at(-1)).toMatchObject({ from: 'long-poll', to: 'poll' })
      expect(auto.fallbacks.at(-1)?.reason).toMatch(/cut after 5 s/)
    },
  )

  it('should not try longer holds again within minutes of a proxy cutting them, however many jobs', async () => {
    const { client, settle, holds } = behindProxy((_, holdS) => (holdS > 5 ? 5_000 : undefined))
    // Ten jobs of 2 min held at once (long-poll named): 20 full holds come every 8 s.
    const jobs = await Promise.all(
      Array.from({ length: 10 }, () => client.jobs.create(jobParams(120_000))),
    )
    const done = await settle(Promise.all(jobs.map((job) => client.jobs.wait(job.id))))
    expect(done.every((job) => job.status === 'completed')).toBe(true)
    // Each job's first hold cut, and its second at most: not cut again every few seconds.
    const cut = holds.filter((holdS) => holdS > 5)
    expect(cut.length).toBeLessThanOrEqual(20)
  })

  it.each([
    [500, 1_500],
    [504, 1_500],
    [504, 4_000],
  ])(
    'should open the breaker on a server failing every request with a %i after %i ms',
    async (status, afterMs) => {
      const { manual, clock } = virtualClock()
      const fetch = fakeFetch(async () => {
        await sleep(manual, afterMs)
        return new Response('<html>down</html>', {
          status,
          headers: { 'content-type': 'text/html' },
        })
      })
      const client = createClient({
        baseUrl: 'http://api.test',
        fetch,
        clock,
        transport: 'long-poll',
      })
      const opened: unknown[] = []
      client.on('circuit:open', (event) => opened.push(event))
      const wait = client.jobs
        .wait('job_1', { timeoutMs: 600_000 })
        .catch((error: unknown) => error)
      const error = await drive(manual, wait, 1_000, 700)
      // As a plain request's would: the breaker opens (answers after a few seconds taken first
      // for a proxy's idle limit, then, scattered or past the hold, for the server's failure).
      expect(isCircuitOpenError(error)).toBe(true)
      expect(opened.length).toBeGreaterThan(0)
    },
  )

  /**
   * Behind a middlebox that drops, without a word, the held requests asking for a hold longer
   * than `idleS` (a connection idle that long is forgotten: no answer, no close).
   */
  const behindSilentDrop = (idleS: number, transport: 'long-poll' | 'auto') =>
    behindProxy((_, holdS) => (holdS > idleS ? 'silent' : undefined), transport)

  it('should poll a job whose held requests get no answer at all (auto)', async () => {
    const { client, manual, settle, holds, retries, fallbacks } = behindSilentDrop(0, 'auto')
    const job = await client.jobs.create(jobParams(120_000))
    const done = await settle(client.jobs.wait(job.id))
    expect(done.status).toBe('completed')
    // A 30 s hold lost (its time limit 10 s more), a plain check; a 15 s hold lost too (a
    // server hung a while is not a middlebox), a plain check, then polled. Each hold retried
    // until the breaker opened: a 20 s job known 203 s after its end.
    expect(holds).toEqual([30, 15])
    expect(retries).toHaveLength(0)
    expect(fallbacks.at(-1)).toMatchObject({ from: 'long-poll', to: 'poll' })
    expect(fallbacks.at(-1)?.reason).toMatch(/no answer/)
    expect(manual.now() - Date.parse(job.created_at)).toBeLessThanOrEqual(121_000)
  })

  it('should not take a server hung a while for a middlebox: holds shorter, not polled', async () => {
    const setup = virtualSetup()
    const { app, manual, settle } = setup
    const start = manual.now()
    const holds: number[] = []
    const client = createClient({
      baseUrl: 'http://mock.test',
      apiKey: DEV_API_KEY,
      clock: { now: () => manual.now(), sleep: (ms, signal) => sleep(manual, ms, signal) },
      transport: 'long-poll',
      fetch: async (input, init) => {
        const hold = new URL(input).searchParams.get('wait')
        if (hold !== null) holds.push(Number(hold))
        // Hung for its first 45 s: nothing answered then.
        if (manual.now() - start < 45_000) return new Promise<Response>(() => {})
        return app.request(input, init)
      },
    })
    const fallbacks: unknown[] = []
    client.on('transport:fallback', (event) => fallbacks.push(event))
    // Made before the hang, by a client the hang does not reach.
    const params = [jobParams(120_000), jobParams(120_000)]
    const jobs = await Promise.all(params.map((p) => setup.client.jobs.create(p)))
    const done = await settle(Promise.all(jobs.map((j) => client.jobs.wait(j.id))))
    expect(done.map((j) => j.status)).toEqual(['completed', 'completed'])
    expect(fallbacks).toEqual([])
    // Held again, at most half the hold lost.
    expect(holds.at(-1)).toBe(15)
  })

  it('should hold less behind such a middlebox when long-poll was chosen', async () => {
    const { client, manual, settle, holds, fallbacks } = behindSilentDrop(10, 'long-poll')
    const job = await client.jobs.create(jobParams(180_000))
    const done = await settle(client.jobs.wait(job.id))
    expect(done.status).toBe('completed')
    expect(fallbacks).toEqual([])
    // 30 s and 15 s holds lost, then 7 s holds answered: the end known as it came.
    expect(holds.slice(0, 3)).toEqual([30, 15, 7])
    expect(holds.slice(2).every((s) => s === 7)).toBe(true)
    expect(manual.now()).toBe(Date.parse(job.created_at) + 180_000)
  })

  /** A long-poll client whose server is `respond`, and a wait run a second at a time to its end. */
  function longPollClient(
    respond: (call: FetchCall, manual: ManualClock) => Response | Promise<Response>,
    options: Partial<ClientOptions> = {},
  ) {
    const { manual, clock } = virtualClock()
    const fetch = fakeFetch((call) => respond(call, manual))
    const client = createClient({
      baseUrl: 'http://api.test',
      fetch,
      clock,
      transport: 'long-poll',
      ...options,
    })
    async function outcome(wait: Promise<unknown>, maxS: number): Promise<unknown> {
      const settled = wait.catch((e: unknown) => e)
      let ended = false
      void settled.then(() => {
        ended = true
      })
      for (let i = 0; i < maxS && !ended; i++) await manual.tickAsync(1_000)
      return settled
    }
    return { client, fetch, manual, outcome }
  }

  it('should end a wait whose every request is dropped, by its deadline, without a loop', async () => {
    const { client, fetch, manual, outcome } = longPollClient(async (_call, manual) => {
      await sleep(manual, 2_000)
      throw new TypeError('terminated')
    })
    const start = manual.now()
    const error = await outcome(client.jobs.wait('job_1', { timeoutMs: 300_000 }), 400)
    expect(isVideoTranslationError(error)).toBe(true)
    expect(manual.now() - start).toBeLessThanOrEqual(302_000)
    // Each request lasts 2 s: a loop would send one every 2 s (150); backoff and the breaker
    // send far fewer.
    expect(fetch.calls.length).toBeLessThan(60)
  })

  it('should count as failed checks held requests cut after their hold should have ended', async () => {
    // The server never answers a hold; something drops each such request 35 s in.
    const { client, fetch, outcome } = longPollClient(async (call, manual) => {
      if (!call.url.includes('wait=')) return json(jobBody({ status: 'running' }))
      await sleep(manual, 35_000)
      throw new TypeError('terminated')
    })
    const error = await outcome(client.jobs.wait('job_1', { timeoutMs: 3_600_000 }), 4_000)
    // Ten failed checks in a row end it, long before its hour.
    expect(isNetworkError(error)).toBe(true)
    expect(fetch.calls.length).toBeLessThan(20)
  })

  it('should never ask in a loop a server that ignores wait and answers slowly', async () => {
    // 1.1 s to answer, nothing ever changes: not a hold, however long it took.
    const { client, fetch, outcome } = longPollClient(async (_call, manual) => {
      await sleep(manual, 1_100)
      return json(jobBody({ status: 'running', eta_ms: 3_600_000 }), 200, { etag: '"same"' })
    })
    await outcome(client.jobs.wait('job_1', { timeoutMs: 600_000 }), 700)
    expect(fetch.calls.length).toBeLessThan(60)
  })

  it('should never ask in a loop a server that ignores wait and paces every other request', async () => {
    let n = 0
    const { client, fetch, outcome } = longPollClient(async () =>
      n++ % 2 === 0
        ? new Response(JSON.stringify({ title: 'slow down', status: 429 }), {
            status: 429,
            headers: { 'content-type': 'application/problem+json', 'retry-after': '1' },
          })
        : json(jobBody({ status: 'running', eta_ms: 3_600_000 }), 200, { etag: '"same"' }),
    )
    await outcome(client.jobs.wait('job_1', { timeoutMs: 600_000 }), 700)
    expect(fetch.calls.length).toBeLessThan(80)
  })

  it('should probe an open circuit with a plain check, not a held one', async () => {
    let n = 0
    const { client, fetch, manual } = longPollClient(
      () => (n++ < 2 ? problemResponse(503, 'down') : json(jobBody({ status: 'running' }))),
      { retry: false, circuitBreaker: { failureThreshold: 2, resetTimeoutMs: 5_000 } },
    )
    const wait = client.jobs.wait('job_1', { timeoutMs: 60_000 }).catch(() => {})
    for (let i = 0; i < 20; i++) await manual.tickAsync(1_000)
    const urls = fetch.calls.map((c) => c.url)
    expect(urls.slice(0, 2).every((u) => u.includes('wait='))).toBe(true)
    // The probe after the reset: a plain GET; held ones again once it closed the circuit.
    expect(urls[2]).not.toContain('wait=')
    expect(urls[3]).toContain('wait=')
    await manual.tickAsync(60_000)
    await wait
  })

  it('should not let held requests cut on the way close an open circuit', async () => {
    const { client, fetch, manual } = longPollClient(
      async (call, manual) => {
        if (!call.url.includes('wait=')) return problemResponse(503, 'down')
        await sleep(manual, 1_500)
        throw new TypeError('terminated')
      },
      { retry: false, circuitBreaker: { failureThreshold: 3, resetTimeoutMs: 30_000 } },
    )
    const wait = client.jobs.wait('job_1', { timeoutMs: 20_000 }).catch(() => {})
    const gets: unknown[] = []
    for (let i = 0; i < 20; i++) {
      gets.push(await client.jobs.get('job_2').catch((e: unknown) => e))
      await manual.tickAsync(500)
    }
    // Three failures open the circuit; the cuts meanwhile neither close it nor let gets through.
    expect(gets.slice(3).every((e) => isCircuitOpenError(e))).toBe(true)
    expect(fetch.calls.filter((c) => c.url.endsWith('/job_2'))).toHaveLength(3)
    await manual.tickAsync(30_000)
    await wait
  })

  it('should keep its holds after a single cut (a server restarting, say)', async () => {
    const { client, manual, settle, holds, retries } = behindProxy((n) =>
      n === 2 ? 8_000 : undefined,
    )
    const job = await client.jobs.create(jobParams(100_000))
    const done = await settle(client.jobs.wait(job.id))
    expect(done.status).toBe('completed')
    expect(manual.now()).toBe(Date.parse(job.created_at) + 100_000)
    expect(retries).toHaveLength(0)
    expect(holds.every((s) => s === 30)).toBe(true)
  })
})

describe('a transport chosen by the user', () => {
  it("should fail a wait with transport: 'sse' on a server without streams, saying why", async () => {
    const { manual, clock } = virtualClock()
    const fetch = fakeFetch((call) =>
      call.url.includes('/events')
        ? problemResponse(404, 'Not Found')
        : json(jobBody({ status: 'running' })),
    )
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock, transport: 'sse' })
    const fallbacks: unknown[] = []
    client.on('transport:fallback', (event) => fallbacks.push(event))
    const wait = client.jobs.wait('job_1').catch((e: unknown) => e)
    await manual.tickAsync(1_000)
    const error = await wait
    expect(isVideoTranslationError(error)).toBe(true)
    expect((error as Error).message).toMatch(/transport 'sse' does not work .*answered 404/)
    expect(fallbacks).toEqual([])
    // A 404 not worded as the job's absence: a plain look told the job is there.
    expect(fetch.calls.map((c) => c.url)).toEqual([
      'http://api.test/v1/jobs/job_1/events?until=terminal',
      'http://api.test/v1/jobs/job_1',
    ])
  })

  it.each(['auto', 'sse'] as const)(
    'should fail a wait for a job that is not there with NotFoundError, whatever the 404 says (%s)',
    async (transport) => {
      const { manual, clock } = virtualClock()
      // A server whose 404s are not the protocol's problem, for the stream as for the job.
      const fetch = fakeFetch(() => new Response('Not Found', { status: 404 }))
      const client = createClient({ baseUrl: 'http://api.test', fetch, clock, transport })
      const fallbacks: unknown[] = []
      client.on('transport:fallback', (event) => fallbacks.push(event))
      const wait = client.jobs.wait('job_typo').catch((e: unknown) => e)
      await manual.tickAsync(1_000)
      expect(isNotFoundError(await wait)).toBe(true)
      // Not a server without streams: the client's next jobs still use them.
      expect(fallbacks).toEqual([])
      expect(fetch.calls.map((c) => new URL(c.url).pathname)).toEqual([
        '/v1/jobs/job_typo/events',
        '/v1/jobs/job_typo',
      ])
    },
  )

  it("should ride out streams cut for 20 s with transport: 'sse', counting them as failed checks", async () => {
    const { manual, clock } = virtualClock()
    const start = manual.now()
    const fetch = fakeFetch(() => {
      const stream = eventStream()
      const elapsed = manual.now() - start
      // Cut on the way just after the headers for 20 s; then the job's state, then its end.
      if (elapsed < 20_000) stream.close()
      else stream.write(statusEvent(jobBody({ status: 'completed', progress: 1 }), 1))
      return stream.response
    })
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock, transport: 'sse' })
    const wait = client.jobs.wait('job_1', { timeoutMs: 180_000 })
    await expect(drive(manual, wait, 500, 200)).resolves.toMatchObject({ status: 'completed' })
    // Still ended by maxConsecutiveErrors when it goes on.
    const always = fakeFetch(() => {
      const stream = eventStream()
      stream.close()
      return stream.response
    })
    const other = createClient({
      baseUrl: 'http://api.test',
      fetch: always,
      clock,
      transport: 'sse',
    })
    const failing = other.jobs.wait('job_1', { maxConsecutiveErrors: 3 }).catch((e: unknown) => e)
    const error = await drive(manual, failing, 500, 400)
    expect((error as Error).message).toMatch(
      /transport 'sse' failed \(the event stream ends empty\)/,
    )
  })

  it('should ride out a maintenance page served with 200 in place of streams that worked', async () => {
    const { manual, clock } = virtualClock()
    let start = manual.now()
    // A proxy's page for 20 s from 5 s in (its upstream down); streams before and after, the
    // job done at 30 s.
    const server = (call: FetchCall) => {
      const elapsed = manual.now() - start
      if (elapsed >= 5_000 && elapsed < 25_000) {
        return new Response('<html>Back soon</html>', { headers: { 'content-type': 'text/html' } })
      }
      const id = new URL(call.url).pathname.split('/')[3]
      const status = elapsed >= 30_000 ? 'completed' : 'running'
      const job = jobBody({ id, status, eta_ms: null })
      if (!call.url.includes('/events')) return json(job)
      const stream = eventStream()
      stream.write(statusEvent(job, elapsed >= 30_000 ? 2 : 1))
      // Cut as the upstream goes down, and 5 s after each open later on.
      void sleep(manual, elapsed < 5_000 ? 5_000 - elapsed : 5_000).then(() => {
        try {
          stream.close()
        } catch {
          // Closed by the client already (it read the job's end).
        }
      })
      return stream.response
    }
    const fetch = fakeFetch(server)
    const chosen = createClient({ baseUrl: 'http://api.test', fetch, clock, transport: 'sse' })
    const wait = chosen.jobs.wait('job_1', { timeoutMs: 180_000 })
    await expect(drive(manual, wait, 500, 200)).resolves.toMatchObject({ status: 'completed' })
    // With 'auto', this job alone goes to long-poll: the next one opens a stream again.
    start = manual.now()
    const auto = fakeFetch(server)
    const client = createClient({ baseUrl: 'http://api.test', fetch: auto, clock })
    const first = client.jobs.wait('job_1', { timeoutMs: 180_000 })
    await expect(drive(manual, first, 500, 200)).resolves.toMatchObject({ status: 'completed' })
    const before = auto.calls.length
    await expect(drive(manual, client.jobs.wait('job_2'), 500, 20)).resolves.toBeDefined()
    expect(auto.calls[before]?.url).toMatch(/\/events\?until=terminal$/)
  })

  it("should keep long-polling, spaced, a server that ignores wait with transport: 'long-poll'", async () => {
    const { manual, clock } = virtualClock()
    const start = manual.now()
    const fetch = fakeFetch(() => {
      const done = manual.now() - start >= 20_000
      return json(jobBody({ status: done ? 'completed' : 'running', eta_ms: null }))
    })
    const client = createClient({
      baseUrl: 'http://api.test',
      fetch,
      clock,
      transport: 'long-poll',
      polling: fixedInterval(2_000),
    })
    const fallbacks: unknown[] = []
    client.on('transport:fallback', (event) => fallbacks.push(event))
    const wait = client.jobs.wait('job_1')
    for (let i = 0; i < 30; i++) await manual.tickAsync(1_000)
    await expect(wait).resolves.toMatchObject({ status: 'completed' })
    expect(fallbacks).toEqual([])
    expect(fetch.calls.every((c) => c.url.includes('wait='))).toBe(true)
    expect(fetch.calls.length).toBeLessThanOrEqual(12)
  })
})

describe('a cache answering 304 to everything', () => {
  it("should see the end through it with transport: 'long-poll', without a deadline", async () => {
    const { manual, clock } = virtualClock()
    const start = manual.now()
    // Each held request answered at once: 304 when it names a version, the job otherwise.
    const fetch = fakeFetch((call) => {
      if (call.headers.get('if-none-match')) return new Response(null, { status: 304 })
      const done = manual.now() - start >= 3_000
      const body = jobBody({ status: done ? 'completed' : 'running', eta_ms: null })
      return json(body, 200, { etag: '"v1"' })
    })
    const client = createClient({
      baseUrl: 'http://api.test',
      fetch,
      clock,
      transport: 'long-poll',
      polling: fixedInterval(1_000),
    })
    const wait = client.jobs.wait('job_1')
    // Every tenth check asks for the body (as polling does): hidden for ever before.
    await expect(drive(manual, wait, 500, 100)).resolves.toMatchObject({ status: 'completed' })
    expect(manual.now() - start).toBeLessThanOrEqual(15_000)
  })
})

describe("transport: 'auto'", () => {
  it('should fall back from SSE to long-poll to polling on a server with neither, and remember', async () => {
    const { manual, clock } = virtualClock()
    const start = manual.now()
    const fetch = fakeFetch((call) => {
      if (call.url.includes('/events')) return problemResponse(404, 'Not Found')
      const done = manual.now() - start >= 20_000
      return json(jobBody({ status: done ? 'completed' : 'running', eta_ms: null }))
    })
    const polling = fixedInterval(1_000)
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock, polling })
    const fallbacks: ClientEvents['transport:fallback'][] = []
    client.on('transport:fallback', (e) => fallbacks.push(e))
    const wait = client.jobs.wait('job_1')
    for (let i = 0; i < 60; i++) await manual.tickAsync(1_000)
    await expect(wait).resolves.toMatchObject({ status: 'completed' })
    expect(fallbacks.map((f) => `${f.from}->${f.to}`)).toEqual([
      'sse->long-poll',
      'long-poll->poll',
    ])
    // The next wait starts where the first ended up: no stream, no held request.
    const before = fetch.calls.length
    const again = client.jobs.wait('job_1')
    await manual.tickAsync(0)
    await again
    expect(fetch.calls.slice(before).map((c) => c.url)).toEqual(['http://api.test/v1/jobs/job_1'])
    // Ten minutes later, a new wait tries the event stream again.
    await manual.tickAsync(600_000)
    const later = fetch.calls.length
    await drive(manual, client.jobs.wait('job_1'), 1_000, 10)
    expect(fetch.calls[later]?.url).toBe('http://api.test/v1/jobs/job_1/events?until=terminal')
  })

  it('should carry what it found in a saved state: a client of the next run starts polling, for a day', async () => {
    const { manual, clock } = virtualClock()
    const ends = new Map<string, number>()
    const fetch = fakeFetch((call) => {
      if (call.url.includes('/events')) return problemResponse(404, 'Not Found')
      const id = /jobs\/(job_\w+)/.exec(call.url)?.[1] ?? ''
      const done = manual.now() >= (ends.get(id) ?? Number.POSITIVE_INFINITY)
      return json(jobBody({ id, status: done ? 'completed' : 'running', eta_ms: null }))
    })
    /** One run of a CLI: a new client from the state saved, a job of 20 s, the state saved. */
    let saved: unknown
    const run = async (id: string) => {
      const state = saved === undefined ? undefined : (JSON.parse(JSON.stringify(saved)) as never)
      const client = createClient({ baseUrl: 'http://api.test', fetch, clock, state })
      ends.set(id, manual.now() + 20_000)
      const before = fetch.calls.length
      await drive(manual, client.jobs.wait(id), 1_000, 120)
      saved = client.exportState()
      return fetch.calls.slice(before).map((c) => new URL(c.url).search || '(plain)')
    }
    const first = await run('job_1')
    expect(first.slice(0, 3)).toEqual(['?until=terminal', '(plain)', '?wait=30&until=terminal'])
    expect(saved).toMatchObject({ version: 1, transport: { use: 'poll' } })
    expect((saved as ClientState).polling?.durations.length).toBeGreaterThan(0)
    // An hour on, the next run: no stream, no held request; what it learned of durations too.
    await manual.tickAsync(3_600_000)
    const second = await run('job_2')
    expect(second.every((search) => search === '(plain)')).toBe(true)
    // A day after it found so, the best is tried again (a server may have gained streams).
    await manual.tickAsync(86_400_000)
    expect((await run('job_3'))[0]).toBe('?until=terminal')
    // A state found in the future (a clock set back, a state edited) is not kept.
    const ahead = { version: 1, transport: { use: 'poll', since: manual.now() + 7 * 86_400_000 } }
    const later = createClient({ baseUrl: 'http://api.test', fetch, clock, state: ahead as never })
    expect(later.exportState().transport).toBeUndefined()
    // Another server's is not taken for this one's; a transport the user chose is kept.
    const found = { version: 1, transport: { use: 'poll', since: manual.now() - 60_000 } }
    const other = { ...found, transport: { ...found.transport, server: 'http://staging.test' } }
    const elsewhere = createClient({
      baseUrl: 'http://api.test',
      fetch,
      clock,
      state: other as never,
    })
    expect(elsewhere.exportState().transport).toBeUndefined()
    const mine = { ...found, transport: { ...found.transport, server: 'http://api.test' } }
    const own = { baseUrl: 'http://api.test', fetch, clock, state: mine as never }
    expect(createClient(own).exportState().transport).toMatchObject({ use: 'poll' })
    const forced = createClient({ ...own, transport: 'sse' })
    // Not read with a transport chosen, but passed on, for a later run of 'auto'.
    expect(forced.exportState().transport).toEqual(mine.transport)
    const before = fetch.calls.length
    ends.set('job_4', manual.now() + 5_000)
    // (Its stream, not polling: on this server, that fails the wait saying why.)
    const refused = drive(manual, forced.jobs.wait('job_4'), 1_000, 30)
    await expect(refused).rejects.toThrow(/does not work with this server/)
    expect(fetch.calls[before]?.url).toContain('/events')
    // A state that does not fit is ignored, not a failure.
    const odd = { version: 1, transport: { use: 'smoke-signals', since: 'then' } } as never
    expect(
      createClient({ baseUrl: 'http://api.test', fetch, clock, state: odd }).exportState(),
    ).toEqual({ version: 1, polling: expect.any(Object) })
    for (const durations of [{ length: 275 }, 'x'.repeat(275)]) {
      const shaped = { version: 1, polling: { version: 2, durations, etaRatios: durations } }
      expect(() => createClient({ ...own, state: shaped as never })).not.toThrow()
    }
    // A strategy that keeps nothing passes the state it was given on, not a blank.
    const learned = (saved as ClientState).polling
    const polling = fixedInterval(1_000)
    const fixed = createClient({ ...own, state: { version: 1, polling: learned }, polling })
    expect(fixed.exportState().polling).toEqual(learned)
  })

  it('should poll on a server whose held requests end when their hold does, not at the change', async () => {
    // `?wait=N` taken for a plain sleep of N s: each job's end is told up to a hold late.
    const { manual, clock } = virtualClock()
    const ends = new Map<string, number>()
    const jobAt = (id: string) => {
      const end = ends.get(id) ?? Number.POSITIVE_INFINITY
      const done = manual.now() >= end
      const updated = new Date(done ? end : end - 4_000).toISOString()
      const body = jobBody({ id, status: done ? 'completed' : 'running', eta_ms: null })
      const headers = { date: new Date(manual.now()).toUTCString() }
      return json({ ...body, updated_at: updated }, 200, headers)
    }
    const fetch = fakeFetch(async (call) => {
      if (call.url.includes('/events')) return problemResponse(404, 'Not Found')
      const id = /jobs\/(job_\w+)/.exec(call.url)?.[1] ?? ''
      const holdS = Number(/[?&]wait=(\d+)/.exec(call.url)?.[1] ?? 0)
      if (holdS > 0) await sleep(manual, holdS * 1_000)
      return jobAt(id)
    })
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock, random: () => 0.5 })
    const fallbacks: ClientEvents['transport:fallback'][] = []
    client.on('transport:fallback', (e) => fallbacks.push(e))
    const knownAfter = async (id: string) => {
      const end = manual.now() + 6_000
      ends.set(id, end)
      await drive(manual, client.jobs.wait(id), 1_000, 120)
      return manual.now() - end
    }
    // The first two jobs' ends are told when their holds end: that shows how the server holds.
    expect(await knownAfter('job_1')).toBeGreaterThan(10_000)
    expect(await knownAfter('job_2')).toBeGreaterThan(10_000)
    expect(fallbacks.map((f) => `${f.from}->${f.to}`)).toEqual([
      'sse->long-poll',
      'long-poll->poll',
      'long-poll->poll',
    ])
    expect(fallbacks[2]?.reason).toMatch(/held requests end when their hold does/)
    // The next jobs are polled: known within seconds (a hold is 30 s), without holds.
    const before = fetch.calls.length
    expect(await knownAfter('job_3')).toBeLessThan(10_000)
    expect(await knownAfter('job_4')).toBeLessThan(10_000)
    expect(fetch.calls.slice(before).some((c) => /wait=|events/.test(c.url))).toBe(false)
  })

  it('should keep holds on a server that holds through a job starting for its end alone', async () => {
    // The mock server's long-poll (no streams): a hold for the end alone (`until=terminal`) is
    // answered when the job ends, not when it starts running within it, as the protocol says.
    let requests = 0
    const setup = virtualSetup({
      simulation: { hints: { mode: 'eta', eta_noise: 0, progress: false } },
      client: {
        transport: 'auto',
        fetch: async (input, init) => {
          requests++
          if (new URL(input).pathname.endsWith('/events')) return problemResponse(404, 'Not Found')
          return setup.app.request(input, init)
        },
      },
    })
    const { client, settle } = setup
    const fallbacks: string[] = []
    client.on('transport:fallback', (e) => fallbacks.push(`${e.from}->${e.to}`))
    for (let i = 0; i < 2; i++) {
      const job = await settle(client.jobs.createAndWait(jobParams(150_000)))
      expect(job.status).toBe('completed')
    }
    expect(fallbacks).toEqual(['sse->long-poll'])
    // Two creates, a stream's 404 and a look, then about one hold per 30 s of each job.
    expect(requests).toBeLessThanOrEqual(16)
  })

  it('should find out a server without streams or long-poll in three requests, conditional ones', async () => {
    // The mock server behind a gateway that has no event streams and drops `wait`.
    const seen: { at: number; status: number; tag: string | null }[] = []
    const setup = virtualSetup({
      simulation: { hints: { mode: 'none' } },
      client: {
        transport: 'auto',
        fetch: async (input, init) => {
          const url = new URL(input)
          const tag = new Headers(init.headers).get('if-none-match')
          url.searchParams.delete('wait')
          url.searchParams.delete('until')
          const response = url.pathname.includes('/events')
            ? problemResponse(404, 'Not Found')
            : await setup.app.request(url.toString(), init)
          seen.push({ at: setup.manual.now(), status: response.status, tag })
          return response
        },
      },
    })
    const job = await setup.settle(setup.client.jobs.createAndWait(jobParams(60_000)))
    expect(job.status).toBe('completed')
    const atCreate = seen.filter((r) => r.at === seen[0]?.at)
    // The create, the stream's 404, the job's own address asked once (304: the create's ETag),
    // one held request answered at once (304): not a second one at once, as if it were news.
    expect(atCreate.map((r) => r.status)).toEqual([202, 404, 304, 304])
    expect(atCreate.slice(2).every((r) => r.tag?.startsWith('"'))).toBe(true)
  })

  it('should not send the stream opens queued behind the rate limit once streams are known missing', async () => {
    // The mock server behind a gateway without event streams; 150 waits begin together.
    let opens = 0
    const noStreams = (url: URL) => {
      if (!url.pathname.endsWith('/events')) return undefined
      opens++
      return problemResponse(404, 'Not Found')
    }
    const { client, manual, settle, refused } = limitedSetup({ transport: 'auto' }, noStreams)
    /** `count` jobs created through the client, then the limit's burst back. */
    const created = async (count: number) => {
      const ids: string[] = []
      for (let i = 0; i < count; i++) ids.push((await settle(client.jobs.create(jobParams()))).id)
      await manual.tickAsync(5_000)
      return ids
    }
    const ids = await created(150)
    const jobs = await settle(Promise.all(ids.map((id) => client.jobs.wait(id))))
    expect(jobs.every((job) => job.status === 'completed')).toBe(true)
    // The first open alone: its 404 (and a look at its job) told the server has no streams.
    expect(opens).toBe(1)
    expect(refused()).toBe(0)
    // Ten minutes on, streams are tried anew: again one open for 50 waits begun together.
    await manual.tickAsync(600_000)
    const later = await created(50)
    await settle(Promise.all(later.map((id) => client.jobs.wait(id))))
    expect(opens).toBe(2)
    // 150 jobs created and waited for in virtual time: seconds on a slow machine.
  }, 20_000)

  it('should keep a working stream when another job finds held requests refused', async () => {
    const { manual, clock } = virtualClock()
    const end = manual.now() + 150_000
    const fetch = fakeFetch((call) => {
      const { pathname, searchParams } = new URL(call.url)
      if (pathname === '/v1/jobs/job_1/events') {
        // job_1's streams work; a proxy ends each after 20 s, and the job ends at 150 s.
        const stream = eventStream()
        const done = () => statusEvent(jobBody({ status: 'completed', progress: 1 }), 2)
        if (manual.now() >= end) {
          stream.write(done())
          stream.close()
          return stream.response
        }
        stream.write(`retry: 1000\n\n${statusEvent(jobBody({ status: 'running' }), 1)}`)
        const lasts = Math.min(20_000, end - manual.now())
        void sleep(manual, lasts).then(() => {
          if (manual.now() >= end) stream.write(done())
          stream.close()
        })
        return stream.response
      }
      // job_2: its stream's proxy fails (it alone long-polls), its held requests are refused
      // for this key (remembered: the client's next jobs poll).
      if (pathname.endsWith('/events')) return problemResponse(502, 'Bad Gateway')
      if (searchParams.has('wait')) return problemResponse(403, 'Forbidden')
      const id = pathname.split('/').pop()
      const done = id === 'job_1' && manual.now() >= end
      return json(jobBody({ id, status: done ? 'completed' : 'running' }))
    })
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock })
    const first = client.jobs.wait('job_1', { timeoutMs: 300_000 })
    await manual.tickAsync(100)
    void client.jobs.wait('job_2', { timeoutMs: 300_000 }).catch(() => {})
    await drive(manual, first, 1_000, 200)
    await expect(first).resolves.toMatchObject({ status: 'completed' })
    expect(manual.now() - end).toBeLessThanOrEqual(1_000)
    const looks = fetch.calls.filter((c) => c.url.endsWith('/v1/jobs/job_1'))
    expect(looks).toHaveLength(0)
    client.close()
  })

  it('should not hold the other opens for long behind a first open that gets no headers', async () => {
    const { manual, clock } = virtualClock()
    let opens = 0
    const fetch = fakeFetch((call) => {
      if (!call.url.includes('/events')) return json(jobBody({ status: 'running' }))
      // The client's first open is held back (a proxy); the next ones stream the job's end.
      if (opens++ === 0) return hangUntilAborted(call)
      const stream = eventStream()
      stream.write(statusEvent(jobBody({ id: 'job_2', status: 'completed', progress: 1 }), 1))
      return stream.response
    })
    const client = createClient({
      baseUrl: 'http://api.test',
      fetch,
      clock,
      requestTimeoutMs: 30_000,
    })
    const start = manual.now()
    void client.jobs.wait('job_1').catch(() => {})
    const second = client.jobs.wait('job_2')
    await drive(manual, second, 500, 60)
    await expect(second).resolves.toMatchObject({ status: 'completed' })
    // Its open waited for the first one's answer 3 s at most, not the first's 30 s limit.
    expect(manual.now() - start).toBeLessThanOrEqual(3_500)
    client.close()
  })

  it('should not hold every stream back for a 429 now and then that says tokens are left', async () => {
    // 15 % of the requests refused for a second (a gateway's), the limit stated (a burst of
    // 100, 50 a second: the mock's) nearly full.
    const { client, manual, settle } = virtualSetup({
      simulation: {
        seed: 7,
        rate_limit: { capacity: 100, refill_per_s: 50 },
        durations: { distribution: 'uniform', min_ms: 3_000, max_ms: 9_000 },
        hints: { mode: 'eta', eta_noise: 0 },
        faults: { rate_429: 0.15 },
      },
      client: { transport: 'auto' },
    })
    const late: number[] = []
    const waits = Array.from({ length: 100 }, () =>
      client.jobs
        .createAndWait({ video_url: 'https://example.com/a.mp4', target_language: 'es' })
        .then((job) => late.push(manual.now() - Date.parse(job.updated_at))),
    )
    await settle(Promise.all(waits), 120_000)
    expect(late).toHaveLength(100)
    // Each refusal held every request a second, and a refused stream opened again at the
    // job's ETA: 21 s at p95 (3.8 s now: two refusals in a row still hold them all).
    late.sort((a, b) => a - b)
    expect(late[94]).toBeLessThan(5_000)
  }, 30_000)

  it('should take a stream whose first event never comes for a buffering proxy', async () => {
    const { manual, clock } = virtualClock()
    const fetch = fakeFetch((call) => {
      if (call.url.includes('/events')) return eventStream().response
      return json(jobBody({ status: 'completed', progress: 1 }))
    })
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock })
    const reasons: string[] = []
    client.on('transport:fallback', (e) => reasons.push(e.reason))
    const wait = client.jobs.wait('job_1')
    for (let i = 0; i < 10; i++) await manual.tickAsync(1_000)
    await expect(wait).resolves.toMatchObject({ status: 'completed' })
    expect(reasons[0]).toMatch(/nothing within 5000 ms/)
    expect(fetch.calls.at(-1)?.url).toBe('http://api.test/v1/jobs/job_1?wait=30&until=terminal')
  })

  it('should poll the jobs of a waitAll in batches whatever the transport', async () => {
    const { client, requests, settle } = virtualSetup({ client: { transport: 'auto' } })
    const a = await client.jobs.create(jobParams(10_000))
    const b = await client.jobs.create(jobParams(10_000))
    await settle(client.jobs.waitAll([a.id, b.id]))
    expect(requests.some((r) => r.path.includes('/events') || r.path.includes('wait='))).toBe(false)
  })

  it('should not give up on streams for a job that does not exist', async () => {
    const { client, settle } = virtualSetup({ client: { transport: 'auto' } })
    const fallbacks: string[] = []
    client.on('transport:fallback', (e) => fallbacks.push(e.reason))
    await expect(settle(client.jobs.wait('job_missing'))).rejects.toSatisfy(isNotFoundError)
    expect(fallbacks).toEqual([])
  })

  it('should never ask in a loop a server that ignores wait while progress moves', async () => {
    const { manual, clock } = virtualClock()
    let progress = 0
    const fetch = fakeFetch(() => {
      progress = Math.min(0.99, progress + 0.001)
      return json(jobBody({ status: 'running', progress, eta_ms: null }))
    })
    const client = createClient({
      baseUrl: 'http://api.test',
      fetch,
      clock,
      transport: 'long-poll',
    })
    const wait = client.jobs.wait('job_1', { timeoutMs: 3_000 }).catch((e: unknown) => e)
    for (let i = 0; i < 40; i++) await manual.tickAsync(100)
    expect(isTimeoutError(await wait)).toBe(true)
    // The strategy's delays between answers given at once: a few dozen at most, not thousands.
    expect(fetch.calls.length).toBeLessThan(40)
  })

  it('should wait out a stream refused with 503 and Retry-After instead of failing', async () => {
    const { manual, clock } = virtualClock()
    const start = manual.now()
    const fetch = fakeFetch((call) => {
      const down = manual.now() - start < 120_000
      if (down) {
        const refused = problemResponse(503, 'Maintenance')
        refused.headers.set('retry-after', '10')
        return refused
      }
      if (call.url.includes('/events')) {
        const stream = eventStream()
        stream.write(statusEvent(jobBody({ status: 'completed', progress: 1 }), 9))
        stream.close()
        return stream.response
      }
      return json(jobBody({ status: 'completed', progress: 1 }))
    })
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock, transport: 'sse' })
    const wait = client.jobs.wait('job_1')
    for (let i = 0; i < 30; i++) await manual.tickAsync(10_000)
    await expect(wait).resolves.toMatchObject({ status: 'completed' })
  })
})

describe('push: a stream refused with a time to come back past the deadline', () => {
  it('should end at once, saying why, a wait whose stream was refused past its deadline', async () => {
    const { manual, clock } = virtualClock()
    const start = manual.now()
    // The job made, then a quota used up: 429 with `Retry-After: 70` and nothing left (the
    // limit's headers too); the wait has 20 s.
    const fetch = fakeFetch((call) => {
      if (call.method === 'POST') return json(jobBody({ status: 'pending' }), 202)
      const refused = problemResponse(429, 'Quota exceeded')
      refused.headers.set('retry-after', '70')
      refused.headers.set('x-ratelimit-limit', '1000')
      refused.headers.set('x-ratelimit-remaining', '0')
      refused.headers.set('x-ratelimit-reset', String(Math.ceil(manual.now() / 1_000) + 70))
      return refused
    })
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock })
    const { id } = await client.jobs.create(jobParams())
    const error = await drive(
      manual,
      client.jobs.wait(id, { timeoutMs: 20_000 }).catch((e: unknown) => e),
      100,
      300,
    )
    expect(isTimeoutError(error)).toBe(true)
    expect(manual.now() - start).toBeLessThan(1_000)
    expect(String(error)).toMatch(/the server asked for no request until/)
    expect((error as Error).cause).toMatchObject({ status: 429 })
  })
})

describe('push: deadlines and failures, as polling has them', () => {
  it('should make its last look at the deadline though every stream open was refused', async () => {
    const { manual, clock } = virtualClock()
    const start = manual.now()
    // Every open refused (429, come back in 1 s), the server stating no limit: the rate learned
    // from the refusals fell to a 64th, and the last look's turn came after its second: a
    // TimeoutError on a job done at 120 s.
    const fetch = fakeFetch((call) => {
      const done = manual.now() - start >= 120_000
      if (call.method === 'POST') return json(jobBody({ status: 'pending', eta_ms: 120_000 }), 202)
      if (call.url.includes('/events')) {
        const response = problemResponse(429, 'too many streams')
        response.headers.set('retry-after', '1')
        return response
      }
      const result = { url: 'https://x.test' }
      return json(jobBody({ status: done ? 'completed' : 'running', ...(done && { result }) }))
    })
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock, transport: 'sse' })
    const wait = client.jobs.createAndWait(jobParams(), { timeoutMs: 600_000 })
    await expect(drive(manual, wait, 1_000, 700)).resolves.toMatchObject({ status: 'completed' })
    expect(fetch.calls.some((c) => c.method === 'GET' && !c.url.includes('/events'))).toBe(true)
  })

  it.each([
    ['sse', 0],
    ['sse', 3_000],
    ['long-poll', 0],
    ['long-poll', 500],
    ['long-poll', 3_000],
    ['poll', 0],
    ['poll', 3_000],
  ] as const)(
    'should end a %s wait at its timeout of %i ms, without a loop',
    async (transport, timeoutMs) => {
      const { client, manual, requests, settle } = virtualSetup({ client: { transport } })
      const job = await client.jobs.create(jobParams(600_000))
      const start = manual.now()
      const sent = requests.length
      const error = await settle(client.jobs.wait(job.id, { timeoutMs })).catch((e: unknown) => e)
      expect(isTimeoutError(error)).toBe(true)
      // A stream watched all along needs no look past the deadline; a check may take a moment.
      expect(manual.now() - start).toBeLessThanOrEqual(timeoutMs + (transport === 'sse' ? 0 : 100))
      expect(requests.length - sent).toBeLessThanOrEqual(4)
    },
  )

  it('should end an SSE wait at its deadline on a clock whose timers fire a moment early', async () => {
    const { manual, clock } = virtualClock()
    // Real timers may fire a millisecond before the clock reads their time (never at once).
    const early = {
      now: () => manual.now(),
      sleep: (ms: number, signal?: AbortSignal) => clock.sleep(ms > 1 ? ms - 1 : ms, signal),
    }
    const open = eventStream()
    open.write(statusEvent(jobBody({ status: 'running' }), 1))
    const fetch = fakeFetch((call) =>
      call.url.includes('/events') ? open.response : json(jobBody({ status: 'running' })),
    )
    const client = createClient({
      baseUrl: 'http://api.test',
      fetch,
      clock: early,
      transport: 'sse',
    })
    const start = manual.now()
    const wait = client.jobs.wait('job_1', { timeoutMs: 2_800 }).catch((e: unknown) => e)
    await manual.tickAsync(2_800)
    await manual.tickAsync(1)
    expect(isTimeoutError(await wait)).toBe(true)
    expect(manual.now() - start).toBeLessThanOrEqual(2_801)
    // The stream was interrupted at the deadline for a plain last look.
    expect(fetch.calls.map((c) => new URL(c.url).pathname)).toEqual([
      '/v1/jobs/job_1/events',
      '/v1/jobs/job_1',
    ])
  })

  it('should take a plain last look at the deadline when a held request is held up on the way', async () => {
    const { manual, clock } = virtualClock()
    // Held requests get no answer (a proxy holding them); plain ones are answered.
    const fetch = fakeFetch((call) => {
      if (!call.url.includes('wait=')) return json(jobBody({ status: 'completed', progress: 1 }))
      return hangUntilAborted(call)
    })
    const client = createClient({
      baseUrl: 'http://api.test',
      fetch,
      clock,
      transport: 'long-poll',
      requestTimeoutMs: 3_000,
    })
    const wait = client.jobs.wait('job_1', { timeoutMs: 10_000 })
    for (let i = 0; i < 12; i++) await manual.tickAsync(1_000)
    await expect(wait).resolves.toMatchObject({ status: 'completed' })
    expect(fetch.calls.at(-1)?.url).toBe('http://api.test/v1/jobs/job_1')
  })

  it('should take its last look while the circuit breaker is open', async () => {
    const { manual, clock } = virtualClock()
    let down = true
    const fetch = fakeFetch(() =>
      down ? problemResponse(500, 'down') : json(jobBody({ status: 'completed', progress: 1 })),
    )
    const client = createClient({
      baseUrl: 'http://api.test',
      fetch,
      clock,
      transport: 'poll',
      retry: false,
      polling: fixedInterval(500),
      circuitBreaker: { failureThreshold: 2, resetTimeoutMs: 60_000 },
    })
    const opened: unknown[] = []
    client.on('circuit:open', (event) => opened.push(event))
    const wait = client.jobs.wait('job_1', { timeoutMs: 10_000 })
    await manual.tickAsync(2_000)
    expect(opened).toHaveLength(1)
    // The server is back, the circuit still open for a minute: the deadline's look finds the end.
    down = false
    for (let i = 0; i < 10; i++) await manual.tickAsync(1_000)
    await expect(wait).resolves.toMatchObject({ status: 'completed' })
  })

  it.each([
    ['without event names', (job: object) => `data: ${JSON.stringify(job)}\n\n`],
    ['wrapped in an envelope', (job: object) => statusEvent({ type: 'job.updated', job }, 1)],
  ])('should read a stream whose events come %s', async (_, event) => {
    const { manual, clock } = virtualClock()
    const { streams, open } = streamServer()
    const fetch = fakeFetch((call) => (call.url.includes('/events') ? open() : json(jobBody())))
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock })
    const wait = client.jobs.wait('job_1')
    await manual.tickAsync(0)
    streams[0]?.write(event(jobBody({ status: 'running' })))
    await manual.tickAsync(1_000)
    streams[0]?.write(event(jobBody({ status: 'completed', progress: 1 })))
    await expect(drive(manual, wait, 10, 10)).resolves.toMatchObject({ status: 'completed' })
    expect(fetch.calls).toHaveLength(1)
  })

  it('should move to long-poll a stream whose status events do not read (auto)', async () => {
    const { manual, clock } = virtualClock()
    const fetch = fakeFetch((call) => {
      if (!call.url.includes('/events')) return json(jobBody({ status: 'completed', progress: 1 }))
      const stream = eventStream()
      stream.write(statusEvent({ state: 'RUNNING' }, 1))
      return stream.response
    })
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock })
    const fallbacks: ClientEvents['transport:fallback'][] = []
    client.on('transport:fallback', (event) => fallbacks.push(event))
    const wait = client.jobs.wait('job_1')
    await expect(drive(manual, wait, 100, 20)).resolves.toMatchObject({ status: 'completed' })
    expect(fallbacks).toMatchObject([{ from: 'sse', to: 'long-poll' }])
    expect(fallbacks[0]?.reason).toMatch(/not a Job/)
  })

  it('should not open a stream again sooner than a second, whatever its retry: says', async () => {
    const { manual, clock } = virtualClock()
    const start = manual.now()
    const opened: number[] = []
    // A server that ends the stream after each event, and asks to come back at once.
    const fetch = fakeFetch(() => {
      opened.push(manual.now() - start)
      const stream = eventStream()
      stream.write(`retry: 0\n\n${statusEvent(jobBody({ status: 'running' }), opened.length)}`)
      stream.close()
      return stream.response
    })
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock, transport: 'sse' })
    const controller = new AbortController()
    client.jobs.wait('job_1', { signal: controller.signal }).catch(() => {})
    for (let i = 0; i < 100; i++) await manual.tickAsync(100)
    controller.abort()
    expect(opened.length).toBeGreaterThan(3)
    expect(opened.length).toBeLessThanOrEqual(11)
  })

  it('should keep a stream that speaks but sends no event first, asking the job beside it', async () => {
    const { manual, clock } = virtualClock()
    const start = manual.now()
    const { streams, open } = streamServer((stream) => stream.write('retry: 3000\n\n: hello\n\n'))
    const looks: number[] = []
    const fetch = fakeFetch((call) => {
      if (call.url.includes('/events')) return open()
      looks.push(manual.now() - start)
      return json(jobBody({ status: 'running' }))
    })
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock })
    const fallbacks: ClientEvents['transport:fallback'][] = []
    client.on('transport:fallback', (event) => fallbacks.push(event))
    const states: string[] = []
    const wait = client.jobs.wait('job_1', { onProgress: (job) => states.push(job.status) })
    await manual.tickAsync(5_100)
    // Not a buffering proxy (bytes came): the job asked once beside the stream, which stays.
    expect(looks).toEqual([5_000])
    expect(states).toEqual(['running'])
    // The server sends changes only: the end, at 8 s, known at once.
    await manual.tickAsync(2_900)
    streams[0]?.write(statusEvent(jobBody({ status: 'completed', progress: 1 }), 2))
    await expect(wait).resolves.toMatchObject({ status: 'completed' })
    expect(fallbacks).toEqual([])
    expect(streams).toHaveLength(1)
    // The client's next job is streamed too.
    const next = client.jobs.wait('job_2')
    await manual.tickAsync(100)
    expect(streams).toHaveLength(2)
    streams[1]?.write(statusEvent(jobBody({ id: 'job_2', status: 'completed', progress: 1 }), 2))
    await expect(next).resolves.toMatchObject({ id: 'job_2' })
  })

  it('should move to long-poll a stream that sends nothing at all (a buffering proxy)', async () => {
    const { manual, clock } = virtualClock()
    const fetch = fakeFetch((call) => {
      if (!call.url.includes('/events')) return json(jobBody({ status: 'completed', progress: 1 }))
      return eventStream().response
    })
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock })
    const fallbacks: ClientEvents['transport:fallback'][] = []
    client.on('transport:fallback', (event) => fallbacks.push(event))
    const wait = client.jobs.wait('job_1')
    await manual.tickAsync(5_000)
    await manual.tickAsync(100)
    await expect(wait).resolves.toMatchObject({ status: 'completed' })
    expect(fallbacks).toMatchObject([{ from: 'sse', to: 'long-poll' }])
    expect(fallbacks[0]?.reason).toMatch(/^nothing within 5000 ms/)
  })

  it('should keep a resumed stream that has nothing newer yet to send', async () => {
    const { manual, clock } = virtualClock()
    const { streams, open } = streamServer((stream, before) => {
      stream.write('retry: 1000\n\n')
      if (before === 0) stream.write(statusEvent(jobBody({ status: 'running' }), 7))
    })
    const fetch = fakeFetch(open)
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock })
    const fallbacks: unknown[] = []
    client.on('transport:fallback', (event) => fallbacks.push(event))
    const wait = client.jobs.wait('job_1')
    await manual.tickAsync(0)
    streams[0]?.close()
    // Resumed after event 7: the server has nothing newer for 20 s, then the end.
    for (let i = 0; i < 20; i++) await manual.tickAsync(1_000)
    streams[1]?.write(statusEvent(jobBody({ status: 'completed', progress: 1 }), 8))
    await expect(wait).resolves.toMatchObject({ status: 'completed' })
    expect(fallbacks).toEqual([])
    expect(fetch.calls[1]?.headers.get('last-event-id')).toBe('7')
  })

  it('should fail a check on a stream line too long to hold', async () => {
    const { manual, clock } = virtualClock()
    const stream = eventStream()
    const fetch = fakeFetch(() => stream.response)
    const client = createClient({
      baseUrl: 'http://api.test',
      fetch,
      clock,
      transport: 'sse',
      retry: false,
    })
    const wait = client.jobs.wait('job_1', { maxConsecutiveErrors: 1 }).catch((e: unknown) => e)
    await manual.tickAsync(0)
    for (let i = 0; i < 20; i++) stream.write('x'.repeat(64 * 1024))
    await manual.tickAsync(0)
    const error = await wait
    expect(error).toMatchObject({ name: 'InvalidResponseError' })
    expect((error as Error).message).toMatch(/a line of the event stream is longer than/)
  })

  it('should end a wait on time when a held request or a stream ignores its abort', async () => {
    for (const transport of ['long-poll', 'sse'] as const) {
      const { manual, clock } = virtualClock()
      // Held requests and stream opens never settle, aborted or not; plain checks are answered.
      const fetch = fakeFetch((call) =>
        call.url.includes('wait=') || call.url.includes('/events')
          ? new Promise<Response>(() => {})
          : json(jobBody({ status: 'running' })),
      )
      const client = createClient({ baseUrl: 'http://api.test', fetch, clock, transport })
      const start = manual.now()
      let ended = -1
      const wait = client.jobs.wait('job_1', { timeoutMs: 10_000 }).catch((e: unknown) => {
        ended = manual.now() - start
        return e
      })
      for (let i = 0; i < 30 && ended < 0; i++) await manual.tickAsync(500)
      expect(isTimeoutError(await wait), transport).toBe(true)
      expect(ended, transport).toBeLessThanOrEqual(11_000)
    }
  })

  it('should let one last look at a time through an open circuit breaker, not every wait’s', async () => {
    const { manual, clock } = virtualClock()
    const sentAt: number[] = []
    const fetch = fakeFetch(() => {
      sentAt.push(manual.now())
      return problemResponse(500, 'down')
    })
    const client = createClient({
      baseUrl: 'http://api.test',
      fetch,
      clock,
      transport: 'long-poll',
      retry: false,
      polling: fixedInterval(500),
      circuitBreaker: { failureThreshold: 2, resetTimeoutMs: 60_000 },
    })
    const start = manual.now()
    const waits = Array.from({ length: 50 }, (_, i) =>
      client.jobs.wait(`job_${i}`, { timeoutMs: 10_000 }).catch((e: unknown) => e),
    )
    for (let i = 0; i < 30; i++) await manual.tickAsync(500)
    const outcomes = await Promise.all(waits)
    expect(outcomes.every((o) => isVideoTranslationError(o))).toBe(true)
    // Checked one request each (held requests are not batched). The deadline's looks: the
    // first probes the dead server, the rest are refused meanwhile.
    const atDeadline = sentAt.filter((t) => t - start >= 9_000)
    expect(atDeadline.length).toBeGreaterThanOrEqual(1)
    expect(atDeadline.length).toBeLessThanOrEqual(2)
  })

  it('should let every wait’s last look find its job once one of them closed the circuit', async () => {
    const { manual, clock } = virtualClock()
    let down = true
    const fetch = fakeFetch(async (call) => {
      // Answers take a little while: the other looks come while the first probes.
      await sleep(manual, 50)
      const id = new URL(call.url).pathname.split('/')[3]
      if (down) return problemResponse(500, 'down')
      return json(jobBody({ id, status: 'completed', progress: 1 }))
    })
    const client = createClient({
      baseUrl: 'http://api.test',
      fetch,
      clock,
      transport: 'long-poll',
      retry: false,
      circuitBreaker: { failureThreshold: 2, resetTimeoutMs: 60_000 },
    })
    const waits = Array.from({ length: 5 }, (_, i) =>
      client.jobs.wait(`job_${i}`, { timeoutMs: 10_000 }).catch((e: unknown) => e),
    )
    await manual.tickAsync(2_000)
    // Back, while the circuit stays open for a minute: the deadline's looks find every end.
    down = false
    for (let i = 0; i < 100; i++) await manual.tickAsync(100)
    const outcomes = await Promise.all(waits)
    expect(outcomes.map((o) => (o as Job).status)).toEqual(Array(5).fill('completed'))
  })

  it('should take a plain last look at the deadline when the stream brought no end', async () => {
    const { manual, clock } = virtualClock()
    // A stream that only keeps alive, while the job has ended: the last look finds it.
    const open = eventStream()
    open.write(statusEvent(jobBody({ status: 'running' }), 1))
    const fetch = fakeFetch((call) =>
      call.url.includes('/events')
        ? open.response
        : json(jobBody({ status: 'completed', progress: 1 })),
    )
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock, transport: 'sse' })
    const wait = client.jobs.wait('job_1', { timeoutMs: 20_000 })
    for (let i = 0; i < 20; i++) {
      open.write(': keep-alive\n\n')
      await manual.tickAsync(1_000)
    }
    await manual.tickAsync(100)
    await expect(wait).resolves.toMatchObject({ status: 'completed' })
  })

  it('should ask plainly beside a stream that brings no event for five minutes, and learn the end', async () => {
    const { manual, clock } = virtualClock()
    const start = manual.now()
    // The stream says the job runs, then nothing but keep-alives: its end, at 7 min, is lost.
    const { streams, open } = streamServer((stream) => {
      stream.write(statusEvent(jobBody({ status: 'running', progress: 0.1 }), 1))
    })
    const looks: number[] = []
    const fetch = fakeFetch((call) => {
      if (call.url.includes('/events')) return open()
      looks.push(manual.now() - start)
      const done = manual.now() - start >= 420_000
      return json(jobBody(done ? { status: 'completed', progress: 1 } : { status: 'running' }))
    })
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock, transport: 'sse' })
    let settled = false
    const wait = client.jobs.wait('job_1', EVERY_CHANGE).finally(() => {
      settled = true
    })
    // Keep-alives alone, every 15 s: the stream is alive, but tells nothing.
    for (let i = 0; i < 48 && !settled; i++) {
      streams.at(-1)?.write(': keep-alive\n\n')
      await manual.tickAsync(15_000)
    }
    await expect(wait).resolves.toMatchObject({ status: 'completed' })
    // One stream, kept; a look at 5 min (running) and at 10 min (the end).
    expect(streams).toHaveLength(1)
    expect(looks).toHaveLength(2)
    expect(looks[0]).toBeGreaterThanOrEqual(300_000)
  })

  it('should not let a look beside a quiet stream take the job back behind a newer event', async () => {
    const { manual, clock } = virtualClock()
    const start = manual.now()
    // Queued until 301 s, then running; the look is read at once but answers 2 s later.
    const stateAt = () =>
      manual.now() - start < 301_000
        ? { status: 'queued', progress: 0 }
        : { status: 'running', progress: 0.3 }
    const { streams, open } = streamServer((stream) => {
      stream.write(statusEvent(jobBody(stateAt()), 1))
    })
    const fetch = fakeFetch(async (call) => {
      if (call.url.includes('/events')) return open()
      const body = jobBody(stateAt())
      await sleep(manual, 2_000)
      return json(body)
    })
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock, transport: 'sse' })
    const seen: string[] = []
    client.on('job:status', ({ job }) => seen.push(job.status))
    const controller = new AbortController()
    const wait = client.jobs.wait('job_1', { signal: controller.signal }).catch(() => {})
    for (let i = 0; i < 20; i++) {
      streams.at(-1)?.write(': keep-alive\n\n')
      await manual.tickAsync(15_000)
    }
    // 300 s: the look goes out (queued); 301 s: the stream says running; 302 s: the look answers.
    await manual.tickAsync(1_000)
    streams.at(-1)?.write(statusEvent(jobBody(stateAt()), 2))
    await manual.tickAsync(3_000)
    controller.abort()
    await wait
    expect(seen.at(-1)).toBe('running')
  })

  it('should end a look beside a quiet stream with the stream, and so with the wait', async () => {
    const { manual, streams, looks, client, quietFiveMinutes } = quietStream(60_000)
    const controller = new AbortController()
    const wait = client.jobs
      .wait('job_1', { ...EVERY_CHANGE, signal: controller.signal })
      .catch(() => {})
    await quietFiveMinutes()
    expect(looks).toHaveLength(1)
    // The server ends the stream (a deployment) while the look is out.
    streams.at(-1)?.close()
    await manual.tickAsync(100)
    expect(looks[0]?.signal?.aborted).toBe(true)
    controller.abort()
    await wait
  })

  it('should keep one look beside a quiet stream out at a time, and end it with the wait', async () => {
    const { streams, looks, client, quietFiveMinutes } = quietStream(Number.POSITIVE_INFINITY)
    const controller = new AbortController()
    const wait = client.jobs
      .wait('job_1', { ...EVERY_CHANGE, signal: controller.signal })
      .catch(() => {})
    await quietFiveMinutes()
    // The look hangs; an event comes, then five more quiet minutes: no second look beside it.
    streams.at(-1)?.write(statusEvent(jobBody({ status: 'running', progress: 0.5 }), 2))
    await quietFiveMinutes()
    expect(looks).toHaveLength(1)
    controller.abort()
    await wait
    expect(looks[0]?.signal?.aborted).toBe(true)
  })

  it('should report a stream that cannot be opened as a request would: events, history, breaker', async () => {
    const { manual, clock } = virtualClock()
    // The server answered the client once, then went down (one never reached fails the wait at
    // once: breaker.test.ts).
    let up = true
    const fetch = fakeFetch(() =>
      up ? json(jobBody()) : Promise.reject(new TypeError('connect ECONNREFUSED')),
    )
    const client = createClient({
      baseUrl: 'http://api.test',
      fetch,
      clock,
      transport: 'sse',
      circuitBreaker: { failureThreshold: 5, resetTimeoutMs: 1_000 },
    })
    await drive(manual, client.jobs.get('job_1'))
    up = false
    const seen: string[] = []
    client.on('request:retry', () => seen.push('retry'))
    client.on('request:error', () => seen.push('error'))
    client.on('circuit:open', () => seen.push('open'))
    let settled = false
    const wait = client.jobs
      .wait('job_1', { maxConsecutiveErrors: 3 })
      .catch((e: unknown) => e)
      .finally(() => {
        settled = true
      })
    for (let i = 0; i < 600 && !settled; i++) await manual.tickAsync(100)
    const error = await wait
    // The circuit's refusal, with the stream's failure as its cause.
    expect(isCircuitOpenError(error)).toBe(true)
    expect(isNetworkError((error as Error).cause)).toBe(true)
    expect(seen).toContain('retry')
    expect(seen).toContain('error')
    expect(seen).toContain('open')
    const history = client.jobs.history('job_1').filter((entry) => entry.error !== undefined)
    expect(history.length).toBeGreaterThan(0)
    expect(history[0]).toMatchObject({ status: null, httpStatus: null })
    expect(history[0]?.error).toContain('ECONNREFUSED')
  })
})
