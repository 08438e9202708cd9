import { describe, expect, it } from 'vitest'
import type { FaultKind } from '../src/simulator/simulator.js'
import { harness, problemOf, track } from './harness.js'

/** A server where every API request meets `kind`, with one job created before faults are on. */
async function withFault(kind: FaultKind, extra: Record<string, number> = {}) {
  const h = harness()
  const job = await h.createJob()
  const response = await h.admin('PUT', '/v1/simulation', {
    faults: { [`rate_${kind}`]: 1, ...extra },
  })
  expect(response.status).toBe(200)
  return { ...h, id: job.id }
}

describe('fault injection', () => {
  it.each([
    ['500', 500, null],
    ['503', 503, '7'],
    ['429', 429, '7'],
  ] as const)(
    'should answer %s as problem+json with its Retry-After',
    async (kind, status, retryAfter) => {
      const { call, id } = await withFault(kind, { retry_after_s: 7 })
      const response = await call('GET', `/v1/jobs/${id}`)
      expect(response.status).toBe(status)
      expect(response.headers.get('retry-after')).toBe(retryAfter)
      expect((await problemOf(response)).type).toContain('injected-fault')
    },
  )

  it('should answer a slow response only after slow_ms', async () => {
    const { clock, call, id } = await withFault('slow', { slow_ms: 4_000 })
    const poll = track(call('GET', `/v1/jobs/${id}`))
    await clock.tickAsync(3_999)
    expect(poll.done).toBe(false)
    await clock.tickAsync(1)
    expect((await poll.response).status).toBe(200)
  })

  it('should hang until the request timeout, then answer 504', async () => {
    const h = harness({ requestTimeoutMs: 20_000 })
    const { id } = await h.createJob()
    await h.admin('PUT', '/v1/simulation', { faults: { rate_hang: 1 } })
    const poll = track(h.call('GET', `/v1/jobs/${id}`))
    await h.clock.tickAsync(19_999)
    expect(poll.done).toBe(false)
    await h.clock.tickAsync(1)
    const response = await poll.response
    expect(response.status).toBe(504)
    await problemOf(response)
  })

  it('should let a hung request go when the client aborts, leaving no timer behind', async () => {
    const { clock, call, id } = await withFault('hang')
    const before = clock.pending()
    const controller = new AbortController()
    const pending = call('GET', `/v1/jobs/${id}`, { signal: controller.signal }).catch(
      (e: unknown) => e,
    )
    await clock.tickAsync(1_000)
    expect(clock.pending()).toBe(before + 1)
    controller.abort()
    await pending
    await clock.tickAsync(0)
    expect(clock.pending()).toBe(before)
  })

  it('should cut the body off mid-way on a reset', async () => {
    const { call, id } = await withFault('reset')
    const response = await call('GET', `/v1/jobs/${id}`)
    expect(response.status).toBe(200)
    await expect(response.text()).rejects.toThrow(/reset/)
  })

  it('should send truncated JSON on malformed', async () => {
    const { call, id } = await withFault('malformed')
    const response = await call('GET', `/v1/jobs/${id}`)
    expect(response.headers.get('content-type')).toBe('application/json')
    const text = await response.text()
    expect(text.startsWith('{"id":')).toBe(true)
    expect(() => JSON.parse(text)).toThrow()
  })

  it('should send HTML on wrong_content_type', async () => {
    const { call, id } = await withFault('wrong_content_type')
    const response = await call('GET', `/v1/jobs/${id}`)
    expect(response.headers.get('content-type')).toContain('text/html')
    expect(await response.text()).toContain('<!doctype html>')
  })

  it.each(['malformed', 'wrong_content_type'] as const)(
    'should leave a 304 as it is under %s (it has no body to break)',
    async (kind) => {
      const h = harness()
      const { id } = await h.createJob()
      const etag = (await h.call('GET', `/v1/jobs/${id}`)).headers.get('etag') ?? ''
      await h.admin('PUT', '/v1/simulation', { faults: { [`rate_${kind}`]: 1 } })
      const response = await h.call('GET', `/v1/jobs/${id}`, { headers: { 'if-none-match': etag } })
      expect(response.status).toBe(304)
      expect(response.headers.get('etag')).toBe(etag)
      expect(response.headers.get('content-type')).toBeNull()
    },
  )

  it('should add latency between latency_ms.min and max', async () => {
    const h = harness({ simulation: { latency_ms: { min: 200, max: 300 } } })
    const poll = track(h.call('GET', '/v1/jobs/job_x'))
    await h.clock.tickAsync(199)
    expect(poll.done).toBe(false)
    await h.clock.tickAsync(101)
    // Answered by the time 300 ms have passed, without waiting for the answer any longer.
    expect(poll.done).toBe(true)
    expect((await poll.response).status).toBe(404)
  })

  it('should inject faults at roughly the configured rate, reproducibly for a seed', async () => {
    const statuses = async () => {
      const h = harness()
      const { id } = await h.createJob()
      await h.admin('PUT', '/v1/simulation', { faults: { rate_500: 0.2, rate_503: 0.1 } })
      const out: number[] = []
      for (let i = 0; i < 400; i++) out.push((await h.call('GET', `/v1/jobs/${id}`)).status)
      return out
    }
    const first = await statuses()
    expect(await statuses()).toEqual(first)
    const share = (status: number) => first.filter((s) => s === status).length / first.length
    expect(share(500)).toBeGreaterThan(0.12)
    expect(share(500)).toBeLessThan(0.28)
    expect(share(503)).toBeGreaterThan(0.04)
    expect(share(503)).toBeLessThan(0.16)
  })

  it('should leave the admin and health routes alone', async () => {
    const { call, admin } = await withFault('500')
    expect((await call('GET', '/healthz')).status).toBe(200)
    expect((await admin('GET', '/v1/simulation')).status).toBe(200)
  })
})
