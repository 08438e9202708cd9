import { describe, expect, it } from 'vitest'
import { fakeFetch, jobBody, json } from '../../test/fake-fetch.js'
import { drive, virtualClock } from '../../test/virtual-time.js'
import { createClient } from '../client.js'
import { fixedInterval } from '../polling/strategy.js'
import { RoundTrips } from './round-trips.js'

describe('RoundTrips', () => {
  it('should take half the shortest of the last eight round trips, at most 500 ms', () => {
    const trips = new RoundTrips()
    expect(trips.outboundMs()).toBe(0)
    for (const ms of [300, 80, 120]) trips.add(ms)
    expect(trips.outboundMs()).toBe(40)
    // The 80 ms falls out after eight more.
    for (let i = 0; i < 8; i++) trips.add(200)
    expect(trips.outboundMs()).toBe(100)
    for (let i = 0; i < 8; i++) trips.add(5_000)
    expect(trips.outboundMs()).toBe(500)
  })
})

/** A server 200 ms away (there and back): the job ends at the fourth check. */
function setup(headers: Record<string, string> = {}) {
  const { manual, clock } = virtualClock()
  const start = manual.now()
  const sent: number[] = []
  const fetch = fakeFetch(async (call) => {
    if (call.method === 'GET') sent.push(manual.now() - start)
    await clock.sleep(200)
    const created = call.method === 'POST'
    const status = created ? 'pending' : sent.length >= 4 ? 'completed' : 'running'
    return json(jobBody({ id: 'job_far', status, eta_ms: null }), created ? 202 : 200, headers)
  })
  const client = createClient({
    baseUrl: 'http://api.test',
    fetch,
    clock,
    transport: 'poll',
    polling: fixedInterval(1_000),
  })
  const params = { video_url: 'https://e.com/a.mp4', target_language: 'es' }
  return { wait: () => drive(manual, client.jobs.createAndWait(params), 100, 200), sent }
}

describe('checks sent early by the way there', () => {
  it('should send each check half a round trip before it is planned', async () => {
    const { wait, sent } = setup()
    await wait()
    // Planned a second after each answer, each 100 ms early: a check every 1.1 s, not 1.2 s.
    expect(sent).toEqual([1_100, 2_200, 3_300, 4_400])
  })

  it('should never send before the server’s Retry-After', async () => {
    const { wait, sent } = setup({ 'retry-after': '1' })
    await wait()
    expect(sent).toEqual([1_200, 2_400, 3_600, 4_800])
  })

  it('should not send early after a failed check (it may have taken no time)', async () => {
    const { manual, clock } = virtualClock()
    const start = manual.now()
    const sent: number[] = []
    const fetch = fakeFetch(async (call) => {
      if (call.method === 'POST') {
        await clock.sleep(200)
        return json(jobBody({ id: 'job_far', status: 'pending', eta_ms: null }), 202)
      }
      sent.push(manual.now() - start)
      // The first check fails at once; the next finds the job done.
      if (sent.length === 1) throw new TypeError('fetch failed')
      return json(jobBody({ id: 'job_far', status: 'completed', eta_ms: null }))
    })
    const client = createClient({
      baseUrl: 'http://api.test',
      fetch,
      clock,
      transport: 'poll',
      retry: false,
      polling: fixedInterval(1_000),
    })
    const params = { video_url: 'https://e.com/a.mp4', target_language: 'es' }
    await drive(manual, client.jobs.createAndWait(params), 100, 100)
    // 100 ms early after the create's answer; a full second after the failure.
    expect(sent).toEqual([1_100, 2_100])
  })
})
