/**
 * The waiting engine's consumers (watch, shared waits, waitAll, waitAny, createBatch, resume,
 * estimates) against the real mock server in-process, in virtual time.
 */
import { getEventListeners } from 'node:events'
import { DEV_API_KEY, type ManualClock, sleep } from '@video-translation/mock-server'
import { describe, expect, it } from 'vitest'
import { createClient, createCore } from '../src/client.js'
import {
  isJobFailedError,
  isNotFoundError,
  isServerError,
  isTimeoutError,
  type TimeoutError,
} from '../src/errors.js'
import type { CreateBatchOptions } from '../src/job-options.js'
import { Jobs } from '../src/jobs.js'
import { Monitor } from '../src/observe/monitor.js'
import { batchSource } from '../src/observe/sources/batch.js'
import type { WaitState } from '../src/observe/subscription.js'
import { resolveOptions } from '../src/options.js'
import { fixedInterval, type PollContext } from '../src/polling/strategy.js'
import type { Job } from '../src/types.js'
import { type FetchCall, fakeFetch, jobBody, json, problemResponse } from './fake-fetch.js'
import { drive, jobParams, limitedSetup, virtualClock, virtualSetup } from './virtual-time.js'

/** A wait's time limit long enough for any backlog of these tests. */
const LONG_WAIT = { timeoutMs: 3_600_000 }

/**
 * A server whose batch endpoint refuses (400) a batch holding an id starting with `bad`, and
 * answers a job asked alone a second later (400 for a bad id), every job completed.
 */
function badIdServer(manual: ManualClock) {
  return fakeFetch(async (call) => {
    const url = new URL(call.url)
    const ids = url.searchParams.get('ids')?.split(',')
    if (ids) {
      if (ids.some((id) => id.startsWith('bad'))) return problemResponse(400, 'Bad id')
      return json({ jobs: ids.map((id) => jobBody({ id, status: 'completed' })), missing: [] })
    }
    const id = url.pathname.split('/').pop() as string
    await sleep(manual, 1_000, call.signal)
    if (id.startsWith('bad')) return problemResponse(400, 'Bad id')
    return json(jobBody({ id, status: 'completed' }))
  })
}

/** Status requests (single and batch) grouped by the virtual time they were sent at. */
function statusRequestsByTime(requests: { at: number; method: string; path: string }[]) {
  const byTime = new Map<number, string[]>()
  for (const r of requests) {
    if (r.method !== 'GET' || !r.path.startsWith('/v1/jobs')) continue
    byTime.set(r.at, [...(byTime.get(r.at) ?? []), r.path])
  }
  return byTime
}

describe('jobs.watch', () => {
  it('should yield every status change in order and end after the terminal one', async () => {
    const { client, manual, settle } = virtualSetup()
    const job = await client.jobs.create(jobParams(10_000))
    const seen: Job[] = []
    const iterate = (async () => {
      for await (const update of client.jobs.watch(job.id)) seen.push(update)
    })()
    await settle(iterate)
    const statuses = seen.map((j) => j.status).filter((s, i, all) => s !== all[i - 1])
    expect(statuses).toEqual(['pending', 'running', 'completed'])
    const progress = seen.map((j) => j.progress)
    expect(progress).toEqual([...progress].sort((a, b) => a - b))
    expect(manual.now() - Date.parse(job.created_at)).toBeLessThan(12_000)
  })

  it('should stop its requests at once on break, and on its signal', async () => {
    const { client, manual, polls, settle } = virtualSetup()
    const job = await client.jobs.create(jobParams(3_600_000))
    const broken = (async () => {
      for await (const update of client.jobs.watch(job.id)) if (update.status === 'running') break
    })()
    await settle(broken)
    const afterBreak = polls(job.id).length
    await manual.tickAsync(120_000)
    expect(polls(job.id)).toHaveLength(afterBreak)

    const controller = new AbortController()
    const watched = (async () => {
      for await (const _ of client.jobs.watch(job.id, { signal: controller.signal })) {
        controller.abort(new Error('enough'))
      }
    })()
    await expect(settle(watched)).rejects.toThrow('enough')
    const afterAbort = polls(job.id).length
    await manual.tickAsync(120_000)
    expect(polls(job.id)).toHaveLength(afterAbort)
  })

  it('should keep the newest of each status for a reader that falls behind, and every status', async () => {
    const { client, manual } = virtualSetup()
    const job = await client.jobs.create(jobParams(10_000))
    const watch = client.jobs.watch(job.id, { polling: fixedInterval(1_000) })
    // Nobody reads while the job runs and ends: ten answers of progress, one after another.
    await manual.tickAsync(15_000)
    const seen: Job[] = []
    for await (const update of watch) seen.push(update)
    expect(seen.map((j) => j.status)).toEqual(['pending', 'running', 'completed'])
    // The running job as last seen before it ended, not the first of its answers.
    const running = seen[1] as Job
    expect(running.progress).toBeGreaterThan(0.8)
    expect(running.progress).toBeLessThan(1)
  })

  it('should throw a TimeoutError from the loop when its deadline passes', async () => {
    const { client, settle } = virtualSetup()
    const job = await client.jobs.create(jobParams(60_000))
    const loop = (async () => {
      for await (const _ of client.jobs.watch(job.id, { timeoutMs: 5_000 })) {
        // keep watching
      }
    })()
    await expect(settle(loop)).rejects.toSatisfy(isTimeoutError)
  })

  it('should estimate progress between checks from the last answer', async () => {
    const { client, manual, settle } = virtualSetup()
    const job = await client.jobs.create(jobParams(200_000))
    const watch = client.jobs.watch(job.id, { polling: fixedInterval(30_000) })
    await settle(watch.next())
    const { value: seen } = await settle(watch.next())
    const first = watch.estimate()
    expect(first.job).toEqual(seen)
    await manual.tickAsync(10_000)
    const later = watch.estimate()
    expect(later.progress).toBeGreaterThan(first.progress)
    expect(later.progress).toBeLessThan(1)
    expect(later.etaMs).toBeCloseTo((first.etaMs as number) - 10_000, -2)
    await watch.return()
  })

  it('should never move the estimate back while the job runs, when a fresh ETA is longer', async () => {
    const { manual, clock } = virtualClock()
    let answers = 0
    // The server's ETA grows at each answer (it underestimated), its progress stays put.
    const fetch = fakeFetch(() => json(jobBody({ progress: 0.2, eta_ms: 2_000 * ++answers })))
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock, transport: 'poll' })
    const watch = client.jobs.watch('job_1', { polling: fixedInterval(1_500) })
    const first = watch.next()
    await drive(manual, first, 100, 10)
    const shown: number[] = []
    for (let i = 0; i < 60; i++) {
      await manual.tickAsync(100)
      shown.push(watch.estimate().progress)
    }
    expect(answers).toBeGreaterThanOrEqual(4)
    expect(shown).toEqual([...shown].sort((a, b) => a - b))
    expect(shown.at(-1)).toBeLessThan(1)
    await watch.return()
  })
})

describe('the estimate when the job fails', () => {
  it('should hold the bar where it was shown, not drop it to the server’s last progress', async () => {
    const { manual, clock } = virtualClock()
    let answers = 0
    // Half done with 10 s to go at each answer; the third says it failed, still half done.
    const fetch = fakeFetch(() =>
      json(
        ++answers < 3
          ? jobBody({ progress: 0.5, eta_ms: 10_000 })
          : jobBody({ status: 'error', progress: 0.5, error: { code: 'x', message: 'failed' } }),
      ),
    )
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock, transport: 'poll' })
    const watch = client.jobs.watch('job_1', { polling: fixedInterval(1_500) })
    const shown: number[] = []
    const seen: string[] = []
    const reading = (async () => {
      for await (const job of watch) seen.push(job.status)
    })().catch(() => {})
    for (let i = 0; i < 50; i++) {
      await manual.tickAsync(100)
      shown.push(watch.estimate().progress)
    }
    await reading
    expect(seen.at(-1) ?? 'error').toBe('error')
    expect(answers).toBe(3)
    expect(Math.max(...shown)).toBeGreaterThan(0.5)
    expect(shown).toEqual([...shown].sort((a, b) => a - b))
  })
})

describe('answers out of order', () => {
  it('should take a job older than the one seen (a replica behind) as no news', async () => {
    const { manual, clock } = virtualClock()
    const at = (s: number) => `2026-01-01T00:00:${String(s).padStart(2, '0')}.000Z`
    // A replica behind the others answers the second check with the job as it was at 1 s, the
    // third as it was before it started (at the same time as the first: a job does not go back).
    const answers = [
      jobBody({ progress: 0.6, updated_at: at(6) }),
      jobBody({ status: 'pending', progress: 0, updated_at: at(1) }),
      jobBody({ status: 'pending', progress: 0, updated_at: at(6) }),
      jobBody({ progress: 0.8, updated_at: at(8) }),
      jobBody({ status: 'completed', progress: 1, updated_at: at(9) }),
    ]
    const fetch = fakeFetch(() => json(answers.shift() ?? {}))
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock, transport: 'poll' })
    const seen: Job[] = []
    const watching = (async () => {
      for await (const job of client.jobs.watch('job_1', { polling: fixedInterval(1_000) }))
        seen.push(job)
    })()
    await drive(manual, watching, 100, 200)
    expect(seen.map((j) => [j.status, j.progress])).toEqual([
      ['running', 0.6],
      ['running', 0.8],
      ['completed', 1],
    ])
  })

  it('should take an end, or a later stage, whatever its time (replicas’ clocks disagree)', async () => {
    const { manual, clock } = virtualClock()
    const at = (s: number) => `2026-01-01T00:00:${String(s).padStart(2, '0')}.000Z`
    for (const transport of ['poll', 'long-poll'] as const) {
      // Running stamped at 6 s by one replica, then completed stamped at 5 s by another.
      const answers = [
        jobBody({ status: 'pending', progress: 0, updated_at: at(7) }),
        jobBody({ progress: 0.5, updated_at: at(6) }),
        jobBody({ status: 'completed', progress: 1, updated_at: at(5) }),
      ]
      const fetch = fakeFetch(() => json(answers.length > 1 ? answers.shift() : answers[0]))
      const client = createClient({ baseUrl: 'http://api.test', fetch, clock, transport })
      const statuses: string[] = []
      const done = (async () => {
        for await (const job of client.jobs.watch('job_1', { polling: fixedInterval(1_000) }))
          statuses.push(job.status)
      })()
      await drive(manual, done, 100, 100)
      expect(statuses, transport).toEqual(['pending', 'running', 'completed'])
      expect(fetch.calls.length, transport).toBe(3)
    }
  })
})

describe('shared observation', () => {
  it('should serve 100 concurrent waits on one job with one request per tick', async () => {
    const { client, requests, polls, settle } = virtualSetup()
    const job = await client.jobs.create(jobParams(30_000))
    const waits = Array.from({ length: 100 }, () => client.jobs.wait(job.id))
    const done = await settle(Promise.all(waits))
    expect(done.every((j) => j.id === job.id && j.status === 'completed')).toBe(true)
    const byTime = statusRequestsByTime(requests)
    expect([...byTime.values()].every((paths) => paths.length === 1)).toBe(true)
    // As few as one wait alone would make.
    expect(polls(job.id).length).toBeLessThanOrEqual(8)
  })

  it('should keep each wait’s own deadline and signal, and stop when the last one leaves', async () => {
    const { client, manual, polls, settle } = virtualSetup()
    const job = await client.jobs.create(jobParams(60_000))
    const controller = new AbortController()
    const short = client.jobs.wait(job.id, { timeoutMs: 5_000 })
    const aborted = client.jobs.wait(job.id, { signal: controller.signal })
    const long = client.jobs.wait(job.id, { timeoutMs: 20_000 })
    await expect(settle(short)).rejects.toSatisfy(isTimeoutError)
    controller.abort('mine')
    await expect(aborted).rejects.toBe('mine')
    await expect(settle(long)).rejects.toSatisfy(isTimeoutError)
    expect(manual.now() - Date.parse(job.created_at)).toBeLessThan(22_000)
    const count = polls(job.id).length
    await manual.tickAsync(120_000)
    expect(polls(job.id)).toHaveLength(count)
  })

  it('should give a wait that joins late the job as last seen, and the same final job', async () => {
    const { client, manual, requests, settle } = virtualSetup()
    const job = await client.jobs.create(jobParams(30_000))
    const first = client.jobs.wait(job.id)
    await manual.tickAsync(10_000)
    const seen: Job[] = []
    const before = requests.length
    const second = client.jobs.wait(job.id, { onProgress: (j) => seen.push(j) })
    // Told at once (in a microtask, not inside the call), without a request of its own.
    expect(seen).toHaveLength(0)
    await Promise.resolve()
    expect(seen).toHaveLength(1)
    expect(requests).toHaveLength(before)
    const [a, b] = await settle(Promise.all([first, second]))
    expect(a).toEqual(b)
  })
})

describe('what the polling strategy is shown', () => {
  it('should show it every answer, the create’s included (its ETA is what a learner calibrates)', async () => {
    const { client, settle } = virtualSetup()
    const observed: string[] = []
    const polling = {
      nextDelay: () => 4_000,
      observe: (job: Job) => observed.push(job.status),
    }
    await settle(client.jobs.createAndWait(jobParams(10_000), { polling }))
    expect(observed[0]).toBe('pending')
    expect(observed.at(-1)).toBe('completed')
    expect(observed.length).toBeGreaterThanOrEqual(3)
  })
})

