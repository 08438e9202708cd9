import { describe, expect, it } from 'vitest'
import { jobBody } from '../../test/fake-fetch.js'
import { ServerDates } from '../polling/hints.js'
import type { Job } from '../types.js'
import { Cursor, decodeToken, encodeToken } from './cursor.js'

describe('resume tokens', () => {
  it('should carry a cursor through a string and back, non-ASCII titles included', () => {
    const job = jobBody({ title: 'Vidéo – 字幕' }) as unknown as Job
    const token = { id: job.id, deadline: 123_456, checks: 3, delays: 2, etag: '"abc"', job }
    const text = encodeToken(token)
    expect(text).toMatch(/^vt1\.[\w-]+$/)
    expect(decodeToken(text)).toEqual(token)
  })

  it('should refuse what is not a token, or a token whose fields were tampered with', () => {
    const refused = /not a resume token/
    expect(() => decodeToken(42)).toThrow(TypeError)
    expect(() => decodeToken(42)).toThrow(refused)
    expect(() => decodeToken('vt1.!!!')).toThrow(refused)
    expect(() => decodeToken(encodeToken({ id: 'j', checks: -1, delays: 0 }))).toThrow(refused)
    const badJob = { id: 'j', checks: 1, delays: 0, job: { id: 'j' } as Job }
    expect(() => decodeToken(encodeToken(badJob))).toThrow(refused)
    const badTime = { id: 'j', checks: 1, delays: 0, deadline: 'soon' as unknown as number }
    expect(() => decodeToken(encodeToken(badTime))).toThrow(refused)
    const endless = { id: 'j', checks: 1, delays: 0, bornAt: -Infinity }
    expect(() => decodeToken(encodeToken(endless))).toThrow(refused)
    const otherJob = { id: 'job_2', checks: 1, delays: 0, job: jobBody() as unknown as Job }
    expect(() => decodeToken(encodeToken(otherJob))).toThrow(refused)
  })

  it('should keep an expectedMs only in the range the option takes', () => {
    const token = (expectedMs: unknown) =>
      decodeToken(encodeToken({ id: 'j', checks: 1, delays: 0, expectedMs: expectedMs as number }))
    expect(token(90_000).expectedMs).toBe(90_000)
    for (const odd of [1e300, 0, -5, 0.5, '60000']) expect(token(odd).expectedMs).toBeUndefined()
  })

  it('should leave out an ETag or event id that no header could carry', () => {
    const job = jobBody() as unknown as Job
    const token = {
      id: job.id,
      checks: 1,
      delays: 0,
      job,
      etag: '"a"\r\nX-Evil: 1',
      eventId: '7\n',
    }
    const read = decodeToken(encodeToken(token))
    expect(read.etag).toBeUndefined()
    expect(read.eventId).toBeUndefined()
    expect(read.job).toEqual(job)
  })

  it('should not trust a finished job from a token, nor keep fields it does not know', () => {
    const done = jobBody({ status: 'completed', progress: 1 }) as unknown as Job
    const token = { id: done.id, checks: 4, delays: 3, etag: '"v9"', job: done, extra: 'x' }
    expect(decodeToken(encodeToken(token))).toEqual({ id: done.id, checks: 4, delays: 3 })
  })
})

