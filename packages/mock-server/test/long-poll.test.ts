import { describe, expect, it } from 'vitest'
import { harness, problemOf, track } from './harness.js'

describe('long-poll GET /v1/jobs/:id?wait=N', () => {
  it('should hold until the status changes, then answer at once', async () => {
    const { clock, call, createJob } = harness()
    const { id } = await createJob()
    clock.advance(1_500)
    const poll = track(call('GET', `/v1/jobs/${id}?wait=30`))
    await clock.tickAsync(8_000)
    expect(poll.done).toBe(false)
    await clock.tickAsync(500)
    expect(poll.done).toBe(true)
    const response = await poll.response
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({
      status: 'completed',
      updated_at: '2026-01-01T00:00:10.000Z',
    })
  })

  it('should not end on a progress step, only on a status change', async () => {
    const { clock, call, createJob } = harness()
    const { id } = await createJob()
    const poll = track(call('GET', `/v1/jobs/${id}?wait=30`))
    await clock.tickAsync(999)
    expect(poll.done).toBe(false)
    await clock.tickAsync(1)
    expect(await (await poll.response).json()).toMatchObject({ status: 'running', progress: 0 })
  })

  it('should hold through every status but the end with until=terminal, stale ETag or not', async () => {
    const { clock, call, createJob, getJob } = harness()
    const { id } = await createJob()
    const stale = (await call('GET', `/v1/jobs/${id}`)).headers.get('etag') ?? ''
    clock.advance(2_500)
    // Pending -> running and two progress steps since that ETag: still held until the end.
    expect((await getJob(id)).status).toBe('running')
    const poll = track(
      call('GET', `/v1/jobs/${id}?wait=30&until=terminal`, { headers: { 'if-none-match': stale } }),
    )
    await clock.tickAsync(7_499)
    expect(poll.done).toBe(false)
    await clock.tickAsync(1)
    expect(await (await poll.response).json()).toMatchObject({ status: 'completed' })
  })

  it('should hold from pending to the end in one request with until=terminal', async () => {
    const { clock, call, createJob } = harness()
    const { id } = await createJob()
    const poll = track(call('GET', `/v1/jobs/${id}?wait=30&until=terminal`))
    await clock.tickAsync(9_999)
    expect(poll.done).toBe(false)
    await clock.tickAsync(1)
    expect(await (await poll.response).json()).toMatchObject({ status: 'completed' })
  })

  it('should refuse an until it does not know', async () => {
    const { call, createJob } = harness()
    const { id } = await createJob()
    const response = await call('GET', `/v1/jobs/${id}?wait=5&until=soon`)
    expect(response.status).toBe(400)
    expect(await problemOf(response)).toMatchObject({ field: '/until' })
  })

  it('should answer with the current job when the wait runs out', async () => {
    const { clock, call, createJob } = harness()
    const { id } = await createJob({ simulate: { duration_ms: 600_000 } })
    clock.advance(60_000)
    const poll = track(call('GET', `/v1/jobs/${id}?wait=5`))
    await clock.tickAsync(4_999)
    expect(poll.done).toBe(false)
    await clock.tickAsync(1)
    expect(await (await poll.response).json()).toMatchObject({ status: 'running' })
  })

  it('should answer at once for a terminal job', async () => {
    const { clock, call, createJob } = harness()
    const { id } = await createJob()
    clock.advance(10_000)
    const response = await call('GET', `/v1/jobs/${id}?wait=60`)
    expect(await response.json()).toMatchObject({ status: 'completed' })
  })

  it('should honour Prefer: wait=N and say so in Preference-Applied', async () => {
    const { clock, call, createJob } = harness()
    const { id } = await createJob()
    const poll = track(
      call('GET', `/v1/jobs/${id}`, { headers: { prefer: 'respond-async, wait=3' } }),
    )
    await clock.tickAsync(999)
    expect(poll.done).toBe(false)
    await clock.tickAsync(1)
    const response = await poll.response
    expect(response.headers.get('preference-applied')).toBe('wait=3')
    expect(await response.json()).toMatchObject({ status: 'running' })
  })

  it('should hold a longer Prefer: wait as long as it holds any (60 s)', async () => {
    const { clock, call, createJob } = harness()
    const { id } = await createJob({ simulate: { duration_ms: 600_000 } })
    const poll = track(call('GET', `/v1/jobs/${id}`, { headers: { prefer: 'wait=1000000' } }))
    await clock.tickAsync(59_999)
    expect(poll.done).toBe(false)
    await clock.tickAsync(1)
    expect((await poll.response).headers.get('preference-applied')).toBe('wait=60')
  })

  it('should ignore a Prefer: wait it cannot read, as RFC 7240 says', async () => {
    const { call, createJob } = harness()
    const { id } = await createJob()
    for (const prefer of ['wait=1e309', 'wait=3s', 'wait="3', 'wait=-3', 'wait=soon']) {
      // Answered at once, as a request without the preference would be.
      const response = await call('GET', `/v1/jobs/${id}`, { headers: { prefer } })
      expect(response.status, prefer).toBe(200)
      expect(response.headers.get('preference-applied'), prefer).toBeNull()
    }
  })

  it('should wake at once when the job is canceled', async () => {
    const { clock, call, createJob } = harness()
    const { id } = await createJob()
    clock.advance(2_000)
    const poll = track(call('GET', `/v1/jobs/${id}?wait=60`))
    await clock.tickAsync(100)
    expect(poll.done).toBe(false)
    expect((await call('POST', `/v1/jobs/${id}/cancel`)).status).toBe(202)
    await clock.tickAsync(0)
    expect(poll.done).toBe(true)
    expect(await (await poll.response).json()).toMatchObject({ status: 'canceled' })
  })

  it('should answer at once when the If-None-Match ETag is already stale', async () => {
    const { clock, call, createJob } = harness()
    const { id } = await createJob()
    const first = await call('GET', `/v1/jobs/${id}`)
    clock.advance(1_000)
    const response = await call('GET', `/v1/jobs/${id}?wait=30`, {
      headers: { 'if-none-match': first.headers.get('etag') ?? '' },
    })
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({ status: 'running' })
  })

  it('should answer 304 when the wait ran out and the ETag still matches', async () => {
    const { clock, call, createJob } = harness({ simulation: { progress_interval_ms: 60_000 } })
    const { id } = await createJob({ simulate: { duration_ms: 600_000 } })
    clock.advance(100_000)
    const first = await call('GET', `/v1/jobs/${id}`)
    const poll = track(
      call('GET', `/v1/jobs/${id}?wait=1`, {
        headers: { 'if-none-match': first.headers.get('etag') ?? '' },
      }),
    )
    await clock.tickAsync(999)
    expect(poll.done).toBe(false)
    await clock.tickAsync(1)
    expect((await poll.response).status).toBe(304)
  })

  it('should release its timer when the client goes away', async () => {
    const { clock, call, createJob } = harness()
    const { id } = await createJob({ simulate: { duration_ms: 600_000 } })
    clock.advance(100_000)
    const before = clock.pending()
    const controller = new AbortController()
    const poll = call('GET', `/v1/jobs/${id}?wait=60`, { signal: controller.signal }).catch(
      (e: unknown) => e,
    )
    await clock.tickAsync(0)
    expect(clock.pending()).toBe(before + 1)
    controller.abort()
    await poll
    await clock.tickAsync(0)
    expect(clock.pending()).toBe(before)
  })

  it.each(['61', '-1', 'soon', '1.5', '', '%20', '0x10', '1e1'])(
    'should reject ?wait=%s with 400',
    async (wait) => {
      const { call, createJob } = harness()
      const { id } = await createJob()
      const response = await call('GET', `/v1/jobs/${id}?wait=${wait}`)
      expect(response.status).toBe(400)
      expect(await problemOf(response)).toMatchObject({ field: '/wait', in: 'query' })
    },
  )
})