describe('checks placed again', () => {
  it('should check a job in flight sooner once the strategy says what it learned moved', async () => {
    const { client, manual, settle } = virtualSetup()
    const start = manual.now()
    const [a, b] = await settle(
      Promise.all([client.jobs.create(jobParams(5_000)), client.jobs.create(jobParams(10_000))]),
    )
    // Jobs like the second are placed a minute out, until the first's end says otherwise.
    let moved = false
    const polling = {
      nextDelay: ({ job }: PollContext) => (moved ? 1_000 : job?.id === a.id ? 5_000 : 60_000),
      observe: (job: Job) => {
        if (job.id !== a.id || job.status !== 'completed') return undefined
        moved = true
        return 'replan'
      },
    }
    const waits = Promise.all([a, b].map((job) => client.jobs.wait(job.id, { polling })))
    const seenAt: number[] = []
    for (const wait of [waits.then(([first]) => first), waits.then(([, second]) => second)]) {
      void wait.then(() => seenAt.push(manual.now() - start))
    }
    await settle(waits)
    // Its minute-long delay was asked again at the first's end: a check a second from then on.
    expect(seenAt[1]).toBeLessThanOrEqual(12_000)
    expect(seenAt[1]).toBeGreaterThanOrEqual(10_000)
  })

  it('should not check a job in flight later, nor again, for a strategy that says so needlessly', async () => {
    const { client, manual, requests, settle } = virtualSetup()
    const first = manual.now()
    const polling = { nextDelay: () => 4_000, observe: () => 'replan' }
    await settle(
      Promise.all([
        client.jobs.createAndWait(jobParams(10_000), { polling }),
        client.jobs.createAndWait(jobParams(10_000), { polling }),
      ]),
    )
    const checks = requests.filter((r) => r.method === 'GET').map((r) => r.at - first)
    // Both jobs checked together (one batch request) at 4, 8 and 12 s, as without it.
    expect(checks).toEqual([4_000, 8_000, 12_000])
  })
})

/** Job `id` as a server without hints answers it: running, or completed once `done`. */
function jobAt(id: string, done: boolean) {
  return jobBody({ id, status: done ? 'completed' : 'running', eta_ms: null })
}

describe('jobs.waitAll', () => {
  it('should settle every job in order, in batch requests of at most 100 ids per tick', async () => {
    const { client, requests, settle } = virtualSetup({
      simulation: { durations: { distribution: 'lognormal', median_ms: 30_000, sigma: 1 } },
    })
    const params = Array.from({ length: 250 }, (_, i) =>
      i % 10 === 3
        ? jobParams(20_000, 'error')
        : { video_url: 'https://example.com/a.mp4', target_language: 'es' },
    )
    const created = await client.jobs.createBatch(params)
    const ids = created.map((c) => (c.status === 'fulfilled' ? c.job.id : ''))
    const progress: number[] = []
    client.on('batch:progress', (p) => progress.push(p.settled))
    const since = requests.length
    const outcomes = await settle(client.jobs.waitAll(ids))
    expect(outcomes).toHaveLength(250)
    outcomes.forEach((outcome, i) => {
      if (i % 10 === 3) {
        expect(outcome.status).toBe('rejected')
        expect(outcome.status === 'rejected' && isJobFailedError(outcome.reason)).toBe(true)
      } else {
        expect(outcome).toMatchObject({ status: 'fulfilled', job: { id: ids[i] } })
      }
    })
    // Per tick, at most ceil(pending / 100) requests, each of at most 100 ids.
    const byTime = statusRequestsByTime(requests.slice(since))
    for (const paths of byTime.values()) {
      expect(paths.length).toBeLessThanOrEqual(3)
      for (const path of paths) {
        const ids = path.startsWith('/v1/jobs?ids=') ? path.split('=')[1]?.split(',') : [path]
        expect(ids?.length).toBeLessThanOrEqual(100)
      }
    }
    // Fewer requests than checks: jobs due together share one.
    const checks = ids.reduce((sum, id) => sum + client.jobs.history(id).length, 0)
    expect(requests.length - since).toBeLessThan(checks / 2)
    expect(progress.at(-1)).toBe(250)
  }, 60_000)

  it('should reject an id the batch lists as missing once the job’s own address says 404', async () => {
    const { client, requests, settle } = virtualSetup()
    const a = await client.jobs.create(jobParams(2_000))
    const b = await client.jobs.create(jobParams(2_000))
    const outcomes = await settle(client.jobs.waitAll([a.id, 'job_nowhere', b.id]))
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
    const reason = outcomes[1]?.status === 'rejected' ? outcomes[1].reason : undefined
    expect(isNotFoundError(reason)).toBe(true)
    expect(reason).toMatchObject({ request: { method: 'GET', path: '/v1/jobs/job_nowhere' } })
    // Listed as missing by a batch, then asked alone once.
    const paths = requests.map((r) => r.path)
    expect(paths.some((p) => p.startsWith('/v1/jobs?ids=') && p.includes('job_nowhere'))).toBe(true)
    expect(paths.filter((p) => p === '/v1/jobs/job_nowhere')).toHaveLength(1)
  })

  it('should find a job a lagging batch lists as missing, asked alone', async () => {
    const { manual, clock } = virtualClock()
    const start = manual.now()
    const fetch = fakeFetch((call) => {
      const job = (id: string) => jobAt(id, manual.now() - start >= 5_000)
      // The batch reads a replica that has not seen job_new yet.
      if (call.url.includes('?ids=')) return json({ jobs: [job('job_old')], missing: ['job_new'] })
      return json(job(call.url.split('/').pop() as string))
    })
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock, transport: 'poll' })
    const all = client.jobs.waitAll(['job_old', 'job_new'], { polling: fixedInterval(1_000) })
    const outcomes = await drive(manual, all, 1_000, 30)
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled'])
    // Batching goes on: the batch answered for every id asked.
    const batches = fetch.calls.filter((c) => c.url.includes('?ids='))
    expect(batches.length).toBeGreaterThan(3)
  })

  /**
   * A server that dates its answers and loses every job at `lostAt` (ms in): its batches list
   * them as missing; their own addresses say 404, or (`shardedBatch`) still answer.
   */
  function losingServer(jobs: number, lostAt: number, shardedBatch = false) {
    const { manual, clock } = virtualClock()
    const start = manual.now()
    const created_at = new Date(start).toISOString()
    const ids = Array.from({ length: jobs }, (_, i) => `job_${i}`)
    const job = (id: string) => jobBody({ id, eta_ms: null, created_at, updated_at: created_at })
    const fetch = fakeFetch((call) => {
      const date = new Date(manual.now()).toUTCString()
      const lost = manual.now() - start >= lostAt
      const url = new URL(call.url)
      const asked = url.searchParams.get('ids')?.split(',')
      if (asked) {
        const answer = lost ? { jobs: [], missing: asked } : { jobs: asked.map(job), missing: [] }
        return json(answer, 200, { date })
      }
      const id = url.pathname.split('/').at(-1) ?? ''
      if (lost && !shardedBatch) return problemResponse(404, 'Not Found')
      return json(job(id), 200, { date })
    })
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock, transport: 'poll' })
    const singles = () => fetch.calls.filter((c) => !c.url.includes('?ids='))
    return { client, manual, start, ids, fetch, singles }
  }

  it('should take many long-lost jobs as not found once a few of them are confirmed', async () => {
    const { client, manual, start, ids, fetch, singles } = losingServer(250, 60_000)
    const all = client.jobs.waitAll(ids, { polling: fixedInterval(5_000), timeoutMs: 600_000 })
    const outcomes = await drive(manual, all, 1_000, 120)
    expect(outcomes.every((o) => o.status === 'rejected' && isNotFoundError(o.reason))).toBe(true)
    expect(manual.now() - start).toBeLessThanOrEqual(66_000)
    // Three asked alone for each batch (of 100, 100 and 50) that listed them missing.
    const lostBatches = fetch.calls.filter((c) => c.url.includes('?ids=')).slice(-3)
    expect(lostBatches.map((c) => c.url.split('=')[1]?.split(',').length)).toEqual([100, 100, 50])
    expect(singles()).toHaveLength(9)
    const taken = outcomes[10]?.status === 'rejected' ? outcomes[10].reason : undefined
    expect(taken).toMatchObject({ status: 404, request: { path: '/v1/jobs?ids=job_10,…' } })
    expect((taken as Error).message).toContain('listed as missing, with 3 jobs')
    expect(client.jobs.history('job_10').at(-1)).toMatchObject({ httpStatus: 404 })
  })

  it('should ask each lost job alone when one of the few asked is still there', async () => {
    const { client, manual, ids, singles } = losingServer(20, 60_000, true)
    const all = client.jobs.waitAll(ids, { polling: fixedInterval(5_000), timeoutMs: 70_000 })
    const outcomes = await drive(manual, all, 1_000, 120)
    // Found alone, still running: each wait ends at its deadline, none taken as not found.
    expect(outcomes.every((o) => o.status === 'rejected' && isTimeoutError(o.reason))).toBe(true)
    // From the first batch that listed them missing on, every job is asked alone.
    expect(singles().length).toBeGreaterThanOrEqual(20)
  })

  it('should ask each job missing soon after its creation alone (a replica behind)', async () => {
    const { client, manual, ids, singles } = losingServer(20, 10_000)
    const all = client.jobs.waitAll(ids, { polling: fixedInterval(5_000), timeoutMs: 70_000 })
    const outcomes = await drive(manual, all, 1_000, 120)
    expect(outcomes.every((o) => o.status === 'rejected' && isNotFoundError(o.reason))).toBe(true)
    expect(singles()).toHaveLength(20)
    expect(outcomes[5]).toMatchObject({ reason: { request: { path: '/v1/jobs/job_5' } } })
  })

  it.each([
    ['forbidden (403)', 403, 1],
    ['refused as too long (413)', 413, 2],
    ['refused by the server’s own check (422)', 422, 2],
  ])('should ask one by one when the batch is %s, and stop batching', async (_, status, tries) => {
    const { manual, clock } = virtualClock()
    const start = manual.now()
    const fetch = fakeFetch((call) => {
      if (call.url.includes('?ids=')) return problemResponse(status, 'no batch for you')
      const id = call.url.split('/').pop() as string
      return json(jobAt(id, manual.now() - start >= 10_000))
    })
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock, transport: 'poll' })
    const ids = ['job_a', 'job_b', 'job_c']
    const all = client.jobs.waitAll(ids, { polling: fixedInterval(1_000) })
    const outcomes = await drive(manual, all, 1_000, 30)
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled'])
    expect(fetch.calls.filter((c) => c.url.includes('?ids='))).toHaveLength(tries)
  })

  it('should keep batching when a batch was refused for an id the server refuses alone too', async () => {
    const { client, manual, settle, requests } = virtualSetup()
    const made = await client.jobs.createBatch(Array.from({ length: 12 }, () => jobParams(5_000)))
    const ids = made.map((m) => (m.status === 'fulfilled' ? m.job.id : ''))
    await manual.tickAsync(6_000)
    const polling = fixedInterval(1_000)
    // Twice, a bad id (a space: the server refuses it, in a batch and alone) with good ones.
    for (const round of [0, 1]) {
      const pair = ids.slice(round * 2, round * 2 + 2)
      const outcomes = await settle(client.jobs.waitAll([...pair, 'bad id'], { polling }))
      expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'rejected'])
      expect(outcomes[2]).toMatchObject({ reason: { status: 400 } })
    }
    const before = requests.length
    const outcomes = await settle(client.jobs.waitAll(ids.slice(4), { polling }))
    expect(outcomes.every((o) => o.status === 'fulfilled')).toBe(true)
    // The bad id was why: batches go on (the two refusals once stopped them for 10 minutes).
    const later = requests.slice(before)
    expect(later.filter((r) => r.path.includes('?ids=')).length).toBeGreaterThan(0)
    expect(later.filter((r) => /^\/v1\/jobs\/job/.test(r.path))).toHaveLength(0)
  })

  it('should keep batching when two batches with a bad id each are refused before their jobs are asked alone', async () => {
    const { manual, clock } = virtualClock()
    const fetch = badIdServer(manual)
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock, transport: 'poll' })
    const a = client.jobs.waitAll(['job_a1', 'job_a2', 'bad_a'])
    await manual.tickAsync(300)
    // Refused too before the first's jobs were answered alone: once, batches stopped here.
    const b = client.jobs.waitAll(['job_b1', 'job_b2', 'bad_b'])
    await drive(manual, Promise.all([a, b]), 500, 20)
    const before = fetch.calls.length
    const c = await drive(manual, client.jobs.waitAll(['job_c1', 'job_c2']), 500, 20)
    expect(c.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled'])
    expect(fetch.calls.slice(before).map((call) => new URL(call.url).search)).toEqual([
      '?ids=job_c1,job_c2',
    ])
  })

  it('should stop batching for a refusing endpoint though some jobs end before being asked alone', async () => {
    const { manual, clock } = virtualClock()
    const fetch = fakeFetch(async (call) => {
      const url = new URL(call.url)
      if (url.searchParams.has('ids')) {
        await sleep(manual, 500)
        return problemResponse(414, 'URI Too Long')
      }
      return json(jobBody({ id: url.pathname.split('/').pop() as string, status: 'completed' }))
    })
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock, transport: 'poll' })
    const batches: number[] = []
    for (const round of [1, 2, 3, 4]) {
      const before = fetch.calls.filter((c) => c.url.includes('?ids=')).length
      // A wait that ends (aborted) while its batch is out: never asked alone.
      const controller = new AbortController()
      const ids = [`job_x${round}`, `job_y${round}`]
      const all = client.jobs.waitAll([...ids, `job_z${round}`], { signal: controller.signal })
      const settled = all.catch(() => undefined)
      const pair = client.jobs.waitAll(ids)
      await manual.tickAsync(100)
      controller.abort()
      await drive(manual, Promise.all([settled, pair]), 500, 20)
      batches.push(fetch.calls.filter((c) => c.url.includes('?ids=')).length - before)
    }
    // Refused as the batch's once its other jobs answered alone: stopped after the second.
    expect(batches).toEqual([1, 1, 0, 0])
  })

  it('should not read a refused batch as the batch’s fault when its jobs’ checks got no answer', async () => {
    const { manual, clock } = virtualClock()
    const fetch = badIdServer(manual)
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock, transport: 'poll' })
    // Left while its jobs are asked alone: no answer, nothing learned of the bad id.
    const controller = new AbortController()
    const a = client.jobs.waitAll(['job_a1', 'job_a2', 'bad_a'], { signal: controller.signal })
    const left = a.catch(() => undefined)
    await manual.tickAsync(300)
    controller.abort()
    await left
    await drive(manual, client.jobs.waitAll(['job_b1', 'job_b2', 'bad_b']), 500, 20)
    const before = fetch.calls.length
    await drive(manual, client.jobs.waitAll(['job_c1', 'job_c2']), 500, 20)
    expect(fetch.calls.slice(before).map((call) => new URL(call.url).search)).toEqual([
      '?ids=job_c1,job_c2',
    ])
  })

  it('should ask alone a job whose entry does not read, and stop batching for a page that leaves jobs out', async () => {
    const { manual, clock } = virtualClock()
    const start = manual.now()
    const fetch = fakeFetch((call) => {
      const job = (id: string) => jobAt(id, manual.now() - start >= 5_000)
      // A list that ignores `ids`: the first page, an odd entry, and not the third job.
      if (call.url.includes('?ids=')) {
        return json({ jobs: [job('job_a'), { id: 'job_b', status: '???' }], next: 'p2' })
      }
      return json(job(call.url.split('/').pop() as string))
    })
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock, transport: 'poll' })
    const all = client.jobs.waitAll(['job_a', 'job_b', 'job_c'], { polling: fixedInterval(1_000) })
    const outcomes = await drive(manual, all, 1_000, 30)
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled'])
    expect(fetch.calls.filter((c) => c.url.includes('?ids='))).toHaveLength(1)
    expect(fetch.calls.filter((c) => c.url.endsWith('/job_c')).length).toBeGreaterThan(1)
  })

  it('should reject the pending ones with a TimeoutError at the shared deadline', async () => {
    const { client, settle } = virtualSetup()
    const fast = await client.jobs.create(jobParams(2_000))
    const slow = await client.jobs.create(jobParams(600_000))
    const outcomes = await settle(client.jobs.waitAll([fast.id, slow.id], { timeoutMs: 30_000 }))
    expect(outcomes[0]).toMatchObject({ status: 'fulfilled', job: { id: fast.id } })
    expect(outcomes[1]?.status).toBe('rejected')
    expect(outcomes[1]?.status === 'rejected' && isTimeoutError(outcomes[1].reason)).toBe(true)
    expect(outcomes[1]?.job?.status).toMatch(/pending|running/)
  })

  it('should reject with the signal’s reason and send nothing more', async () => {
    const { client, manual, requests, settle } = virtualSetup()
    const jobs = await client.jobs.createBatch([jobParams(60_000), jobParams(60_000)])
    const ids = jobs.map((j) => (j.status === 'fulfilled' ? j.job.id : ''))
    const controller = new AbortController()
    const all = client.jobs.waitAll(ids, { signal: controller.signal })
    await manual.tickAsync(5_000)
    controller.abort('stop')
    await expect(settle(all)).rejects.toBe('stop')
    const count = requests.length
    await manual.tickAsync(120_000)
    expect(requests).toHaveLength(count)
  })

  it('should check one by one a server that has no batch endpoint', async () => {
    const { manual, clock } = virtualClock()
    const fetch = fakeFetch((call) => {
      if (call.url.includes('?ids=')) return problemResponse(404, 'no such route')
      const id = call.url.split('/').pop() as string
      const done = manual.now() >= 10_000 + start
      return json(jobBody({ id, status: done ? 'completed' : 'running', eta_ms: null }))
    })
    const start = manual.now()
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock, random: () => 0.5 })
    const all = client.jobs.waitAll(['job_a', 'job_b'], { polling: fixedInterval(1_000) })
    for (let i = 0; i < 30; i++) await manual.tickAsync(1_000)
    const outcomes = await all
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled'])
    const batches = fetch.calls.filter((c) => c.url.includes('?ids='))
    expect(batches).toHaveLength(1)
  })

  it('should check one by one while the batch answers do not read, and stop batching', async () => {
    const { manual, clock } = virtualClock()
    const start = manual.now()
    /** When each batch request went out, from the start. */
    const batchesAt: number[] = []
    // A 200 cut short at every batch (a broken proxy, a buggy endpoint); each job's own address
    // answers well.
    const fetch = fakeFetch((call) => {
      if (call.url.includes('?ids=')) {
        batchesAt.push(manual.now() - start)
        return new Response('{"jobs":[{"id":"job_a",', {
          headers: { 'content-type': 'application/json' },
        })
      }
      const id = call.url.split('/').pop() as string
      const done = manual.now() >= 20_000 + start
      return json(jobBody({ id, status: done ? 'completed' : 'running', eta_ms: null }))
    })
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock, transport: 'poll' })
    const ids = ['job_a', 'job_b', 'job_c']
    const all = client.jobs.waitAll(ids, { polling: fixedInterval(1_000), timeoutMs: 60_000 })
    const outcomes = await drive(manual, all, 1_000, 60)
    expect(outcomes.map((o) => o.job?.status)).toEqual(['completed', 'completed', 'completed'])
    // Known within a check or two of the end, not at the deadline.
    expect(manual.now() - start).toBeLessThan(25_000)
    // Two unreadable batches (each retried in the request layer), then one by one: none in the
    // 15 s before the end.
    expect(batchesAt.length).toBeGreaterThanOrEqual(2)
    expect(Math.max(...batchesAt)).toBeLessThan(5_000)
  })
})

