/**
 * A client made once, at module scope, on a runtime that ties every timer and fetch to the
 * request that started it, as Cloudflare Workers does: a request cannot wait on another's timer
 * or fetch, and the timers and fetches of a request that ended never settle. Emulated in Node
 * with AsyncLocalStorage: each "request" is a context; once it ends, what it started is dropped.
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import { sleep } from '@video-translation/mock-server'
import { afterEach, describe, expect, it } from 'vitest'
import { createClient } from '../src/client.js'
import type { Clock } from '../src/clock.js'
import { isTimeoutError } from '../src/errors.js'
import { fakeFetch, jobBody, json, problemResponse } from './fake-fetch.js'
import { drive, jobParams, virtualClock, virtualSetup } from './virtual-time.js'

/** Requests as contexts: `run` one; what it started dies with it once `end`ed. */
function requestContexts() {
  const store = new AsyncLocalStorage<{ ended: boolean }>()
  /** `promise`, never settling once the context that started it has ended. */
  const tied = <T>(promise: Promise<T>): Promise<T> => {
    const context = store.getStore()
    return new Promise<T>((resolve, reject) => {
      promise.then(
        (value) => context?.ended || resolve(value),
        (error: unknown) => context?.ended || reject(error),
      )
    })
  }
  return {
    tied,
    /** Runs `call` as one request; it ends when `call` settles. */
    run<T>(call: () => Promise<T>): Promise<T> {
      const context = { ended: false }
      return store.run(context, () =>
        call().finally(() => {
          context.ended = true
        }),
      )
    },
  }
}

/** The mock server and a client whose timers and fetches belong to the request that made them. */
function workersSetup(options: { isolateCalls?: boolean } = {}) {
  const contexts = requestContexts()
  const setup = virtualSetup()
  const { app, manual } = setup
  const clock: Clock = {
    now: () => manual.now(),
    sleep: (ms, signal) => contexts.tied(sleep(manual, ms, signal)),
  }
  const client = createClient({
    baseUrl: 'http://mock.test',
    apiKey: 'vt_dev_key',
    clock,
    transport: 'poll',
    fetch: (input, init) => contexts.tied(Promise.resolve(app.request(input, init))),
    ...options,
  })
  return { ...setup, client, run: contexts.run }
}

const globals = globalThis as { navigator?: unknown }
const navigator = Object.getOwnPropertyDescriptor(globalThis, 'navigator')

afterEach(() => {
  if (navigator) Object.defineProperty(globalThis, 'navigator', navigator)
  else delete globals.navigator
})

describe('a client made once, on a runtime that ties timers and fetches to each request', () => {
  it('should go on waiting for a job after another request waiting for it ended', async () => {
    const { client, run, settle } = workersSetup({ isolateCalls: true })
    const job = await settle(run(() => client.jobs.create(jobParams(10_000))))
    const first = run(() => client.jobs.wait(job.id, { timeoutMs: 2_000 }))
    const second = run(() => client.jobs.wait(job.id, { timeoutMs: 60_000 }))
    expect(isTimeoutError(await settle(first).catch((e: unknown) => e))).toBe(true)
    await expect(settle(second, 60_000)).resolves.toMatchObject({ status: 'completed' })
    // And the client still works for the requests that come after.
    const next = await settle(
      run(() => client.jobs.createAndWait(jobParams(3_000))),
      60_000,
    )
    expect(next.status).toBe('completed')
  })

  it('should wait in each request on its own, creates paced or not', async () => {
    const { client, run, settle } = workersSetup({ isolateCalls: true })
    const calls = [1_000, 3_000, 2_000].map((ms) =>
      run(() => client.jobs.createAndWait(jobParams(ms))),
    )
    const jobs = await settle(Promise.all(calls), 60_000)
    expect(jobs.map((j) => j.status)).toEqual(['completed', 'completed', 'completed'])
  })

  it('should pace the creates of one createBatch together, each call having its own pacer', async () => {
    const { client, settle } = virtualSetup({
      simulation: { rate_limit: { capacity: 5, refill_per_s: 5 } },
      client: { isolateCalls: true },
    })
    const refused: unknown[] = []
    client.on('request:retry', (event) => refused.push(event))
    const outcomes = await settle(client.jobs.createBatch(Array(20).fill(jobParams(1_000))))
    expect(outcomes.every((o) => o.status === 'fulfilled')).toBe(true)
    expect(refused).toEqual([])
  })

  it('should keep each call’s circuit breaker its own, and what the server cannot do the client’s', async () => {
    const { manual, clock } = virtualClock()
    let down = true
    const fetch = fakeFetch((call) => {
      const url = new URL(call.url)
      if (url.searchParams.has('ids')) return problemResponse(404, 'Not Found')
      if (down) return problemResponse(500, 'Down')
      const id = url.pathname.split('/')[3]
      return json(jobBody({ id, status: 'completed' }))
    })
    const options = { baseUrl: 'http://api.test', fetch, clock, transport: 'poll' as const }
    const client = createClient({ ...options, isolateCalls: true, retry: { maxRetries: 0 } })
    for (let i = 0; i < 5; i++) await client.jobs.get('job_1').catch(() => {})
    // Five failures in five calls: no circuit opened across them; the server back, asked at once.
    down = false
    await expect(client.jobs.get('job_1')).resolves.toMatchObject({ status: 'completed' })
    // No batch endpoint: found out by the first waitAll, not asked again by the next.
    for (let i = 0; i < 2; i++) {
      const outcomes = await drive(manual, client.jobs.waitAll(['job_1', 'job_2']), 1_000, 30)
      expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled'])
    }
    expect(fetch.calls.filter((c) => c.url.includes('ids=')).length).toBe(1)
  })

  it('should isolate calls by itself on Cloudflare Workers, and not elsewhere', async () => {
    const checks: number[] = []
    for (const userAgent of ['Cloudflare-Workers', 'Node.js/20']) {
      Object.defineProperty(globalThis, 'navigator', { value: { userAgent }, configurable: true })
      const { client, polls, settle } = virtualSetup()
      const job = await settle(client.jobs.create(jobParams(10_000)))
      // Two waits on one job: isolated, each asks; shared, they share each check.
      const both = Promise.all([client.jobs.wait(job.id), client.jobs.wait(job.id)])
      await settle(both, 60_000)
      checks.push(polls(job.id).length)
    }
    const [isolated, shared] = checks as [number, number]
    expect(shared).toBeGreaterThan(0)
    expect(isolated).toBe(2 * shared)
  })
})