describe('a job’s age', () => {
  const CREATED = Date.parse('2026-01-01T00:00:00.000Z')
  /** The client's clock, which times a distrusted Date. */
  let clientNow = 0
  const clientClock = { now: () => clientNow }
  const at = (ms: number) => new Date(CREATED + ms).toISOString()
  // A server that reports status alone: `updated_at` moved when the job started, at 60 s.
  const running = jobBody({
    status: 'running',
    created_at: at(0),
    updated_at: at(60_000),
  }) as unknown as Job

  it('should read it from the answer’s Date where updated_at lags, the latest standing', () => {
    const dates = new ServerDates(clientClock)
    const cursor = new Cursor()
    const now = 1_000_000 // the client's clock, far from the server's
    cursor.saw(running, undefined, now)
    expect(cursor.ageMs(now)).toBe(60_000)
    cursor.saw(running, undefined, now + 1_000, dates.ageOf(running, CREATED + 300_000))
    expect(cursor.ageMs(now + 1_000)).toBe(300_000)
    // Dates count whole seconds: one that says a little less (301 s, 1.5 s on) agrees, and the
    // earliest birth stands.
    cursor.saw(running, undefined, now + 2_500, dates.ageOf(running, CREATED + 301_000))
    expect(cursor.ageMs(now + 2_500)).toBe(301_500)
    // One further off says the last was wrong; a 304 (no body) with a Date moves it too.
    cursor.saw(undefined, '"e"', now + 3_000, dates.ageOf(running, CREATED + 306_000))
    expect(cursor.ageMs(now + 3_000)).toBe(306_000)
    // Without a Date, updated_at only says "at least": it takes nothing away.
    cursor.saw(running, undefined, now + 4_000)
    expect(cursor.ageMs(now + 4_000)).toBe(307_000)
  })

  it('should set it from the first dated answer in a resuming process, whatever its clock', () => {
    const dates = new ServerDates(clientClock)
    const written = new Cursor()
    written.saw(running, undefined, 50_000, dates.ageOf(running, CREATED + 300_000))
    // Read where the clock is 5 min ahead: the token's bornAt would make the job 5 min older.
    const resumed = new Cursor(decodeToken(encodeToken({ id: running.id, ...written.state })))
    const later = 50_000 + 300_000 + 10_000
    expect(resumed.ageMs(later)).toBe(610_000)
    resumed.saw(running, undefined, later, dates.ageOf(running, CREATED + 310_000))
    expect(resumed.ageMs(later)).toBe(310_000)
  })

  it('should stop reading Date for ten minutes once it disagrees with the jobs’ times', () => {
    const justCreated = jobBody({ created_at: at(0), updated_at: at(0) }) as unknown as Job
    const skewed = new ServerDates(clientClock)
    // The create took 200 ms, yet its Date says the job is an hour old: another clock.
    expect(skewed.ageOf(justCreated, CREATED + 3_600_000, { madeWithinMs: 200 })).toBeNull()
    expect(skewed.ageOf(running, CREATED + 300_000)).toBeNull()
    const behind = new ServerDates(clientClock)
    // A Date before the job's own updated_at: not on its clock either.
    expect(behind.ageOf(running, CREATED + 1_000)).toBeNull()
    expect(behind.ageOf(running, CREATED + 300_000)).toBeNull()
    const fine = new ServerDates(clientClock)
    expect(fine.ageOf(justCreated, CREATED + 1_000, { madeWithinMs: 200 })).toBe(1_000)
    // A create that took the server 6.5 s: its Date that far on is no disagreement.
    expect(fine.ageOf(justCreated, CREATED + 6_000, { madeWithinMs: 6_600 })).toBe(6_000)
    expect(fine.ageOf(running, CREATED + 300_000)).toBe(300_000)
    expect(fine.ageOf(running, undefined)).toBeUndefined()
    // One replica's clock off for a while: read again ten minutes after its last disagreement.
    clientNow = 0
    expect(behind.ageOf(running, CREATED + 1_000)).toBeNull()
    clientNow = 599_000
    expect(behind.ageOf(running, CREATED + 300_000)).toBeNull()
    clientNow = 600_000
    expect(behind.ageOf(running, CREATED + 300_000)).toBe(300_000)
    clientNow = 0
  })

  it('should stop reading a Date ahead of the jobs’ times, and take back the age it gave', () => {
    const dates = new ServerDates(clientClock)
    const cursor = new Cursor()
    // The jobs' times run an hour behind the server's Date (a timezone slip): an hour too old.
    const skew = 3_600_000
    const at60 = jobBody({ status: 'running', created_at: at(0), updated_at: at(60_000) })
    cursor.saw(
      at60 as unknown as Job,
      undefined,
      10_000,
      dates.ageOf(at60 as unknown as Job, CREATED + 60_000 + skew),
    )
    expect(cursor.ageMs(10_000)).toBe(60_000 + skew)
    // 2 s later the job has moved (updated_at 61.5 s): by the Date, an hour before the last answer.
    const moved = { ...at60, updated_at: at(61_500) } as unknown as Job
    const changedWithinMs = 2_000
    const dated = dates.ageOf(moved, CREATED + 62_000 + skew, { changedWithinMs })
    expect(dated).toBeNull()
    cursor.saw(moved, undefined, 12_000, dated)
    expect(cursor.ageMs(12_000)).toBe(61_500)
    // A move within the bound (and its slack: the answer before may have been a replica's, or
    // a cache's, behind) is no disagreement.
    const fine = new ServerDates(clientClock)
    expect(fine.ageOf(moved, CREATED + 75_000, { changedWithinMs })).toBe(75_000)
  })

  it('should keep the age of a job its own create dated when the Date is distrusted later', () => {
    const dates = new ServerDates(clientClock)
    const cursor = new Cursor()
    const justCreated = jobBody({ created_at: at(0), updated_at: at(0) }) as unknown as Job
    cursor.saw(
      justCreated,
      undefined,
      1_000,
      dates.ageOf(justCreated, CREATED, { madeWithinMs: 200 }),
    )
    cursor.bornBy(900)
    // A check whose Date agrees, then another job's answers disagree with the Date: this one's
    // age was not the Date's to give.
    cursor.saw(justCreated, undefined, 6_000, dates.ageOf(justCreated, CREATED + 5_000))
    cursor.saw(justCreated, undefined, 61_000, null)
    expect(cursor.ageMs(61_000)).toBe(60_100)
  })

  it('should take a Date in the job’s own second, a replayed create and odd times in stride', () => {
    const dates = new ServerDates(clientClock)
    // Created at .234 s; the create's Date, in whole seconds, reads 234 ms before it.
    const created = jobBody({
      created_at: '2026-01-01T00:00:01.234Z',
      updated_at: '2026-01-01T00:00:01.234Z',
    }) as unknown as Job
    expect(dates.ageOf(created, CREATED + 1_000, { madeWithinMs: 100 })).toBe(0)
    // An idempotent replay of a create a minute ago (no round trip to hold it to): the Date's age.
    expect(dates.ageOf(created, CREATED + 61_000, undefined)).toBe(59_766)
    // An updated_at that does not parse: the Date alone; a created_at that does not: nothing,
    // and the server's Date still read for other jobs.
    const noUpdate = { ...created, updated_at: 'soon' }
    expect(dates.ageOf(noUpdate, CREATED + 61_000)).toBe(59_766)
    expect(dates.ageOf({ ...created, created_at: 'then' }, CREATED + 61_000)).toBeUndefined()
    expect(dates.ageOf(created, CREATED + 62_000)).toBe(60_766)
    const cursor = new Cursor()
    cursor.saw(noUpdate, undefined, 5_000, dates.ageOf(noUpdate, CREATED + 61_000))
    expect(cursor.ageMs(5_000)).toBe(59_766)
  })
})