describe('batch answers sharing a slow link', () => {
  it('should keep a few batch requests out at once, each answered in time, every job known sooner', async () => {
    const { manual, clock } = virtualClock()
    const doneAt = manual.now() + 60_000
    // Each answer comes 3 s after those out before it (the link carries one at a time).
    let out = 0
    const batches = new Set<FetchCall>()
    let most = 0
    const fetch = fakeFetch(async (call) => {
      const url = new URL(call.url)
      const ids = url.searchParams.get('ids')?.split(',')
      out++
      if (ids) batches.add(call)
      const live = [...batches].filter((c) => !c.signal?.aborted)
      most = Math.max(most, live.length)
      try {
        await sleep(manual, 3_000 * out, call.signal)
      } finally {
        out--
        batches.delete(call)
      }
      const done = manual.now() >= doneAt
      if (ids) return json({ jobs: ids.map((id) => jobAt(id, done)), missing: [] })
      return json(jobAt(url.pathname.split('/').pop() as string, done))
    })
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock, transport: 'poll' })
    const ids = Array.from({ length: 2_000 }, (_, i) => `job_${i}`)
    const all = client.jobs.waitAll(ids, { polling: fixedInterval(20_000) })
    const outcomes = await drive(manual, all, 1_000, 600)
    expect(outcomes.filter((o) => o.status === 'rejected')).toEqual([])
    // Known about a minute after the end (they took 2.5 minutes, in 115 requests).
    expect(manual.now() - doneAt).toBeLessThan(90_000)
    expect(fetch.calls.length).toBeLessThan(70)
    // Six batches at first, seven once the first came back in time (20 went at once: 17 were
    // cut at the 10 s limit, asked again, and again, until the retries were spent).
    expect(most).toBeLessThanOrEqual(7)
  })
})

describe('checks near a wait’s deadline beside others', () => {
  it('should not give other jobs’ checks the last look’s one-second limit (a batch of their own)', async () => {
    const { manual, clock } = virtualClock()
    const doneAt = manual.now() + 60_000
    // Every batch answered in 3 s: past a last look's second, well within a check's 10 s.
    const fetch = fakeFetch(async (call) => {
      const url = new URL(call.url)
      await sleep(manual, 3_000, call.signal)
      const done = manual.now() >= doneAt
      const ids = url.searchParams.get('ids')?.split(',')
      if (ids) return json({ jobs: ids.map((id) => jobAt(id, done)), missing: [] })
      return json(jobAt(url.pathname.split('/').pop() as string, done))
    })
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock, transport: 'poll' })
    let openings = 0
    client.on('circuit:open', () => openings++)
    // 300 waits checked every 10 s, their deadlines 397 ms apart from 20 s on: at each tick a
    // few are near theirs.
    const waits = Array.from({ length: 300 }, (_, i) =>
      client.jobs
        .wait(`job_${i}`, { polling: fixedInterval(10_000), timeoutMs: 20_000 + i * 397 })
        .then(
          () => 'completed',
          (error: Error) => error.name,
        ),
    )
    const names = await drive(manual, Promise.all(waits), 1_000, 300)
    expect(openings).toBe(0)
    // Those whose deadline came before the end time out; every other completes.
    const late = names.filter((name, i) => 20_000 + i * 397 > 75_000 && name !== 'completed')
    expect(late).toEqual([])
  })
})

describe('a batch endpoint a gateway answers for', () => {
  it('should not take its bare 404 for a server without a rate limit (a new client)', async () => {
    // The mock server behind a gateway without the batch route, whose 404 states no limit.
    const noBatch = (url: URL) =>
      url.searchParams.has('ids') ? new Response('no route', { status: 404 }) : undefined
    const { client, settle, refused, made } = limitedSetup({}, noBatch)
    const outcomes = await settle(client.jobs.waitAll(made(300, 20_000), { timeoutMs: 600_000 }))
    expect(outcomes.every((o) => o.status === 'fulfilled')).toBe(true)
    expect(refused()).toBe(0)
  }, 20_000)
})

describe('a batch endpoint failing alone', () => {
  it('should ask its jobs alone, not open the circuit for every call', async () => {
    const { manual, clock } = virtualClock()
    const start = manual.now()
    // A gateway fails the batch route (500); the jobs' own addresses answer, each done at 20 s.
    const fetch = fakeFetch((call) => {
      if (call.url.includes('?ids=')) return problemResponse(500, 'Internal Server Error')
      const id = call.url.split('/').pop() as string
      const done = manual.now() - start >= 20_000
      return json(jobBody({ id, status: done ? 'completed' : 'running', eta_ms: null }))
    })
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock, transport: 'poll' })
    const ids = Array.from({ length: 20 }, (_, i) => `job_${i}`)
    const all = client.jobs.waitAll(ids, { timeoutMs: 600_000 })
    const outcomes = await drive(manual, all, 1_000, 120)
    expect(outcomes.every((o) => o.status === 'fulfilled')).toBe(true)
    expect(manual.now() - start).toBeLessThan(60_000)
    // Another call meanwhile goes through: the circuit stayed closed.
    await expect(client.jobs.get('job_x')).resolves.toMatchObject({ id: 'job_x' })
  })
})

describe('a batch answer listing a job twice', () => {
  it('should take the newer copy, and a job’s end over any other', async () => {
    const { manual, clock } = virtualClock()
    const start = manual.now()
    // A gateway lists each job twice: as it is, and a lagging copy (running, an older time),
    // after it for some jobs, before it for others.
    const fetch = fakeFetch((call) => {
      const ids = (call.url.split('ids=')[1] ?? '').split(',')
      const done = manual.now() - start >= 20_000
      const jobs = ids.flatMap((id, i) => {
        const now = jobBody({ id, status: done ? 'completed' : 'running', updated_at: at(9) })
        const lagging = jobBody({ id, status: 'running', updated_at: at(1) })
        return i % 2 === 0 ? [now, lagging] : [lagging, now]
      })
      return json({ jobs, missing: [] })
    })
    const at = (s: number) => new Date(start + s * 1_000).toISOString()
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock, transport: 'poll' })
    const ids = ['job_a', 'job_b', 'job_c', 'job_d']
    const all = client.jobs.waitAll(ids, { polling: fixedInterval(2_000), timeoutMs: 60_000 })
    const outcomes = await drive(manual, all, 1_000, 70)
    expect(outcomes.map((o) => o.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'fulfilled',
      'fulfilled',
    ])
    expect(manual.now() - start).toBeLessThanOrEqual(23_000)
  })
})

describe('a batch endpoint missing for a while', () => {
  it('should be tried again ten minutes after it failed, not given up for the client’s life', async () => {
    const { manual, clock } = virtualClock()
    const start = manual.now()
    // Missing during the first minute (a deployment, a proxy's rule), then back.
    const fetch = fakeFetch((call) => {
      if (call.url.includes('?ids=')) {
        if (manual.now() - start < 60_000) return problemResponse(404, 'no such route')
        const ids = (call.url.split('ids=')[1] ?? '').split(',')
        return json({ jobs: ids.map((id) => jobBody({ id, status: 'completed' })), missing: [] })
      }
      const id = call.url.split('/').pop() as string
      return json(jobBody({ id, status: 'running', eta_ms: null }))
    })
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock, transport: 'poll' })
    const waitAll = (ids: string[]) => {
      const all = client.jobs.waitAll(ids, { polling: fixedInterval(1_000), timeoutMs: 20_000 })
      return drive(manual, all, 1_000, 30)
    }
    // Asked alone while it is missing (the singles say running: the wait ends at its deadline).
    const first = await waitAll(['job_a', 'job_b'])
    expect(first.map((o) => o.status)).toEqual(['rejected', 'rejected'])
    const batches = () => fetch.calls.filter((c) => c.url.includes('?ids=')).length
    expect(batches()).toBe(1)
    expect(fetch.calls.filter((c) => c.url.endsWith('/job_a')).length).toBeGreaterThan(10)
    await manual.tickAsync(600_000)
    const outcomes = await waitAll(['job_c', 'job_d'])
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled'])
    expect(batches()).toBe(2)
  })
})

