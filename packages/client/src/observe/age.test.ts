import { describe, expect, it } from 'vitest'
import { fakeFetch, jobBody, json } from '../../test/fake-fetch.js'
import { drive, virtualClock } from '../../test/virtual-time.js'
import { createClient } from '../client.js'
import type { Clock } from '../clock.js'
import type { PollingStrategy } from '../polling/strategy.js'
import type { FetchLike } from '../request/http.js'

const CREATED = Date.parse('2026-01-01T00:00:00.000Z')

/**
 * A server that reports status alone (`updated_at` stays at the job's start, 60 s in) and dates
 * its answers: the jobs are 5 min old when the first check goes.
 */
function setup() {
  const { manual, clock } = virtualClock()
  const start = manual.now()
  const ages: (number | undefined)[] = []
  const body = (id: string, status = 'running') =>
    jobBody({
      id,
      status,
      eta_ms: null,
      created_at: new Date(CREATED).toISOString(),
      updated_at: new Date(CREATED + 60_000).toISOString(),
    })
  const fetch = fakeFetch((call) => {
    const date = new Date(CREATED + 300_000 + manual.now() - start).toUTCString()
    const done = ages.length >= 2 ? 'completed' : 'running'
    const url = new URL(call.url)
    if (url.searchParams.has('ids')) {
      const ids = (url.searchParams.get('ids') ?? '').split(',')
      return json({ jobs: ids.map((id) => body(id, done)), missing: [] }, 200, { date })
    }
    if (call.method === 'POST') return json(body('job_new', 'pending'), 202, { date })
    return json(body(url.pathname.split('/').at(-1) ?? '', done), 200, { date })
  })
  return { client: agesClient(fetch, clock, ages), manual, ages }
}

/** A polling client whose strategy notes the age it is told at each check, every second. */
function agesClient(fetch: FetchLike, clock: Clock, ages: (number | undefined)[]) {
  const polling: PollingStrategy = {
    nextDelay(context) {
      ages.push(context.ageMs)
      return 1_000
    },
  }
  return createClient({ baseUrl: 'http://api.test', fetch, clock, transport: 'poll', polling })
}

