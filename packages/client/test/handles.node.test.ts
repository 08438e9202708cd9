/**
 * Nothing left running: after a finished wait and after an aborted one, over a real socket with
 * real time, every timer the client started has fired or been cleared.
 */
import { DEV_API_KEY } from '@video-translation/mock-server'
import { type RunningServer, startServer } from '@video-translation/mock-server/node'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { createClient } from '../src/index.js'

let server: RunningServer
const live = new Map<ReturnType<typeof setTimeout>, number>()
/** How many timers the client started in this test: a positive control for the stack filter. */
let started = 0
const realSetTimeout = globalThis.setTimeout
const realClearTimeout = globalThis.clearTimeout

beforeAll(async () => {
  server = await startServer({
    port: 0,
    simulation: {
      durations: { distribution: 'fixed', ms: 300 },
      error_rate: 0,
      hints: { mode: 'eta', eta_noise: 0 },
    },
  })
})

afterAll(async () => {
  await server.close()
})

beforeEach(() => {
  live.clear()
  started = 0
  globalThis.setTimeout = ((
    callback: (...args: unknown[]) => void,
    ms?: number,
    ...args: unknown[]
  ) => {
    const timer = realSetTimeout(() => {
      live.delete(timer)
      callback(...args)
    }, ms)
    // Only the client's own timers: the server and undici share this process.
    if (new Error().stack?.includes('/packages/client/src/')) {
      live.set(timer, ms ?? 0)
      started++
    }
    return timer
  }) as typeof setTimeout
  globalThis.clearTimeout = ((timer: ReturnType<typeof setTimeout>) => {
    live.delete(timer)
    realClearTimeout(timer)
  }) as typeof clearTimeout
})

afterEach(() => {
  globalThis.setTimeout = realSetTimeout
  globalThis.clearTimeout = realClearTimeout
})

/** A job that runs for ten minutes: long past every test. */
function longJob(client: ReturnType<typeof createClient>) {
  return client.jobs.create({
    video_url: 'https://example.com/a.mp4',
    target_language: 'es',
    simulate: { duration_ms: 600_000 },
  })
}

/** The client's timers still pending: its sleeps and request timeouts. */
const pendingTimers = () => [...live.values()]

describe('resources', () => {
  it('should leave no timer after a finished wait', async () => {
    const client = createClient({ baseUrl: server.url, apiKey: DEV_API_KEY })
    const job = await client.jobs.createAndWait({
      video_url: 'https://example.com/a.mp4',
      target_language: 'es',
    })
    expect(job.status).toBe('completed')
    expect(started).toBeGreaterThan(0)
    expect(pendingTimers()).toEqual([])
  })

  it('should leave no timer after a wait aborted mid-sleep', async () => {
    const client = createClient({
      transport: 'poll',
      baseUrl: server.url,
      apiKey: DEV_API_KEY,
      polling: {
        useServerHints: false,
        initialIntervalMs: 60_000,
        minIntervalMs: 60_000,
        maxIntervalMs: 60_000,
        jitter: 'none',
      },
    })
    const job = await longJob(client)
    const controller = new AbortController()
    const waiting = client.jobs.wait(job.id, { signal: controller.signal })
    // The 60 s sleep, in its first 10 s (the timer looks at the clock every 10 s; a
    // millisecond less when the clock moved while it was planned).
    await vi.waitFor(() => expect(pendingTimers().some((ms) => ms >= 9_900)).toBe(true), {
      timeout: 10_000,
      interval: 20,
    })
    controller.abort(new Error('stop'))
    await expect(waiting).rejects.toThrow('stop')
    expect(pendingTimers()).toEqual([])
  })

  it('should leave no timer after a request aborted mid-flight', async () => {
    let inFlight: () => void = () => {}
    const sent = new Promise<void>((resolve) => {
      inFlight = resolve
    })
    const client = createClient({
      baseUrl: server.url,
      apiKey: DEV_API_KEY,
      fetch: (input, init) => {
        if (input.includes('/v1/jobs/')) inFlight()
        return fetch(input, init)
      },
    })
    const job = await longJob(client)
    const controller = new AbortController()
    const pending = client.jobs.wait(job.id, {
      signal: controller.signal,
      polling: { nextDelay: () => 0 },
    })
    await sent
    controller.abort(new Error('now'))
    await expect(pending).rejects.toThrow('now')
    // The request's own time limit was started, and is gone.
    expect(started).toBeGreaterThan(0)
    expect(pendingTimers()).toEqual([])
  })

  it('should leave no timer after a watch of an event stream is broken off', async () => {
    const client = createClient({ baseUrl: server.url, apiKey: DEV_API_KEY, transport: 'sse' })
    const job = await longJob(client)
    for await (const seen of client.jobs.watch(job.id)) {
      expect(seen.id).toBe(job.id)
      break
    }
    expect(started).toBeGreaterThan(0)
    expect(pendingTimers()).toEqual([])
  })

  it('should leave no timer after a long-poll is aborted while held', async () => {
    const client = createClient({
      baseUrl: server.url,
      apiKey: DEV_API_KEY,
      transport: 'long-poll',
    })
    const job = await longJob(client)
    const controller = new AbortController()
    const waiting = client.jobs.wait(job.id, { signal: controller.signal })
    // The held request's time limit: the hold (30 s) plus the request limit (10 s).
    await vi.waitFor(() => expect(pendingTimers().some((ms) => ms >= 39_000)).toBe(true), {
      timeout: 10_000,
      interval: 20,
    })
    controller.abort(new Error('leaving'))
    await expect(waiting).rejects.toThrow('leaving')
    expect(pendingTimers()).toEqual([])
  })

  it('should leave no timer once client.close() has ended streams, holds and polls', async () => {
    const options = { baseUrl: server.url, apiKey: DEV_API_KEY }
    const streaming = createClient({ ...options, transport: 'sse' })
    const holding = createClient({ ...options, transport: 'long-poll' })
    const polling = createClient({ ...options, transport: 'poll' })
    const clients = [streaming, holding, polling]
    const [a, b, c, d] = await Promise.all([...clients, polling].map(longJob))
    const watched: unknown[] = []
    const calls = [
      (async () => {
        for await (const seen of streaming.jobs.watch((a as { id: string }).id)) watched.push(seen)
      })(),
      holding.jobs.wait((b as { id: string }).id),
      polling.jobs.waitAll([(c as { id: string }).id, (d as { id: string }).id]),
    ]
    // The stream open, the hold held (its limit: hold plus request limit), the polls planned.
    await vi.waitFor(
      () => {
        expect(watched.length).toBeGreaterThan(0)
        expect(pendingTimers().some((ms) => ms >= 39_000)).toBe(true)
      },
      { timeout: 10_000, interval: 20 },
    )
    await Promise.all(clients.map((client) => client.close(new Error('shutdown'))))
    const outcomes = await Promise.allSettled(calls)
    expect(outcomes.map((o) => o.status === 'rejected' && String(o.reason))).toEqual([
      'Error: shutdown',
      'Error: shutdown',
      'Error: shutdown',
    ])
    expect(pendingTimers()).toEqual([])
  })
})