describe('a batch endpoint with a quota of its own', () => {
  it('should ask the jobs alone once a batch sent after the last 429’s Retry-After is refused again', async () => {
    const { manual, clock } = virtualClock()
    const start = manual.now()
    // Every batch refused (429, come back in 60 s); each job's own address answers: done at 100 s.
    const fetch = fakeFetch((call) => {
      if (call.url.includes('?ids=')) {
        const response = problemResponse(429, 'batch quota')
        response.headers.set('retry-after', '60')
        return response
      }
      const id = call.url.split('/').pop() as string
      const done = manual.now() - start >= 100_000
      return json(jobBody({ id, status: done ? 'completed' : 'running', eta_ms: null }))
    })
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock, transport: 'poll' })
    const ids = Array.from({ length: 20 }, (_, i) => `job_${i}`)
    const all = client.jobs.waitAll(ids, { timeoutMs: 4 * 3_600_000 })
    const outcomes = await drive(manual, all, 1_000, 1_000)
    expect(outcomes.every((o) => o.status === 'fulfilled')).toBe(true)
    // Two batches refused, a minute apart; then the jobs alone, known within minutes of the end.
    expect(fetch.calls.filter((c) => c.url.includes('?ids='))).toHaveLength(2)
    expect(manual.now() - start).toBeLessThan(300_000)
  })

  it('should keep batching when the refusals say the key’s limit is used up (others on it)', async () => {
    const { manual, clock } = virtualClock()
    const start = manual.now()
    // Two batches refused for a limit stated used up (another worker on the key took the
    // tokens), the second after the first's Retry-After; every other request answered.
    let batches = 0
    const limit = { 'ratelimit-policy': '"default";q=10;w=5', ratelimit: '"default";r=5;t=5' }
    const fetch = fakeFetch((call) => {
      const done = manual.now() - start >= 60_000
      if (!call.url.includes('?ids=')) {
        const id = call.url.split('/').pop() as string
        return json(
          jobBody({ id, status: done ? 'completed' : 'running', eta_ms: null }),
          200,
          limit,
        )
      }
      batches++
      if (batches === 2 || batches === 3) {
        const response = problemResponse(429, 'Too Many Requests')
        response.headers.set('retry-after', '5')
        response.headers.set('ratelimit-policy', '"default";q=10;w=5')
        response.headers.set('ratelimit', '"default";r=0;t=5')
        return response
      }
      const ids = (call.url.split('ids=')[1] ?? '').split(',')
      const jobs = ids.map((id) => jobBody({ id, status: done ? 'completed' : 'running' }))
      return json({ jobs, missing: [] }, 200, limit)
    })
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock, transport: 'poll' })
    const ids = Array.from({ length: 30 }, (_, i) => `job_${i}`)
    const all = client.jobs.waitAll(ids, { polling: fixedInterval(5_000), timeoutMs: 600_000 })
    const outcomes = await drive(manual, all, 1_000, 600)
    expect(outcomes.every((o) => o.status === 'fulfilled')).toBe(true)
    // Batches on after the refusals, not thirty jobs one by one.
    expect(fetch.calls.filter((c) => !c.url.includes('?ids=')).length).toBeLessThanOrEqual(1)
    expect(batches).toBeGreaterThan(5)
  })

  /**
   * A server whose batch route refuses for its own quota (10 a minute, used up), and whose jobs'
   * own address states the key's limit (`keyLimit`: its policy and what is left). Jobs done at
   * 100 s.
   */
  function batchQuotaServer(manual: ManualClock, keyLimit: Record<string, string>) {
    const start = manual.now()
    return fakeFetch((call) => {
      if (call.url.includes('?ids=')) {
        const response = problemResponse(429, 'batch quota')
        response.headers.set('retry-after', '30')
        response.headers.set('ratelimit-policy', '"batch";q=10;w=60')
        response.headers.set('ratelimit', '"batch";r=0;t=30')
        return response
      }
      const id = call.url.split('/').pop() as string
      const done = manual.now() - start >= 100_000
      const job = jobBody({ id, status: done ? 'completed' : 'running', eta_ms: null })
      return json(job, 200, keyLimit)
    })
  }

  it('should ask the jobs alone when the batch route states a quota of its own used up', async () => {
    const { manual, clock } = virtualClock()
    const start = manual.now()
    // The key's limit: 1,000 a minute, nearly all left.
    const fetch = batchQuotaServer(manual, {
      'ratelimit-policy': '"default";q=1000;w=60',
      ratelimit: '"default";r=990;t=60',
    })
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock, transport: 'poll' })
    const ids = Array.from({ length: 20 }, (_, i) => `job_${i}`)
    const outcomes = await drive(
      manual,
      client.jobs.waitAll(ids, { timeoutMs: 1_800_000 }),
      10_000,
      200,
    )
    expect(outcomes.every((o) => o.status === 'fulfilled')).toBe(true)
    expect(fetch.calls.filter((c) => c.url.includes('?ids=')).length).toBeLessThanOrEqual(3)
    expect(manual.now() - start).toBeLessThan(300_000)
  })

  it('should give back the turn of a batch not sent as the batch route has a quota of its own', async () => {
    const { manual, clock } = virtualClock()
    // The key's own limit nearly used up too: checks wait for turns, then go together.
    const fetch = batchQuotaServer(manual, {
      'ratelimit-policy': '"default";q=20;w=10',
      ratelimit: '"default";r=0;t=1',
    })
    const core = createCore(resolveOptions({ baseUrl: 'http://api.test', fetch, clock }))
    const monitor = new Monitor(core, { poll: batchSource(core) }, { transport: 'poll' })
    const jobs = new Jobs(() => ({ core, monitor }))
    const ids = Array.from({ length: 20 }, (_, i) => `job_${i}`)
    const outcomes = await drive(manual, jobs.waitAll(ids, { timeoutMs: 1_800_000 }), 1_000, 600)
    expect(outcomes.every((o) => o.status === 'fulfilled')).toBe(true)
    // Every turn given went back: none counted out for ever against the server's tokens.
    expect(core.pacer?.out).toBe(0)
  })

  it('should keep batching when a job asked alone is refused too (every request limited)', async () => {
    const { manual, clock } = virtualClock()
    const start = manual.now()
    // Every request refused from 5 s to 35 s, each asked to come back in 10 s; jobs done at 60 s.
    const fetch = fakeFetch((call) => {
      const now = manual.now() - start
      if (now >= 5_000 && now < 35_000) {
        const response = problemResponse(429, 'slow down')
        response.headers.set('retry-after', '10')
        return response
      }
      const done = now >= 60_000
      if (!call.url.includes('?ids=')) {
        const id = call.url.split('/').pop() as string
        return json(jobBody({ id, status: done ? 'completed' : 'running' }))
      }
      const ids = (call.url.split('ids=')[1] ?? '').split(',')
      const jobs = ids.map((id) => jobBody({ id, status: done ? 'completed' : 'running' }))
      return json({ jobs, missing: [] })
    })
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock, transport: 'poll' })
    const ids = Array.from({ length: 50 }, (_, i) => `job_${i}`)
    const all = client.jobs.waitAll(ids, { polling: fixedInterval(2_000), timeoutMs: 600_000 })
    const outcomes = await drive(manual, all, 1_000, 600)
    expect(outcomes.every((o) => o.status === 'fulfilled')).toBe(true)
    // A job or two asked alone (refused), not fifty jobs one by one.
    expect(fetch.calls.filter((c) => !c.url.includes('?ids=')).length).toBeLessThanOrEqual(3)
    expect(manual.now() - start).toBeLessThan(75_000)
  })

  it('should keep batching under a limit of every request, its Retry-After kept', async () => {
    const { manual, clock } = virtualClock()
    const start = manual.now()
    let refusedUntil = 0
    // A limit of the client's whole rate: refused once, for 30 s, then answered.
    const fetch = fakeFetch((call) => {
      const now = manual.now() - start
      if (now >= 5_000 && refusedUntil === 0) refusedUntil = now + 30_000
      if (now >= 5_000 && now < refusedUntil) {
        const response = problemResponse(429, 'slow down')
        response.headers.set('retry-after', String(Math.ceil((refusedUntil - now) / 1000)))
        return response
      }
      const ids = (call.url.split('ids=')[1] ?? '').split(',')
      const done = now >= 60_000
      const jobs = ids.map((id) => jobBody({ id, status: done ? 'completed' : 'running' }))
      return json({ jobs, missing: [] })
    })
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock, transport: 'poll' })
    const ids = Array.from({ length: 20 }, (_, i) => `job_${i}`)
    const all = client.jobs.waitAll(ids, { polling: fixedInterval(2_000), timeoutMs: 600_000 })
    const outcomes = await drive(manual, all, 1_000, 600)
    expect(outcomes.every((o) => o.status === 'fulfilled')).toBe(true)
    expect(fetch.calls.some((c) => !c.url.includes('?ids='))).toBe(false)
  })
})

describe('a fixed window of an hour', () => {
  it('should wait out each refusal’s Retry-After and come back at the reset, its rate whole', async () => {
    const { manual, clock } = virtualClock()
    const start = manual.now()
    const quota = 8
    const windowS = 3_600
    const used = new Map<number, number>()
    const sentAt: number[] = []
    // 8 requests an hour, the window whole again at each reset; jobs done at 300 s.
    const fetch = fakeFetch((call) => {
      const t = manual.now() - start
      sentAt.push(t)
      const window = Math.floor(t / (windowS * 1_000))
      const resetS = Math.ceil(((window + 1) * windowS * 1_000 - t) / 1_000)
      const n = used.get(window) ?? 0
      const limit = (left: number) => ({
        'ratelimit-policy': `"hour";q=${quota};w=${windowS}`,
        ratelimit: `"hour";r=${left};t=${resetS}`,
      })
      if (n >= quota) {
        const response = problemResponse(429, 'hourly quota')
        for (const [name, value] of Object.entries(limit(0))) response.headers.set(name, value)
        response.headers.set('retry-after', String(resetS))
        return response
      }
      used.set(window, n + 1)
      const id = call.url.split('/').pop() as string
      const status = t >= 300_000 ? 'completed' : 'running'
      return json(jobBody({ id, status, eta_ms: null }), 200, limit(quota - n - 1))
    })
    const client = createClient({
      baseUrl: 'http://api.test',
      fetch,
      clock,
      transport: 'poll',
      random: () => 0.5,
    })
    const waits = ['job_a', 'job_b', 'job_c'].map((id) =>
      client.jobs.wait(id, { timeoutMs: 4 * 3_600_000 }),
    )
    const outcomes = await drive(manual, Promise.all(waits), 10_000, 2_000)
    expect(outcomes.every((job) => job.status === 'completed')).toBe(true)
    // Known soon after the window came back: within one of the quota's intervals (450 s: the
    // spread of clients refused together), not at a rate halved at each refusal.
    expect(manual.now() - start).toBeLessThan((windowS + windowS / quota + 30) * 1_000)
    // A refused check or two, not one every few minutes until the reset.
    const refused = sentAt.filter((t) => t < windowS * 1_000).length - quota
    expect(refused).toBeLessThanOrEqual(3)
  })
})

describe('jobs.waitAll and the server’s Retry-After', () => {
  it('should move checks to share a tick no sooner than the server asks', async () => {
    const { manual, clock } = virtualClock()
    const start = manual.now()
    const sent: number[] = []
    // No batch endpoint: each job is asked alone, and each answer says when to ask again.
    const fetch = fakeFetch((call) => {
      if (call.url.includes('?ids=')) return problemResponse(404, 'no such route')
      if (call.url.endsWith('/job_a')) sent.push(manual.now() - start)
      const id = call.url.split('/').pop() as string
      const status = sent.length >= 5 ? 'completed' : 'running'
      return json(jobBody({ id, status, eta_ms: null }), 200, { 'retry-after': '3' })
    })
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock, transport: 'poll' })
    const all = client.jobs.waitAll(['job_a', 'job_b'], { polling: fixedInterval(3_000) })
    for (let i = 0; i < 200 && sent.length < 5; i++) await manual.tickAsync(100)
    await all
    // On a grid shared by both jobs, but never before the 3 s the server asked for.
    const gaps = sent.slice(1).map((at, i) => at - (sent[i] as number))
    expect(gaps).toHaveLength(4)
    expect(gaps.every((gap) => gap >= 3_000)).toBe(true)
  })
})

describe('jobs.waitAll through a maintenance longer than its deadline', () => {
  it('should fail each job quoting the request the server refused, and what it said', async () => {
    const { manual, clock } = virtualClock()
    // Every request answered 503 for 5 minutes, saying why; the wait has one.
    const fetch = fakeFetch(() => {
      const refused = json(
        { title: 'Service Unavailable', status: 503, detail: 'Database migration in progress' },
        503,
        { 'retry-after': '300', 'content-type': 'application/problem+json' },
      )
      return refused
    })
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock, transport: 'poll' })
    const ids = ['job_1', 'job_2', 'job_3']
    const outcomes = await drive(
      manual,
      client.jobs.waitAll(ids, { timeoutMs: 60_000 }),
      1_000,
      120,
    )
    for (const outcome of outcomes) {
      expect(outcome.status).toBe('rejected')
      const said = String((outcome as { reason: Error }).reason)
      const cause = String((outcome as { reason: Error }).reason.cause)
      expect(`${said} ${cause}`).toMatch(/Database migration in progress/)
      // No message names a request that was never sent as the one refused.
      expect(cause).not.toMatch(
        /GET \/v1\/jobs\/job_\d failed with HTTP 503: not sent: the server answered an earlier request/,
      )
    }
  })
})

describe('a server without a batch endpoint', () => {
  it('should be asked one job at a time when ?ids= answers something else with a 200', async () => {
    const { manual, clock } = virtualClock()
    const fetch = fakeFetch((call) => {
      const id = new URL(call.url).pathname.split('/')[3] ?? 'job_list'
      return json(jobBody({ id, status: 'completed', progress: 1 }))
    })
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock, transport: 'poll' })
    const all = client.jobs.waitAll(['job_a', 'job_b'])
    for (let i = 0; i < 5; i++) await manual.tickAsync(10)
    const outcomes = await all
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled'])
    expect(fetch.calls.filter((c) => c.url.includes('?ids='))).toHaveLength(1)
  })
})

describe('a wait behind a backlog under the rate limit', () => {
  it.each(['poll', 'auto'] as const)(
    'should give a wait’s last look its turn before creates with time to spare (%s)',
    async (transport) => {
      const { client, manual, settle } = virtualSetup({
        simulation: { rate_limit: { capacity: 20, refill_per_s: 3 } },
        client: { transport },
      })
      // A backlog of 450 creates (150 s at 3 a second), each with an hour to spare; over a
      // minute into it, a job is made and waited for with 30 s to spare.
      const backlog = Promise.allSettled(
        Array.from({ length: 450 }, () => client.jobs.createAndWait(jobParams(1_000), LONG_WAIT)),
      )
      await manual.tickAsync(70_000)
      const quick = await settle(client.jobs.create(jobParams(3_000)))
      const start = manual.now()
      const job = await settle(client.jobs.wait(quick.id, { timeoutMs: 30_000 }))
      expect(job.status).toBe('completed')
      // Known by its last look at the latest, which goes before the backlog: not timed out.
      expect(manual.now() - start).toBeLessThan(31_000)
      const created = await settle(backlog)
      expect(created.every((c) => c.status === 'fulfilled')).toBe(true)
    },
    30_000,
  )

  it.each(['none', 'eta'] as const)(
    'should check jobs already made before the creates waiting behind them, in batches (hints: %s)',
    async (mode) => {
      const { client, manual, settle, requests } = virtualSetup({
        simulation: {
          rate_limit: { capacity: 20, refill_per_s: 10 },
          hints: { mode, eta_noise: 0 },
          durations: { distribution: 'fixed', ms: 8_000 },
        },
      })
      // 300 creates at 10 a second: a 28 s backlog, while the first jobs end 8 s after theirs.
      const late: number[] = []
      const waits = Array.from({ length: 300 }, async (_, i) => {
        const job = await client.jobs.createAndWait(jobParams(), { timeoutMs: 3_600_000 })
        late.push(manual.now() - Date.parse(job.updated_at))
        return i
      })
      const outcomes = await settle(Promise.allSettled(waits))
      expect(outcomes.every((o) => o.status === 'fulfilled')).toBe(true)
      const mean = late.reduce((a, b) => a + b, 0) / late.length
      // Behind every create, each job was known 22 s after its end, one request a check; with
      // ETAs, checked at each job's own ETA, 1.1 s (each check a turn of its own). Each check
      // formed its request when due, and waited for a turn with the few due with it: 326
      // requests. Now the checks due wait for one turn together, with the others planned.
      expect(mean).toBeLessThan(1_000)
      const checks = requests.filter((r) => r.method === 'GET').length
      expect(checks).toBeLessThan(150)
    },
    30_000,
  )
})

