/**
 * Page manners in Node, in a fake page (the browser tests cover the same in Chromium): what a
 * page shown again or back online keeps of the schedule, and what it opens again.
 */
import { describe, expect, it } from 'vitest'
import {
  fakeFetch,
  hangUntilAborted,
  jobBody,
  json,
  problemResponse,
} from '../../test/fake-fetch.js'
import { fakePage, inPage } from '../../test/fake-page.js'
import { virtualClock } from '../../test/virtual-time.js'
import { createClient } from '../client.js'
import { fixedInterval } from '../polling/strategy.js'

describe('a page shown again', () => {
  it('should keep a refusal’s Retry-After for a held request (not ask again at once)', async () => {
    const { manual, clock } = virtualClock()
    const start = manual.now()
    const sent: number[] = []
    const fetch = fakeFetch(() => {
      sent.push(manual.now() - start)
      if (sent.length > 1) return json(jobBody({ id: 'job_1', status: 'completed' }))
      const busy = problemResponse(503, 'busy')
      busy.headers.set('retry-after', '30')
      return busy
    })
    const page = fakePage(false)
    const options = { baseUrl: 'http://api.test', fetch, clock, retry: false } as const
    const client = inPage(page, () => createClient({ ...options, transport: 'long-poll' }))
    const waiting = client.jobs.wait('job_1')
    await manual.tickAsync(2_000)
    page.setVisible(true)
    await manual.tickAsync(27_000)
    expect(sent).toEqual([0])
    await manual.tickAsync(1_000)
    await expect(waiting).resolves.toMatchObject({ status: 'completed' })
    // Asked again when the server said, not when the page was shown (2 s).
    expect(sent).toEqual([0, 30_000])
  })

  it('should keep a waitAll’s checks on their grid no sooner than Retry-After', async () => {
    const { manual, clock } = virtualClock(0)
    const sent: number[] = []
    // No batch endpoint: each job asked alone, each answer saying when to ask again.
    const fetch = fakeFetch((call) => {
      if (call.url.includes('?ids=')) return problemResponse(404, 'no such route')
      if (call.url.endsWith('/job_a')) sent.push(manual.now())
      const id = call.url.split('/').pop() as string
      const status = sent.length >= 3 ? 'completed' : 'running'
      return json(jobBody({ id, status, eta_ms: null }), 200, { 'retry-after': '3' })
    })
    const page = fakePage(false)
    const client = inPage(page, () =>
      createClient({ baseUrl: 'http://api.test', fetch, clock, transport: 'poll' }),
    )
    const all = client.jobs.waitAll(['job_a', 'job_b'], { polling: fixedInterval(3_000) })
    await manual.tickAsync(1_000)
    page.setVisible(true)
    for (let i = 0; i < 100 && sent.length < 3; i++) await manual.tickAsync(100)
    await all
    expect(sent).toEqual([0, 3_000, 6_000])
  })
})

describe('a page back online', () => {
  it('should open again at once a held request that was out while the network was away', async () => {
    const { manual, clock } = virtualClock()
    // Held requests never answer: their connection died without a word.
    const fetch = fakeFetch(hangUntilAborted)
    const page = fakePage(true)
    const client = inPage(page, () =>
      createClient({ baseUrl: 'http://api.test', fetch, clock, transport: 'long-poll' }),
    )
    const controller = new AbortController()
    const waiting = client.jobs.wait('job_1', { signal: controller.signal }).catch(() => {})
    await manual.tickAsync(5_000)
    expect(fetch.calls).toHaveLength(1)
    page.online()
    await manual.tickAsync(0)
    expect(fetch.calls[0]?.signal?.aborted).toBe(true)
    expect(fetch.calls).toHaveLength(2)
    controller.abort()
    await waiting
  })
})