describe('a job’s age from the answers’ Date', () => {
  it('should reach the strategy through a single job’s checks', async () => {
    const { client, manual, ages } = setup()
    await drive(manual, client.jobs.wait('job_late'))
    expect(ages[0]).toBe(300_000)
  })

  it('should still read Date after a create in the job’s own second (Date in whole seconds)', async () => {
    const { manual, clock } = virtualClock()
    const start = manual.now()
    const createdAt = CREATED + 1_234
    const serverNow = () => createdAt + manual.now() - start
    const ages: (number | undefined)[] = []
    const fetch = fakeFetch((call) => {
      const date = new Date(serverNow()).toUTCString()
      const id = new URL(call.url).pathname.split('/').at(-1) ?? ''
      // The new job, made now; and an old one, made 5 min before, at 60 s in since.
      const fresh = call.method === 'POST' || id === 'job_new'
      const born = fresh ? createdAt : createdAt - 300_000
      const body = jobBody({
        id: fresh ? 'job_new' : id,
        status: ages.length >= 6 ? 'completed' : 'running',
        eta_ms: null,
        created_at: new Date(born).toISOString(),
        updated_at: new Date(born + (fresh ? 0 : 60_000)).toISOString(),
      })
      return json(body, call.method === 'POST' ? 202 : 200, { date })
    })
    const client = agesClient(fetch, clock, ages)
    await drive(
      manual,
      client.jobs.createAndWait({ video_url: 'https://e.com/a.mp4', target_language: 'es' }),
    )
    expect(ages[0]).toBe(0)
    ages.length = 0
    await drive(manual, client.jobs.wait('job_old'))
    // About 5 min (the Date's whole second short of it), not the 60 s updated_at says.
    expect(ages[0]).toBeGreaterThan(299_000)
  })

  it('should stop reading a Date an hour ahead of the job’s times once the job moves', async () => {
    const { manual, clock } = virtualClock()
    const start = manual.now()
    const ages: (number | undefined)[] = []
    // Made 5 min before the wait (by the job's clock), its updated_at moving at each answer;
    // the server's Date an hour ahead of those times (a timezone slip).
    const fetch = fakeFetch(() => {
      const jobNow = CREATED + 300_000 + manual.now() - start
      const body = jobBody({
        id: 'job_skewed',
        status: ages.length >= 4 ? 'completed' : 'running',
        eta_ms: null,
        created_at: new Date(CREATED).toISOString(),
        updated_at: new Date(jobNow).toISOString(),
      })
      return json(body, 200, { date: new Date(jobNow + 3_600_000).toUTCString() })
    })
    const client = agesClient(fetch, clock, ages)
    await drive(manual, client.jobs.wait('job_skewed'))
    // The first answer has nothing to bound the Date by: an hour too old.
    expect(ages[0]).toBe(3_900_000)
    // The next shows the job moved within the last second, an hour before its Date: 5 min old.
    expect(ages[1]).toBe(301_000)
    expect(ages[2]).toBe(302_000)
  })

  it('should date a new job halfway through its create’s round trip', async () => {
    const { manual, clock } = virtualClock()
    const ages: (number | undefined)[] = []
    const fetch = fakeFetch(async (call) => {
      const created = call.method === 'POST'
      // The create takes 400 ms; the job is made on the way.
      if (created) await clock.sleep(400)
      const body = jobBody({
        id: 'job_new',
        status: ages.length >= 2 ? 'completed' : created ? 'pending' : 'running',
        eta_ms: null,
        created_at: new Date(CREATED).toISOString(),
        updated_at: new Date(CREATED).toISOString(),
      })
      return json(body, created ? 202 : 200)
    })
    const client = agesClient(fetch, clock, ages)
    await drive(
      manual,
      client.jobs.createAndWait({ video_url: 'https://e.com/a.mp4', target_language: 'es' }),
    )
    expect(ages[0]).toBe(200)
  })

  it('should not count a slow create’s time at the server as the way there', async () => {
    const { manual, clock } = virtualClock()
    const ages: (number | undefined)[] = []
    const fetch = fakeFetch(async (call) => {
      const created = call.method === 'POST'
      // A request takes 100 ms there and back; the create, 900 ms more at the server.
      await clock.sleep(created ? 1_000 : 100)
      const body = jobBody({
        id: 'job_new',
        status: ages.length >= 1 ? 'completed' : created ? 'pending' : 'running',
        eta_ms: null,
        created_at: new Date(CREATED).toISOString(),
        updated_at: new Date(CREATED).toISOString(),
      })
      return json(body, created ? 202 : 200)
    })
    const client = agesClient(fetch, clock, ages)
    await drive(manual, client.jobs.get('job_new'))
    await drive(
      manual,
      client.jobs.createAndWait({ video_url: 'https://e.com/a.mp4', target_language: 'es' }),
    )
    // Dated half the shortest round trip (50 ms) before its answer, not half the create's.
    expect(ages[0]).toBe(50)
  })

  it('should take a replayed create’s job as old as its Date says, and go on reading Date', async () => {
    const { manual, clock } = virtualClock()
    const start = manual.now()
    const serverNow = () => CREATED + 300_000 + manual.now() - start
    const ages: (number | undefined)[] = []
    const fetch = fakeFetch((call) => {
      const date = new Date(serverNow()).toUTCString()
      const body = jobBody({
        id: 'job_replayed',
        status: ages.length >= 3 ? 'completed' : 'running',
        eta_ms: null,
        // Made by an earlier create with the same key, a minute ago.
        created_at: new Date(CREATED + 240_000).toISOString(),
        updated_at: new Date(CREATED + 240_000).toISOString(),
      })
      if (call.method !== 'POST') return json(body, 200, { date })
      return json(body, 202, { date, 'idempotent-replayed': 'true' })
    })
    const client = agesClient(fetch, clock, ages)
    const params = { video_url: 'https://e.com/a.mp4', target_language: 'es' }
    await drive(manual, client.jobs.createAndWait(params, { idempotencyKey: 'order-1' }))
    expect(ages[0]).toBe(60_000)
    expect(ages[1]).toBe(61_000)
  })

  it('should reach it through batch checks', async () => {
    const { client, manual, ages } = setup()
    await drive(manual, client.jobs.waitAll(['job_a', 'job_b']))
    expect(ages[0]).toBe(300_000)
  })
})