describe('a backlog of creates older than a minute under the rate limit', () => {
  it.each(['poll', 'auto'] as const)(
    'should still check the jobs made behind it, all of them in few requests (%s)',
    async (transport) => {
      const { client, manual, settle, requests } = virtualSetup({
        simulation: {
          rate_limit: { capacity: 20, refill_per_s: 2 },
          hints: { mode: 'none' },
          durations: { distribution: 'fixed', ms: 8_000 },
        },
        client: { transport },
      })
      // 300 creates at 2 a second: a backlog of 140 s, while the first jobs end 8 s after theirs.
      const start = manual.now()
      const late: number[] = []
      const done: number[] = []
      const waits = Array.from({ length: 300 }, async () => {
        const job = await client.jobs.createAndWait(jobParams(), { timeoutMs: 3_600_000 })
        late.push(manual.now() - Date.parse(job.updated_at))
        done.push(manual.now() - start)
      })
      const outcomes = await settle(Promise.allSettled(waits))
      expect(outcomes.every((o) => o.status === 'fulfilled')).toBe(true)
      const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length
      // Checks behind every create older than theirs: each job known 80 s after its end, 175 s
      // after its call on average, a request a check of 1 or 2 jobs (with 'auto', a stream
      // each: 90 s and 190 s). Now a check in eight turns, of every job made, as a loop
      // checking them all every 4 s between creates: 2 s and 85 s.
      expect(mean(late)).toBeLessThan(3_000)
      expect(mean(done)).toBeLessThan(100_000)
      const checks = requests.filter((r) => r.method === 'GET')
      expect(checks.length).toBeLessThan(80)
      // The streams put off while creates waited open once none does: for the jobs still running.
      const streams = requests.filter((r) => r.path.includes('/events')).length
      expect(streams).toBeLessThanOrEqual(transport === 'auto' ? 20 : 0)
    },
    90_000,
  )

  it('should make a create whose wait has a short deadline before creates with an hour each', async () => {
    const { client, manual, settle } = virtualSetup({
      simulation: { rate_limit: { capacity: 20, refill_per_s: 2 }, hints: { mode: 'none' } },
    })
    const backlog = Array.from({ length: 400 }, () =>
      client.jobs.createAndWait(jobParams(), LONG_WAIT),
    )
    await manual.tickAsync(40_000)
    // 40 s into a backlog of 200 s: its create goes before those with an hour to spare (it
    // timed out unsent, queued a minute on behind every one of them).
    const quick = await settle(client.jobs.createAndWait(jobParams(5_000), { timeoutMs: 30_000 }))
    expect(quick.status).toBe('completed')
    const outcomes = await settle(Promise.allSettled(backlog))
    expect(outcomes.every((o) => o.status === 'fulfilled')).toBe(true)
  }, 90_000)

  it('should not put a create whose wait has 10 min behind every create of a later batch', async () => {
    const { client, manual, settle } = virtualSetup({
      simulation: { rate_limit: { capacity: 2, refill_per_s: 1 }, hints: { mode: 'none' } },
    })
    const batch = client.jobs.createBatch(Array.from({ length: 700 }, () => jobParams(1_000)))
    await manual.tickAsync(0)
    // Placed by its whole deadline, it went out just before it (700 s of creates ahead).
    const job = await settle(client.jobs.createAndWait(jobParams(120_000), { timeoutMs: 600_000 }))
    expect(job.status).toBe('completed')
    await settle(batch)
  }, 60_000)

  it('should not bring a check earlier by more than an eighth of its strategy’s delay', async () => {
    const { client, manual, settle, requests } = virtualSetup({
      simulation: {
        rate_limit: { capacity: 20, refill_per_s: 2 },
        hints: { mode: 'none' },
        durations: { distribution: 'fixed', ms: 5_000 },
      },
    })
    const job = await settle(client.jobs.create(jobParams(600_000)))
    const start = manual.now()
    const leave = new AbortController()
    const waited = client.jobs.wait(job.id, {
      polling: fixedInterval(60_000),
      signal: leave.signal,
    })
    const backlog = Array.from({ length: 200 }, () =>
      client.jobs.createAndWait(jobParams(), { timeoutMs: 3_600_000 }),
    )
    await settle(Promise.allSettled(backlog))
    leave.abort()
    await settle(waited.catch(() => {}))
    // Checked at once, then about every minute (at most 7.5 s early) while the backlog's jobs
    // were checked in batches: not in every batch that went meanwhile (19 checks in 67 s).
    const asked = requests.filter((r) => r.method === 'GET' && r.path.includes(job.id))
    const elapsed = manual.now() - start
    expect(asked.length).toBeLessThanOrEqual(1 + Math.ceil(elapsed / 52_500))
    expect(asked[1] && asked[1].at - start).toBeGreaterThanOrEqual(52_500)
  }, 90_000)

  it('should not check early a job whose wait counts its checks (maxAttempts)', async () => {
    const { client, manual, settle, requests } = virtualSetup({
      simulation: {
        rate_limit: { capacity: 20, refill_per_s: 2 },
        hints: { mode: 'none' },
      },
    })
    const counted = await settle(client.jobs.create(jobParams(50_000)))
    const waited = client.jobs.wait(counted.id, {
      maxAttempts: 4,
      polling: fixedInterval(20_000),
      timeoutMs: 600_000,
    })
    // A backlog of creates whose jobs are checked in batches meanwhile.
    const backlog = Array.from({ length: 100 }, () =>
      client.jobs.createAndWait(jobParams(5_000), { timeoutMs: 3_600_000 }),
    )
    await settle(Promise.allSettled(backlog))
    const job = await settle(waited)
    expect(job.status).toBe('completed')
    // Its four checks at 0, 20, 40, 60 s, the job ending at 50 s: none taken early by the
    // batches going meanwhile.
    const asked = requests.filter((r) => r.method === 'GET' && r.path.includes(counted.id))
    expect(asked.length).toBe(4)
    await manual.tickAsync(0)
  }, 30_000)
  it('should not check early a job the server asked to come back later (Retry-After)', async () => {
    const { client, settle, requests } = virtualSetup({
      simulation: {
        rate_limit: { capacity: 20, refill_per_s: 2 },
        hints: { mode: 'eta', eta_noise: 0 },
        durations: { distribution: 'fixed', ms: 8_000 },
      },
    })
    const jobs = await settle(
      Promise.all(
        Array.from({ length: 100 }, () =>
          client.jobs.createAndWait(jobParams(), { timeoutMs: 3_600_000 }),
        ),
      ),
    )
    // Each create's answer says to come back at the job's end (8 s, a round trip early at most:
    // the strategy's own plan): no batch going earlier takes it.
    const createdAt = new Map(jobs.map((job) => [job.id, Date.parse(job.created_at)]))
    const early: string[] = []
    for (const r of requests) {
      if (r.method !== 'GET') continue
      const ids = new URL(r.path, 'http://x').searchParams.get('ids')?.split(',') ?? []
      for (const id of ids) if (r.at < (createdAt.get(id) ?? 0) + 7_000) early.push(id)
    }
    expect(early).toEqual([])
    expect(requests.filter((r) => r.method === 'GET').length).toBeLessThan(60)
  }, 30_000)
})

describe('waits for one job each, turns free', () => {
  /** Two waits checking every 10 s, the second started 1 s after the first; both jobs end at 55 s. */
  async function twoWaits(shareRequests?: boolean) {
    const { client, manual, settle, requests } = virtualSetup({
      simulation: { hints: { mode: 'none' } },
      client: shareRequests === undefined ? {} : { shareRequests },
    })
    const first = await settle(client.jobs.create(jobParams(55_000)))
    const waits = [client.jobs.wait(first.id, { polling: fixedInterval(10_000) })]
    await manual.tickAsync(1_000)
    const second = await settle(client.jobs.create(jobParams(54_000)))
    waits.push(client.jobs.wait(second.id, { polling: fixedInterval(10_000) }))
    const jobs = await settle(Promise.all(waits))
    const checks = requests.filter((r) => r.method === 'GET')
    return { jobs, checks, ids: [first.id, second.id] }
  }

  it('should share one batch request between checks due within an eighth of their delay', async () => {
    const { jobs, checks, ids } = await twoWaits()
    expect(jobs.map((job) => job.status)).toEqual(['completed', 'completed'])
    // Each job asked alone at once, then both in one request every 10 s (the second's checks a
    // second early), both ends known at 60 s: 8 requests where each alone took 14.
    const batches = checks.filter((r) => r.path.includes('ids='))
    expect(checks.length - batches.length).toBe(2)
    expect(batches.length).toBe(6)
    for (const batch of batches) for (const id of ids) expect(batch.path).toContain(id)
  })

  it('should not let a check near its deadline take others along (its time limit would be theirs)', async () => {
    // Every answer 3 s after its request.
    const { client, manual, settle, requests } = virtualSetup({
      simulation: { hints: { mode: 'none' }, latency_ms: { min: 3_000, max: 3_000 } },
    })
    const near = await settle(client.jobs.create(jobParams(60_000)))
    const other = await settle(client.jobs.create(jobParams(14_000)))
    const failures: unknown[] = []
    client.on('request:error', ({ error }) => failures.push(error))
    const start = manual.now()
    const [timedOut, job] = await settle(
      Promise.all([
        client.jobs
          .wait(near.id, { polling: fixedInterval(20_000), timeoutMs: 15_000 })
          .catch((e: unknown) => e),
        client.jobs.wait(other.id, { polling: fixedInterval(14_000) }),
      ]),
    )
    expect(timedOut).toSatisfy(isTimeoutError)
    // The first wait's last look (a request of 1 s at most, which times out) took none along:
    // the second job's check, due soon after it, went alone and answered (in the last look's
    // batch it timed out too, the job known 13.5 s later). Both jobs' first checks go together.
    expect(failures.map(String).filter((f) => f.includes(other.id))).toEqual([])
    const batches = requests.filter((r) => r.path.includes('ids='))
    expect(batches.map((r) => r.at - start)).toEqual([0])
    expect(job.status).toBe('completed')
    expect(manual.now() - start).toBeLessThan(30_000)
  })

  it('should check alone a job the server paces with Retry-After (a batch would not say it)', async () => {
    const { client, settle, requests } = virtualSetup({
      simulation: { hints: { mode: 'retry-after', eta_noise: 0, progress: false } },
    })
    const others = await settle(
      Promise.all([0, 1].map(() => client.jobs.create(jobParams(300_000)))),
    )
    // Checked in batches every 64 s meanwhile (answers without a job's Retry-After).
    const all = client.jobs.waitAll(
      others.map((job) => job.id),
      { polling: fixedInterval(64_000) },
    )
    const job = await settle(client.jobs.createAndWait(jobParams(100_000)))
    const checks = requests.filter((r) => r.method === 'GET' && r.path.includes(job.id))
    // When the server said each time (60 s, then 40 s more), alone: two checks, none in a batch
    // (a batch took the first, and the next check went at 72 s, long before it said).
    expect(checks.map((r) => r.path.includes('ids='))).toEqual([false, false])
    await settle(all)
  })

  it('should keep each wait’s schedule, one request a check, with shareRequests: false', async () => {
    const { jobs, checks } = await twoWaits(false)
    expect(jobs.map((job) => job.status)).toEqual(['completed', 'completed'])
    expect(checks.filter((r) => r.path.includes('ids='))).toEqual([])
    // 0, 10 … 60 s and 1, 11 … 61 s, each check its own request.
    expect(checks.length).toBe(14)
  })
})

describe('progress without ETAs', () => {
  it('should not take the first progress seen for the pace of a job that was queued first', async () => {
    const { client, settle, manual } = virtualSetup({
      simulation: { hints: { mode: 'none' }, durations: { distribution: 'fixed', ms: 30_000 } },
    })
    // Learned from 30 jobs of 30 s (each queued its first 3 s), then a job waited for from 4.8 s
    // on: its first answer says 7 % done.
    await settle(
      Promise.all(Array.from({ length: 30 }, () => client.jobs.createAndWait(jobParams()))),
    )
    const job = await settle(client.jobs.create(jobParams()))
    await manual.tickAsync(4_800)
    const done = await settle(client.jobs.wait(job.id))
    // The pace since its creation said 67 s more: known 15 s after its end.
    expect(manual.now() - Date.parse(done.updated_at)).toBeLessThan(2_000)
  }, 30_000)
})

describe('two clients on one key under the rate limit', () => {
  it('should share it, neither starving', async () => {
    const { client, newClient, manual, settle } = virtualSetup({
      simulation: {
        rate_limit: { capacity: 20, refill_per_s: 2 },
        hints: { mode: 'none' },
        durations: { distribution: 'fixed', ms: 8_000 },
      },
    })
    const start = manual.now()
    const run = async (c: typeof client) => {
      const done: number[] = []
      const waits = Array.from({ length: 100 }, async () => {
        await c.jobs.createAndWait(jobParams(), { timeoutMs: 3_600_000 })
        done.push(manual.now() - start)
      })
      const outcomes = await Promise.allSettled(waits)
      expect(outcomes.every((o) => o.status === 'fulfilled')).toBe(true)
      return done.reduce((a, b) => a + b, 0) / done.length
    }
    const [a, b] = await settle(Promise.all([run(client), run(newClient())]))
    // The client refused first rose by 0.1 request a second with each answer, the other one
    // too, answered five times as often: means of 106 s and 44 s, all done after 155 s. Each
    // rising by 0.1 request a second each second, neither starves (about 60 s at an even split).
    expect(Math.max(a, b)).toBeLessThan(95_000)
    expect(manual.now() - start).toBeLessThan(130_000)
  }, 90_000)

  it('should let a client that comes later to a busy key have its turns', async () => {
    const { client, newClient, manual, settle } = virtualSetup({
      simulation: {
        rate_limit: { capacity: 10, refill_per_s: 2 },
        hints: { mode: 'none' },
        durations: { distribution: 'fixed', ms: 30_000 },
      },
    })
    const busy = Array.from({ length: 300 }, () =>
      client.jobs.createAndWait(jobParams(), LONG_WAIT),
    )
    await manual.tickAsync(30_000)
    const later = newClient()
    const took: number[] = []
    const waits = (async () => {
      for (let i = 0; i < 5; i++) {
        const start = manual.now()
        await later.jobs.createAndWait(jobParams(10_000), { timeoutMs: 120_000 })
        took.push(manual.now() - start)
      }
    })()
    await settle(waits)
    // The busy client took each token as it came, and the later one, refused each time it
    // asked, timed out on a job that had ended 110 s before. Now each of its jobs of 10 s is
    // known within seconds of its end.
    expect(Math.max(...took)).toBeLessThan(30_000)
    expect((await settle(Promise.allSettled(busy))).every((o) => o.status === 'fulfilled')).toBe(
      true,
    )
  }, 90_000)
})

describe('push under the rate limit', () => {
  it('should open the streams of waits with onProgress as it may end too, while creates wait', async () => {
    const { client, manual, settle } = virtualSetup({
      simulation: { rate_limit: { capacity: 100, refill_per_s: 50 } },
      client: { transport: 'auto' },
    })
    const late: number[] = []
    const waits = Array.from({ length: 400 }, async () => {
      const options = { timeoutMs: 3_600_000, onProgress: () => {} }
      const job = await client.jobs.createAndWait(jobParams(3_000), options)
      late.push(manual.now() - Date.parse(job.updated_at))
    })
    await settle(Promise.all(waits))
    late.sort((a, b) => a - b)
    // Each stream opened at once took a turn: known 4.5 s after the end at the median; the
    // same without onProgress, 0.09 s.
    expect(late[200]).toBeLessThan(500)
  }, 60_000)

  it('should open a job’s stream when it may end, not at once, while creates wait their turn', async () => {
    const { client, manual, settle, requests } = virtualSetup({
      simulation: {
        rate_limit: { capacity: 20, refill_per_s: 10 },
        hints: { mode: 'none' },
        durations: { distribution: 'fixed', ms: 20_000 },
      },
      client: { transport: 'auto' },
    })
    const start = manual.now()
    const late: number[] = []
    const waits = Array.from({ length: 150 }, async () => {
      const job = await client.jobs.createAndWait(jobParams(), { timeoutMs: 3_600_000 })
      late.push(manual.now() - Date.parse(job.updated_at))
    })
    await settle(Promise.all(waits))
    // 150 creates at 10 a second after a burst of 20: 13 s at best. A stream opened at once
    // after each create took every other turn: the last create went out after 28 s; opened at
    // the strategy's first look (a new client's prior: a few seconds in), after 21 s.
    const creates = requests.filter((r) => r.method === 'POST')
    expect(Math.max(...creates.map((r) => r.at)) - start).toBeLessThan(24_000)
    // Each job still known as it ends (on its stream, or by a stream opened just after).
    const mean = late.reduce((a, b) => a + b, 0) / late.length
    expect(mean).toBeLessThan(1_000)
    expect(requests.filter((r) => r.path.includes('/events')).length).toBeLessThanOrEqual(160)
  }, 30_000)
})

/**
 * A client on push (`auto`) under `rate_limit`, on a server without hints whose streams send
 * progress every `progressEveryMs` (few events: a test's cost is theirs).
 */
function pushUnder(
  rate_limit: { capacity: number; refill_per_s: number },
  progressEveryMs: number,
) {
  return virtualSetup({
    simulation: { rate_limit, hints: { mode: 'none' }, progress_interval_ms: progressEveryMs },
    client: { transport: 'auto' },
  })
}

describe('push under a quota of an hour', () => {
  it('should keep jobs polled in batches where opening a stream each would take an hour', async () => {
    const { client, manual, settle, requests } = virtualSetup({
      simulation: {
        durations: { distribution: 'fixed', ms: 600_000 },
        rate_limit: { capacity: 100, refill_per_s: 100 / 3_600 },
      },
      client: { transport: 'auto' },
    })
    const late: number[] = []
    const calls = Array.from({ length: 100 }, () =>
      client.jobs
        .createAndWait(jobParams(600_000), { timeoutMs: 4 * 3_600_000 })
        .then((job) => late.push(manual.now() - Date.parse(job.updated_at))),
    )
    await settle(Promise.all(calls))
    late.sort((a, b) => a - b)
    // One turn for up to 100 jobs: each known within a minute or two of its end (a stream each,
    // a turn of 36 s each: 20 min late at the median, 50 at worst), the creates' burst and a
    // few batches spent.
    expect(late[99]).toBeLessThan(120_000)
    expect(requests.length).toBeLessThan(130)
  }, 60_000)
})

describe('push under the rate limit, put off', () => {
  it('should open a stream put off for creates once they no longer wait', async () => {
    const { client, manual, settle } = virtualSetup({
      simulation: { rate_limit: { capacity: 20, refill_per_s: 10 }, hints: { mode: 'none' } },
      client: { transport: 'auto' },
    })
    const start = manual.now()
    // 100 creates waiting their turn (8 s at 10 a second), then a wait whose strategy would
    // first look after 30 s, on a job of 5 s.
    const batch = client.jobs.createBatch(Array.from({ length: 100 }, () => jobParams(600_000)))
    await manual.tickAsync(0)
    const polling = fixedInterval(30_000)
    const job = await settle(client.jobs.createAndWait(jobParams(5_000), { polling }))
    expect(job.status).toBe('completed')
    // Its stream opened once the creates were out, not at the first look.
    expect(manual.now() - start).toBeLessThan(15_000)
    await settle(batch)
  }, 30_000)

  it('should open the streams of a second wave of creates too', async () => {
    const { client, manual, settle, requests } = pushUnder({ capacity: 5, refill_per_s: 2 }, 10_000)
    const first = Array.from({ length: 20 }, () =>
      client.jobs.createAndWait(jobParams(20_000), LONG_WAIT),
    )
    await manual.tickAsync(11_000)
    const before = requests.length
    const second = Array.from({ length: 20 }, () =>
      client.jobs.createAndWait(jobParams(180_000), LONG_WAIT),
    )
    const jobs = await settle(Promise.all(second))
    await settle(Promise.all(first))
    // Each job of the second wave is known by its stream in the end (put off while the creates
    // waited, then opened as turns were free); once, one callback for the first wave's streams
    // left the second's put off for good, polled.
    const streamed = new Set(
      requests
        .slice(before)
        .flatMap((r) => (r.path.includes('/events') ? [r.path.split('?')[0]] : [])),
    )
    expect(jobs.filter((job) => !streamed.has(`/v1/jobs/${job.id}/events`))).toEqual([])
  }, 90_000)

  it('should open the streams put off as turns come free once no create waits', async () => {
    const { client, settle, requests } = pushUnder({ capacity: 20, refill_per_s: 10 }, 60_000)
    const waits = Array.from({ length: 100 }, () =>
      client.jobs.createAndWait(jobParams(120_000), LONG_WAIT),
    )
    const jobs = await settle(Promise.all(waits))
    expect(jobs.every((job) => job.status === 'completed')).toBe(true)
    const lastCreate = Math.max(...requests.filter((r) => r.method === 'POST').map((r) => r.at))
    const opens = requests.filter((r) => r.path.includes('/events')).map((r) => r.at - lastCreate)
    // Each job's stream, put off while the creates waited (10 s at 10 a second), opens as the
    // turns come once they are out: 100 at 10 a second, sharing the turns with the batch checks
    // (14 s at most). Each opened at the job's next check on which a turn was free: 21 s at most.
    expect(opens.length).toBe(100)
    expect(Math.max(...opens)).toBeLessThan(16_000)
  }, 60_000)

  it('should open a stream put off right after the check out when someone wants every change', async () => {
    const { app, manual, settle, simulate } = virtualSetup()
    await simulate({ rate_limit: { capacity: 10, refill_per_s: 5 }, hints: { mode: 'none' } })
    const asked: { at: number; method: string; path: string }[] = []
    // Each answer a second after its request: a check is out for a while.
    const client = createClient({
      baseUrl: 'http://mock.test',
      apiKey: DEV_API_KEY,
      clock: { now: () => manual.now(), sleep: (ms, signal) => sleep(manual, ms, signal) },
      transport: 'auto',
      fetch: async (input, init) => {
        const url = new URL(input)
        asked.push({ at: manual.now(), method: init.method ?? 'GET', path: url.pathname })
        await sleep(manual, 1_000)
        return app.request(input, init)
      },
    })
    // 60 creates wait their turn (12 s at 5 a second) as the job is made: its stream is put off
    // and the job polled, every 5 s.
    const batch = client.jobs.createBatch(Array.from({ length: 60 }, () => jobParams(600_000)))
    await manual.tickAsync(0)
    const waited = client.jobs.createAndWait(jobParams(60_000), { polling: fixedInterval(5_000) })
    for (let i = 0; i < 400 && !asked.some((r) => r.method === 'GET'); i++) {
      await manual.tickAsync(50)
    }
    // Its first check is out: someone starts listening to every change.
    await manual.tickAsync(500)
    const listenedAt = manual.now()
    client.on('job:status', () => {})
    await settle(waited)
    const opened = asked.find((r) => r.path.includes('/events'))
    // Opened once the check out was answered (and a turn came), not at the strategy's next
    // look, 5 s on.
    expect((opened?.at ?? Number.POSITIVE_INFINITY) - listenedAt).toBeLessThan(3_500)
    await settle(batch)
  }, 30_000)

  it.each(['job:status', '*'] as const)(
    'should open a stream put off for creates when someone wants every change (%s)',
    async (type) => {
      const { client, manual, settle } = virtualSetup({
        simulation: { rate_limit: { capacity: 20, refill_per_s: 10 }, hints: { mode: 'none' } },
        client: { transport: 'auto' },
      })
      const batch = client.jobs.createBatch(Array.from({ length: 300 }, () => jobParams(600_000)))
      await manual.tickAsync(0)
      const polling = fixedInterval(60_000)
      const waited = client.jobs.createAndWait(jobParams(20_000), { polling })
      await manual.tickAsync(3_000)
      const seen: string[] = []
      if (type === '*') {
        client.on('*', (e) => (e.name === 'job:status' ? seen.push(e.payload.job.status) : 0))
      } else client.on(type, ({ job }) => seen.push(job.status))
      const start = manual.now()
      await settle(waited)
      // Told of each change from the stream, opened when the listener came, not after a minute.
      expect(seen).toContain('completed')
      expect(manual.now() - start).toBeLessThan(20_000)
      await settle(batch)
    },
    30_000,
  )
})

describe('a plain call beside waits with deadlines under the rate limit', () => {
  it('should get its turn within the client’s requestTimeoutMs, not behind every check', async () => {
    const { client, manual, settle } = virtualSetup({
      simulation: { rate_limit: { capacity: 5, refill_per_s: 2 } },
    })
    const jobs = await settle(
      client.jobs.createBatch(Array.from({ length: 30 }, () => jobParams(600_000))),
    )
    const ids = jobs.map((c) => (c.status === 'fulfilled' ? c.job.id : ''))
    // Thirty waits asking every 300 ms, 20 s from their deadlines: more than the limit allows.
    const polling = fixedInterval(300)
    const waits = ids.map((id) =>
      client.jobs.wait(id, { timeoutMs: 20_000, polling }).catch(() => {}),
    )
    await manual.tickAsync(5_000)
    const start = manual.now()
    await settle(client.jobs.get(ids[0] as string))
    expect(manual.now() - start).toBeLessThan(10_000)
    await settle(Promise.all(waits))
  })
})

describe('client.close', () => {
  it('should end every call out with its reason, send nothing after, and resolve once all settled', async () => {
    const { client, manual, requests, settle } = virtualSetup()
    const [a, b] = await settle(
      Promise.all([client.jobs.create(jobParams(600_000)), client.jobs.create(jobParams(600_000))]),
    )
    const ids = [a.id, b.id]
    const calls = [
      client.jobs.wait(a.id),
      client.jobs.createAndWait(jobParams(600_000)),
      client.jobs.waitAll(ids),
      client.jobs.waitAny(ids),
    ]
    const watch = client.jobs.watch(b.id)
    const watched = (async () => {
      for await (const _ of watch) {
        // every change until the close
      }
    })()
    await manual.tickAsync(30_000)
    const reason = new Error('shutting down')
    let closed = false
    const closing = client.close(reason).then(() => {
      closed = true
    })
    const outcomes = await Promise.allSettled([...calls, watched])
    expect(outcomes.map((o) => o.status === 'rejected' && o.reason)).toEqual(
      outcomes.map(() => reason),
    )
    await closing
    expect(closed).toBe(true)
    // Nothing planned is left: no request however long the clock runs, and calls after the
    // close reject at once, unsent.
    const sent = requests.length
    await manual.tickAsync(3_600_000)
    await expect(client.jobs.get(a.id)).rejects.toBe(reason)
    await expect(client.jobs.wait(a.id)).rejects.toBe(reason)
    await expect(client.jobs.createBatch([jobParams(1_000)])).rejects.toBe(reason)
    const late = client.jobs.watch(a.id)
    await expect(late.next()).rejects.toBe(reason)
    expect(requests).toHaveLength(sent)
  })

  it('should let a single request out finish (a create cut short could lose its job), and wait for it', async () => {
    const { manual, clock } = virtualClock()
    const fetch = fakeFetch(async (call) => {
      await sleep(manual, 2_000, call.signal)
      if (call.method === 'POST') return json(jobBody({ id: 'job_made', status: 'pending' }), 202)
      return json(jobBody({ id: 'job_1', status: 'running' }))
    })
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock, transport: 'poll' })
    const got = client.jobs.get('job_1')
    const made = client.jobs.create(jobParams())
    await manual.tickAsync(500)
    let closed = false
    const closing = client.close(new Error('bye')).then(() => {
      closed = true
    })
    await manual.tickAsync(1_000)
    expect(closed).toBe(false)
    const [job, created] = await drive(manual, Promise.all([got, made]), 500, 20)
    expect(job).toMatchObject({ id: 'job_1' })
    expect(created).toMatchObject({ id: 'job_made' })
    await closing
    expect(closed).toBe(true)
    await expect(client.jobs.cancel('job_1')).rejects.toThrow('bye')
    expect(fetch.calls).toHaveLength(2)
  })

  it('should start no retry of a single request out after the close, however long the server asks to wait', async () => {
    const { manual, clock } = virtualClock()
    const fetch = fakeFetch(() => {
      const refused = problemResponse(429, 'Too Many Requests')
      refused.headers.set('retry-after', '50')
      return refused
    })
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock, transport: 'poll' })
    const got = client.jobs.get('job_1').catch((error: unknown) => error)
    await manual.tickAsync(1_000)
    const reason = new Error('shutting down')
    const closing = client.close(reason)
    await manual.tickAsync(0)
    expect(await got).toBe(reason)
    await closing
    await manual.tickAsync(300_000)
    expect(fetch.calls).toHaveLength(1)
  })

  it('should reject with an AbortError when given no reason, and leave a caller’s signal no listener', async () => {
    const { client, manual } = virtualSetup()
    const job = await client.jobs.create(jobParams(600_000))
    const caller = new AbortController()
    const wait = client.jobs.wait(job.id, { signal: caller.signal })
    const watch = client.jobs.watch(job.id, { signal: caller.signal })
    await manual.tickAsync(5_000)
    expect(getEventListeners(caller.signal, 'abort').length).toBeGreaterThan(0)
    await client.close()
    await expect(wait).rejects.toMatchObject({ name: 'AbortError' })
    // What it had to yield first, then the reason.
    const drained = (async () => {
      for await (const _ of watch) {
        // the changes seen before the close
      }
    })()
    await expect(drained).rejects.toMatchObject({ name: 'AbortError' })
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0)
    // The caller's signal still ends its own calls on another client, as before.
    const other = virtualSetup()
    const own = other.client.jobs.wait(job.id, { signal: caller.signal })
    caller.abort(new Error('mine'))
    await expect(own).rejects.toThrow('mine')
  })
})