describe('a job’s age that cannot be', () => {
  /** A server whose jobs' times are `created_at`/`updated_at` as given, its `Date` true. */
  function oddTimes(createdAt: string, updatedAt: (now: number) => string, endsAtMs: number) {
    const { manual, clock } = virtualClock()
    const start = manual.now()
    const fetch = fakeFetch(() => {
      const now = manual.now()
      const status = now - start >= endsAtMs ? 'completed' : 'running'
      const job = jobBody({
        id: 'job_1',
        status,
        eta_ms: null,
        created_at: createdAt,
        updated_at: updatedAt(now),
      })
      return json(job, 200, { date: new Date(now).toUTCString() })
    })
    return { manual, clock, fetch, start }
  }

  it.each([
    ['Go’s zero time', '0001-01-01T00:00:00Z', () => '0001-01-01T00:00:00Z'],
    ['1970', '1970-01-01T00:00:00Z', (now: number) => new Date(now).toISOString()],
  ])('should not read a created_at of %s as an age of years', async (_, createdAt, updatedAt) => {
    const { manual, clock, fetch } = oddTimes(createdAt, updatedAt, 4_000)
    const ages: (number | undefined)[] = []
    const seen = agesClient(fetch, clock, ages)
    await drive(manual, seen.jobs.wait('job_1'))
    expect(ages.length).toBeGreaterThan(2)
    expect(ages.every((age) => age === undefined || age < 86_400_000)).toBe(true)
    // With the default strategy: the end known within seconds, not at the longest delay (2 min).
    const other = oddTimes(createdAt, updatedAt, 4_000)
    const client = createClient({
      baseUrl: 'http://api.test',
      fetch: other.fetch,
      clock: other.clock,
      transport: 'poll',
    })
    const job = await drive(other.manual, client.jobs.wait('job_1'))
    expect(job.status).toBe('completed')
    expect(other.manual.now() - other.start).toBeLessThan(10_000)
  })

  it('should go on reading Date for other jobs after a job older than a week', async () => {
    const { manual, clock } = virtualClock()
    const start = manual.now()
    const fetch = fakeFetch((call) => {
      const now = CREATED + 300_000 + manual.now() - start
      const old = call.url.endsWith('/job_old')
      const created = old ? now - 9 * 86_400_000 : CREATED
      const job = jobBody({
        id: old ? 'job_old' : 'job_new',
        status: old ? 'completed' : 'running',
        eta_ms: null,
        created_at: new Date(created).toISOString(),
        updated_at: new Date(old ? now : CREATED + 60_000).toISOString(),
      })
      return json(job, 200, { date: new Date(now).toUTCString() })
    })
    const ages: (number | undefined)[] = []
    const client = agesClient(fetch, clock, ages)
    await drive(manual, client.jobs.wait('job_old'))
    const controller = new AbortController()
    const waiting = client.jobs.wait('job_new', { signal: controller.signal }).catch(() => {})
    await manual.tickAsync(0)
    // Its age by the `Date` (5 min), not by `updated_at` alone (1 min): one old job's answer
    // once stopped every job's `Date` from being read for 10 minutes.
    expect(ages.at(-1)).toBeGreaterThanOrEqual(300_000)
    controller.abort()
    await waiting
  })
})