describe('jobs.waitAny', () => {
  it('should resolve with the first job to complete and stop checking the others', async () => {
    const { client, manual, requests, settle } = virtualSetup()
    const slow = await client.jobs.create(jobParams(120_000))
    const failing = await client.jobs.create(jobParams(3_000, 'error'))
    const fast = await client.jobs.create(jobParams(10_000))
    const first = await settle(client.jobs.waitAny([slow.id, failing.id, fast.id]))
    expect(first.id).toBe(fast.id)
    const count = requests.length
    await manual.tickAsync(300_000)
    expect(requests).toHaveLength(count)
  })

  it('should reject with every reason when none completes', async () => {
    const { client, settle } = virtualSetup()
    const a = await client.jobs.create(jobParams(3_000, 'error'))
    const b = await client.jobs.create(jobParams(5_000, 'error'))
    const error = (await settle(client.jobs.waitAny([a.id, b.id])).catch(
      (e) => e,
    )) as AggregateError
    expect(error).toBeInstanceOf(AggregateError)
    expect(error.errors.every(isJobFailedError)).toBe(true)
  })
})

describe('jobs.createBatch', () => {
  it('should create each job once, at most `concurrency` at a time, with per-item results', async () => {
    const { client, requests } = virtualSetup()
    const params = [jobParams(), { video_url: 'not a url', target_language: 'es' }, jobParams()]
    const outcomes = await client.jobs.createBatch(params, { concurrency: 2 })
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
    expect(requests.filter((r) => r.method === 'POST')).toHaveLength(3)
  })

  it('should not send the rest after a 401: the key is wrong for every create', async () => {
    const fetch = fakeFetch(() => problemResponse(401, 'Invalid API key'))
    const client = createClient({ baseUrl: 'http://api.test', fetch, apiKey: 'sk_wrong_key_1234' })
    const outcomes = await client.jobs.createBatch(
      Array.from({ length: 20 }, () => jobParams()),
      { concurrency: 2 },
    )
    expect(outcomes).toHaveLength(20)
    expect(outcomes.every((o) => o.status === 'rejected' && o.reason instanceof Error)).toBe(true)
    // The two in flight when the first answer came, and no more.
    expect(fetch.calls.length).toBeLessThanOrEqual(2)
  })

  it('should not send the rest while a 429 asks for longer than a create waits, and say how long', async () => {
    const { manual, clock } = virtualClock()
    const start = manual.now()
    let refusals = 0
    const fetch = fakeFetch((call) => {
      // Refused for two minutes from the first create on, then accepted.
      if (manual.now() < start + 120_000 && call.method === 'POST') {
        refusals++
        const response = problemResponse(429, 'Slow down')
        response.headers.set('retry-after', '120')
        return response
      }
      return json(jobBody({ status: 'pending', progress: 0 }), 202)
    })
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock })
    const outcomes = await client.jobs.createBatch(
      Array.from({ length: 10 }, () => jobParams()),
      { concurrency: 2 },
    )
    expect(outcomes.map((o) => o.status)).toEqual(Array(10).fill('rejected'))
    const reason = (outcomes[9] as { reason: unknown }).reason
    expect(reason).toMatchObject({ name: 'RateLimitError', status: 429, retryAfterMs: 120_000 })
    // The two in flight when the first answer came, and no more.
    expect(refusals).toBeLessThanOrEqual(2)
    // Past the time asked, creates go out again.
    await manual.tickAsync(120_000)
    const later = await drive(manual, client.jobs.createBatch([jobParams()]))
    expect(later[0]?.status).toBe('fulfilled')
  })

  it('should send the rest after a 429 asking for less than a create waits', async () => {
    let posts = 0
    const fetch = fakeFetch(() => {
      if (++posts > 1) return json(jobBody({ status: 'pending', progress: 0 }), 202)
      const response = problemResponse(429, 'Slow down')
      response.headers.set('retry-after', '1')
      return response
    })
    const client = createClient({ baseUrl: 'http://api.test', fetch, retry: false })
    const outcomes = await client.jobs.createBatch(
      Array.from({ length: 20 }, () => jobParams()),
      { concurrency: 4 },
    )
    // The one refused fails (no retries asked for); the pacer spaces the others, all sent.
    expect(outcomes.filter((o) => o.status === 'rejected')).toHaveLength(1)
    expect(posts).toBe(20)
  })

  it('should bound the creates in flight and give each its own idempotency key', async () => {
    let inFlight = 0
    let most = 0
    const keys = new Set<string>()
    const fetch = fakeFetch(async (call) => {
      keys.add(call.headers.get('idempotency-key') ?? '')
      most = Math.max(most, ++inFlight)
      await new Promise((resolve) => setTimeout(resolve, 5))
      inFlight--
      return json(jobBody({ status: 'pending', progress: 0 }), 202)
    })
    const client = createClient({ baseUrl: 'http://api.test', fetch })
    const outcomes = await client.jobs.createBatch(
      Array.from({ length: 20 }, () => jobParams()),
      { concurrency: 3 },
    )
    expect(outcomes.every((o) => o.status === 'fulfilled')).toBe(true)
    expect(most).toBe(3)
    expect(keys.size).toBe(20)
  })

  it('should find, not create again, the jobs of an aborted batch run again with its keys', async () => {
    const { client, simulator } = virtualSetup()
    const before = simulator.jobCount
    const params = Array.from({ length: 12 }, () => jobParams())
    const idempotencyKey = (_: unknown, i: number) => `nightly-${i}`
    const controller = new AbortController()
    let created = 0
    client.on('job:created', () => {
      if (++created === 5) controller.abort(new Error('shutting down'))
    })
    const aborted = client.jobs.createBatch(params, {
      concurrency: 2,
      idempotencyKey,
      signal: controller.signal,
    })
    await expect(aborted).rejects.toThrow('shutting down')
    const again = await client.jobs.createBatch(params, { concurrency: 2, idempotencyKey })
    expect(again.every((o) => o.status === 'fulfilled')).toBe(true)
    const ids = new Set(again.map((o) => (o.status === 'fulfilled' ? o.job.id : '')))
    expect(ids.size).toBe(12)
    // Every job the server holds is one of the twelve: none was made twice.
    expect(simulator.jobCount - before).toBe(12)
  })

  it('should ride out a maintenance asking for less than a create waits, however long', async () => {
    const { manual, clock } = virtualClock()
    const start = manual.now()
    let made = 0
    // Ten minutes of 503s each asking for 30 s (the creates' own minutes of waiting run out).
    const fetch = fakeFetch((call) => {
      if (manual.now() - start < 600_000) {
        const response = problemResponse(503, 'Maintenance')
        response.headers.set('retry-after', '30')
        return response
      }
      made++
      return json(jobBody({ id: `job_${call.headers.get('idempotency-key')}` }), 201)
    })
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock })
    const params = Array.from({ length: 20 }, () => jobParams())
    const batch = client.jobs.createBatch(params)
    const outcomes = await drive(manual, batch, 10_000, 200)
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(20)
    expect(made).toBe(20)
    expect(manual.now() - start).toBeLessThan(700_000)
  })

  it('should reject the creates out at once too when a 503 asks for longer than a create waits', async () => {
    const { manual, clock } = virtualClock()
    const start = manual.now()
    const fetch = fakeFetch(() => {
      const response = problemResponse(503, 'Maintenance')
      response.headers.set('retry-after', '120')
      return response
    })
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock })
    const batch = client.jobs.createBatch(Array.from({ length: 20 }, () => jobParams()))
    const outcomes = await drive(manual, batch, 1_000, 600)
    expect(outcomes.every((o) => o.status === 'rejected' && isServerError(o.reason))).toBe(true)
    // The creates out (8 at a time) with their keys, to send again, the rest unsent; said within
    // the first request's answer, not one create a minute as the server's hold let each go.
    const keyed = outcomes.filter((o) => o.status === 'rejected' && o.idempotencyKey)
    expect(keyed).toHaveLength(8)
    expect(manual.now() - start).toBeLessThan(5_000)
    expect(fetch.calls.length).toBeLessThanOrEqual(2)
  })

  it('should ride out a short outage: every job made, each once', async () => {
    const { manual, clock } = virtualClock()
    const start = manual.now()
    const made = new Set<string>()
    const fetch = fakeFetch((call) => {
      // Failing for two seconds (the breaker opens), then answering.
      if (manual.now() - start < 2_000) return problemResponse(502, 'Bad gateway')
      made.add(call.headers.get('idempotency-key') ?? '')
      return json(jobBody({ status: 'pending', progress: 0 }), 202)
    })
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock })
    const batch = client.jobs.createBatch(Array.from({ length: 40 }, () => jobParams()))
    const outcomes = await drive(manual, batch, 100, 1_000)
    expect(outcomes.map((o) => o.status)).toEqual(Array(40).fill('fulfilled'))
    expect(made.size).toBe(40)
  })

  it('should ride out an outage the breaker does not see (off, or few creates)', async () => {
    for (const [options, count, outageMs] of [
      [{ circuitBreaker: false }, 40, 20_000],
      [{ retry: { maxRetries: 1 } }, 3, 3_000],
    ] as const) {
      const { manual, clock } = virtualClock()
      let downFrom = Infinity
      const fetch = fakeFetch(() => {
        const down = manual.now() >= downFrom && manual.now() < downFrom + outageMs
        if (down) return problemResponse(503, 'Unavailable')
        return json(jobBody({ status: 'pending', progress: 0 }), 202)
      })
      const client = createClient({ baseUrl: 'http://api.test', fetch, clock, ...options })
      await client.jobs.get('job_1')
      downFrom = manual.now()
      const params = Array.from({ length: count }, () => jobParams())
      const batch = client.jobs.createBatch(params, { concurrency: count > 3 ? 8 : 1 })
      const outcomes = await drive(manual, batch, 100, 3_000)
      expect(outcomes.map((o) => o.status)).toEqual(Array(count).fill('fulfilled'))
    }
  })

  it('should wait for a server that starts a few seconds late', async () => {
    const { manual, clock } = virtualClock()
    const start = manual.now()
    const fetch = fakeFetch(() => {
      if (manual.now() - start < 3_000) return Promise.reject(new TypeError('fetch failed'))
      return json(jobBody({ status: 'pending', progress: 0 }), 202)
    })
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock })
    // One at a time: the first create's retries alone fail before it starts.
    const params = Array.from({ length: 20 }, () => jobParams())
    const batch = client.jobs.createBatch(params, { concurrency: 1 })
    const outcomes = await drive(manual, batch, 100, 1_000)
    expect(outcomes.map((o) => o.status)).toEqual(Array(20).fill('fulfilled'))
  })

  it('should give each failed create’s key, to send it again without making the job twice', async () => {
    const { manual, clock } = virtualClock()
    let down = true
    const made = new Set<string>()
    const fetch = fakeFetch((call) => {
      // The server makes the job; its answer is lost on the way back while `down`.
      made.add(call.headers.get('idempotency-key') ?? '')
      if (down) return Promise.reject(new TypeError('fetch failed'))
      return json(jobBody({ status: 'pending', progress: 0 }), 202)
    })
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock })
    const params = [jobParams(), jobParams()]
    const outcomes = await drive(manual, client.jobs.createBatch(params), 100, 3_000)
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected'])
    const keys = outcomes.map((o) => (o.status === 'rejected' ? o.idempotencyKey : ''))
    down = false
    // Run again a minute later (the breaker's probe goes first, the other create after it).
    await manual.tickAsync(60_000)
    const retried = client.jobs.createBatch(params, { idempotencyKey: (_, i) => `${keys[i]}` })
    const again = await drive(manual, retried, 100, 100)
    expect(again.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled'])
    // Only the two keys: the creates sent again found what the server had made.
    expect(made).toEqual(new Set(keys))
  })

  it('should not wait through an outage again for each create once one gave up on it', async () => {
    const { manual, clock } = virtualClock()
    let answered = false
    const fetch = fakeFetch(() => {
      // Answered once (the server is there), then down for good.
      if (answered) return problemResponse(503, 'Down')
      answered = true
      return json(jobBody())
    })
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock })
    await client.jobs.get('job_1')
    const start = manual.now()
    const batch = client.jobs.createBatch(Array.from({ length: 40 }, () => jobParams()))
    const outcomes = await drive(manual, batch, 1_000, 3_600)
    expect(outcomes.map((o) => o.status)).toEqual(Array(40).fill('rejected'))
    // As long as a wait's create waits through it (maxConsecutiveErrors openings of the
    // breaker), not forty times that.
    expect(manual.now() - start).toBeLessThan(15 * 60_000)
    const posts = fetch.calls.filter((call) => call.method === 'POST')
    expect(posts.length).toBeLessThan(200)
  })

  it('should reject alone a create the server fails on, and a key function that throws', async () => {
    const { manual, clock } = virtualClock()
    const fetch = fakeFetch(async (call) => {
      // The server fails on one job's params every time, and makes the others.
      const body = JSON.parse(call.body ?? '{}') as { title?: string }
      if (body.title === 'poison') return problemResponse(500, 'Internal error')
      return json(jobBody({ status: 'pending', progress: 0 }), 202)
    })
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock })
    const params = Array.from({ length: 12 }, (_, i) => ({
      ...jobParams(),
      title: i === 2 ? 'poison' : `clip ${i}`,
    }))
    const idempotencyKey = (_: unknown, i: number) => {
      if (i === 5) throw new Error('no key for 5')
      return `run-7-${i}`
    }
    // Others made while it fails (one at a time, it is not told from an outage: waited through).
    const batch = client.jobs.createBatch(params, { concurrency: 3, idempotencyKey })
    const outcomes = await drive(manual, batch, 1_000, 3_600)
    expect(outcomes.map((o) => o.status[0]).join('')).toBe('ffrffrffffff')
    expect(outcomes[2]).toMatchObject({ idempotencyKey: 'run-7-2', reason: { status: 500 } })
    expect(outcomes[5]).toMatchObject({
      idempotencyKey: undefined,
      reason: { message: 'no key for 5' },
    })
  })

  it('should refuse, item by item, keys no header can carry, sending nothing for them', async () => {
    const { client, requests } = virtualSetup()
    const params = [jobParams(), { ...jobParams(), title: 'Café ☕' }, jobParams()]
    const outcomes = await client.jobs.createBatch(params, {
      idempotencyKey: (p, i) => `nightly-${p.title ?? i}`,
    })
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
    const reason = outcomes[1]?.status === 'rejected' ? outcomes[1].reason : undefined
    expect(reason).toBeInstanceOf(TypeError)
    expect(String(reason)).toMatch(/1 to 255 visible ASCII characters/)
    expect(requests.filter((r) => r.method === 'POST')).toHaveLength(2)
    // Nothing counted against the server: a later call goes through.
    await expect(
      client.jobs.get(outcomes[0]?.status === 'fulfilled' ? outcomes[0].job.id : ''),
    ).resolves.toBeDefined()
  })

  it('should refuse one idempotency key for a whole batch', async () => {
    const { client } = virtualSetup()
    const options = { idempotencyKey: 'same-for-all' } as unknown as CreateBatchOptions
    await expect(client.jobs.createBatch([jobParams()], options)).rejects.toThrow(
      /function of \(params, index\)/,
    )
  })
})

describe('resume', () => {
  it('should give each wait that timed out a token to go on with it, waitAll’s too', async () => {
    const { client, newClient, settle } = virtualSetup()
    const jobs = await Promise.all(
      [jobParams(5_000), jobParams(90_000)].map((p) => client.jobs.create(p)),
    )
    const outcomes = await settle(
      client.jobs.waitAll(
        jobs.map((j) => j.id),
        { timeoutMs: 30_000 },
      ),
    )
    expect(outcomes[0]?.status).toBe('fulfilled')
    const reason = outcomes[1]?.status === 'rejected' ? outcomes[1].reason : undefined
    expect(isTimeoutError(reason)).toBe(true)
    const { resumeToken } = reason as TimeoutError
    expect(resumeToken).toMatch(/^vt1\./)
    // Elsewhere, later, with a new deadline.
    const id = jobs[1]?.id as string
    const done = await settle(
      newClient().jobs.wait(id, { resume: resumeToken, timeoutMs: 120_000 }),
    )
    expect(done.status).toBe('completed')
  })

  it('should hand the caller’s expectedMs to the strategy, and keep it in a resume token', async () => {
    const { client, newClient, manual, settle } = virtualSetup()
    const seen: (number | undefined)[] = []
    const polling = {
      nextDelay: ({ expectedMs }: PollContext) => {
        seen.push(expectedMs)
        return 5_000
      },
    }
    let token: string | undefined
    const controller = new AbortController()
    const first = client.jobs.createAndWait(jobParams(60_000), {
      polling,
      expectedMs: 55_000,
      signal: controller.signal,
      onProgress: (_, state) => {
        token = state.resumeToken()
      },
    })
    await manual.tickAsync(12_000)
    controller.abort('restart')
    await expect(first).rejects.toBe('restart')
    expect(seen.length).toBeGreaterThan(1)
    expect(new Set(seen)).toEqual(new Set([55_000]))
    // Elsewhere, from the token alone: the estimate goes on with it.
    seen.length = 0
    const id = JSON.parse(atob((token as string).slice(4).replace(/-/g, '+').replace(/_/g, '/'))).id
    // From the token alone (`resume`): its job, its estimate.
    const done = await settle(newClient().jobs.resume(token as string, { polling }))
    expect(done.status).toBe('completed')
    expect(done.id).toBe(id)
    expect(new Set(seen)).toEqual(new Set([55_000]))
    await expect(client.jobs.resume('not a token')).rejects.toThrow(/not a resume token/)
    // Checked as the other limits are: a duration, not a zero or a word.
    await expect(client.jobs.wait(id, { expectedMs: 0 })).rejects.toThrow(/expectedMs must be/)
    expect(() => client.jobs.watch(id, { expectedMs: Number.NaN })).toThrow(/expectedMs must be/)
  })

  it('should hand each job of a waitAll its own expectedMs, checked before anything is sent', async () => {
    const { client, settle, requests } = virtualSetup()
    const jobs = await settle(
      client.jobs.createBatch([jobParams(5_000), jobParams(8_000), jobParams(6_000)]),
    )
    const ids = jobs.flatMap((j) => (j.status === 'fulfilled' ? [j.job.id] : []))
    const seen = new Map<string, number | undefined>()
    const polling = {
      nextDelay: ({ job, expectedMs }: PollContext) => {
        if (job) seen.set(job.id, expectedMs)
        return 2_000
      },
    }
    const expectedMs = (_: string, i: number) => (i === 1 ? undefined : 1_000 * (i + 5))
    const outcomes = await settle(client.jobs.waitAll(ids, { polling, expectedMs }))
    expect(outcomes.every((o) => o.status === 'fulfilled')).toBe(true)
    expect(ids.map((id) => seen.get(id))).toEqual([5_000, undefined, 7_000])
    const sent = requests.length
    await expect(client.jobs.waitAll(ids, { expectedMs: () => 0 })).rejects.toThrow(
      /expectedMs must be/,
    )
    const notAFunction = { expectedMs: 5_000 } as never
    await expect(client.jobs.waitAll(ids, notAFunction)).rejects.toThrow(
      /function of \(id, index\)/,
    )
    expect(requests.length).toBe(sent)
  })

  it('should give createAndWait’s onProgress the job as created, before any check, to resume', async () => {
    const { client, newClient, manual, requests, settle } = virtualSetup()
    let token: string | undefined
    let first: string | undefined
    const controller = new AbortController()
    const waiting = client.jobs.createAndWait(jobParams(30_000), {
      signal: controller.signal,
      onProgress: (job, state) => {
        first ??= `${job.id} ${job.status}`
        token ??= state.resumeToken()
      },
    })
    await manual.tickAsync(0)
    // Told of the create's answer alone: no status check yet.
    expect(requests.filter((r) => r.method === 'GET')).toHaveLength(0)
    expect(first).toMatch(/ pending$/)
    // The process stops right after the create: the wait goes on elsewhere from the token.
    controller.abort('restart')
    await expect(waiting).rejects.toBe('restart')
    const job = await settle(
      newClient().jobs.wait(first?.split(' ')[0] as string, { resume: token }),
    )
    expect(job.status).toBe('completed')
  })

  it('should go on elsewhere from a token: same deadline, first check at once, ETag sent', async () => {
    const { client, newClient, manual, requests, settle } = virtualSetup({
      simulation: { hints: { mode: 'none', eta_noise: 0, progress: false } },
    })
    const job = await client.jobs.create(jobParams(90_000))
    const controller = new AbortController()
    let state: WaitState | undefined
    const first = client.jobs.wait(job.id, {
      timeoutMs: 60_000,
      signal: controller.signal,
      onProgress: (_, s) => {
        state = s
      },
    })
    await manual.tickAsync(20_000)
    const token = state?.resumeToken() as string
    controller.abort('restart')
    await expect(first).rejects.toBe('restart')
    expect(token.length).toBeLessThan(1_000)

    // "Another process": a new client on the same server, after a pause.
    await manual.tickAsync(5_000)
    const since = requests.length
    const other = newClient()
    const resumed = other.jobs.wait(job.id, { resume: token })
    await manual.tickAsync(0)
    expect(requests[since]?.at).toBe(manual.now())
    // Nothing changed while it was away: the server says so in a 304.
    // The history shows it as the status it confirms, not as a failed check (null).
    expect(other.jobs.history(job.id)[0]).toMatchObject({ httpStatus: 304, status: 'running' })
    // The deadline stays where the first wait put it: 60 s after it began.
    const error = await settle(resumed).catch((e: unknown) => e)
    expect(isTimeoutError(error)).toBe(true)
    // Said as the token's deadline, not as a timeout of the time since the resume.
    expect(String(error)).toMatch(/deadline its resume token carried, \d+ ms after it resumed/)
    expect(manual.now() - Date.parse(job.created_at)).toBeLessThanOrEqual(61_000)
  })

  it('should take a job that ended from one last look, when resumed past its deadline', async () => {
    // Over every transport: a stream or a held request has nothing to say in time, and the
    // plain look made instead must have its second from the resume, not from the deadline.
    for (const transport of ['poll', 'long-poll', 'sse'] as const) {
      const { client, newClient, manual, settle } = virtualSetup({
        client: { transport },
        simulation: { latency_ms: { min: 50, max: 50 } },
      })
      const job = await settle(client.jobs.create(jobParams(20_000)))
      const watch = client.jobs.watch(job.id, { timeoutMs: 60_000 })
      await settle(watch.next())
      const token = watch.resumeToken()
      await watch.return()
      await manual.tickAsync(90_000)
      const resumed = newClient().jobs.wait(job.id, { resume: token })
      await expect(settle(resumed)).resolves.toMatchObject({ id: job.id, status: 'completed' })
    }
  })

  it('should refuse a token of another job, or one that is not a token', async () => {
    const { client } = virtualSetup()
    expect(() => client.jobs.watch('job_a', { resume: 'nonsense' })).toThrow(/resume token/)
    const job = await client.jobs.create(jobParams())
    const token = client.jobs.watch(job.id).resumeToken()
    expect(() => client.jobs.watch('job_other', { resume: token })).toThrow(/not of job job_other/)
  })
})

describe('the engine under stress', () => {
  it('should end a wait that joined during a slow check at its own deadline', async () => {
    const { manual, clock } = virtualClock()
    let release: ((response: Response) => void) | undefined
    const fetch = fakeFetch(
      () =>
        new Promise<Response>((resolve) => {
          release = resolve
        }),
    )
    const client = createClient({ transport: 'poll', baseUrl: 'http://api.test', fetch, clock })
    const watch = client.jobs.watch('job_1')
    const first = watch.next()
    await manual.tickAsync(0)
    const joined = client.jobs.wait('job_1', { timeoutMs: 2_000 }).catch((error: unknown) => error)
    await manual.tickAsync(3_100)
    expect(isTimeoutError(await joined)).toBe(true)
    release?.(json(jobBody({ status: 'running' })))
    await expect(first).resolves.toMatchObject({ value: { status: 'running' } })
    await watch.return()
  })

  it('should reject the waits of a job whose strategy throws, and leave nothing running', async () => {
    const { client, manual, polls, settle } = virtualSetup()
    const job = await client.jobs.create(jobParams(30_000))
    const polling = {
      nextDelay: (context: { attempt: number }) => {
        if (context.attempt >= 2) throw new Error('strategy broke')
        return 1_000
      },
    }
    await expect(settle(client.jobs.wait(job.id, { polling }))).rejects.toThrow('strategy broke')
    const count = polls(job.id).length
    await manual.tickAsync(60_000)
    expect(polls(job.id)).toHaveLength(count)
    // The job can be waited for again.
    await expect(settle(client.jobs.wait(job.id))).resolves.toMatchObject({ status: 'completed' })
  })

  it('should end only the wait whose own strategy throws, not another wait of the job', async () => {
    const { client, settle } = virtualSetup()
    const job = await client.jobs.create(jobParams(30_000))
    const broken = (method: 'nextDelay' | 'observe') => ({
      nextDelay: (context: { attempt: number }) => {
        if (method === 'nextDelay' && context.attempt >= 2) throw new Error(`${method} broke`)
        return 1_000
      },
      observe: (_job: unknown, ageMs: number) => {
        if (method === 'observe' && ageMs > 5_000) throw new Error(`${method} broke`)
      },
    })
    for (const method of ['nextDelay', 'observe'] as const) {
      const mine = client.jobs.wait(job.id, { polling: broken(method) })
      const theirs = client.jobs.wait(job.id)
      await expect(settle(mine)).rejects.toThrow(`${method} broke`)
      await expect(settle(theirs)).resolves.toMatchObject({ status: 'completed' })
    }
  })

  it('should settle every pending next() of a watch, in order', async () => {
    const { client, settle } = virtualSetup()
    const job = await client.jobs.create(jobParams(3_000))
    const watch = client.jobs.watch(job.id)
    const results = await settle(Promise.all([watch.next(), watch.next(), watch.next()]))
    expect(results.map((r) => r.done)).toEqual([false, false, false])
    expect(results[0]?.value?.status).toBe('pending')
    await watch.return()
    await expect(watch.next()).resolves.toEqual({ value: undefined, done: true })
  })

  it('should answer waitAll and waitAny of no ids at once', async () => {
    const { client } = virtualSetup()
    const controller = new AbortController()
    await expect(client.jobs.waitAll([], { signal: controller.signal })).resolves.toEqual([])
    await expect(client.jobs.waitAny([])).rejects.toBeInstanceOf(AggregateError)
  })
})
