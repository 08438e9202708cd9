import { describe, expect, it } from 'vitest'
import type { JobView } from '../src/simulator/lifecycle.js'
import { harness, problemOf } from './harness.js'
import { collect, parseSse } from './sse.js'

describe('GET /v1/jobs/:id/events', () => {
  it('should stream every change with growing ids, then end after the terminal status', async () => {
    const { clock, call, createJob } = harness()
    const { id } = await createJob({ simulate: { duration_ms: 5_000 } })
    const response = await call('GET', `/v1/jobs/${id}/events`)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toContain('text/event-stream')
    const body = collect(response)
    for (let i = 0; i < 20 && !body.state.done; i++) await clock.tickAsync(500)
    expect(body.state.done).toBe(true)
    const { events } = parseSse(body.state.text)
    const jobs = events.map((event) => JSON.parse(event.data) as JobView)
    expect(events.every((event) => event.event === 'status')).toBe(true)
    expect(jobs.map((job) => job.status)).toEqual([
      'pending',
      'running',
      'running',
      'running',
      'running',
      'running',
      'completed',
    ])
    expect(jobs.map((job) => job.progress)).toEqual([0, 0, 0.222, 0.444, 0.667, 0.889, 1])
    const ids = events.map((event) => Number(event.id))
    expect(ids).toEqual([...ids].sort((a, b) => a - b))
    expect(new Set(ids).size).toBe(ids.length)
  })

  it('should send nothing between status changes when the server reports no progress', async () => {
    const { clock, call, createJob } = harness({
      simulation: { hints: { mode: 'none', eta_noise: 0, progress: false } },
    })
    const { id } = await createJob({ simulate: { duration_ms: 5_000 } })
    const body = collect(await call('GET', `/v1/jobs/${id}/events`))
    for (let i = 0; i < 20 && !body.state.done; i++) await clock.tickAsync(500)
    const jobs = parseSse(body.state.text).events.map((event) => JSON.parse(event.data) as JobView)
    expect(jobs.map((job) => job.status)).toEqual(['pending', 'running', 'completed'])
  })

  it('should send the job as it is, then its end alone, with until=terminal', async () => {
    const { clock, call, createJob } = harness()
    const { id } = await createJob({ simulate: { duration_ms: 40_000 } })
    const body = collect(await call('GET', `/v1/jobs/${id}/events?until=terminal`))
    for (let i = 0; i < 100 && !body.state.done; i++) await clock.tickAsync(500)
    expect(body.state.done).toBe(true)
    const { events, comments } = parseSse(body.state.text)
    const jobs = events.map((event) => JSON.parse(event.data) as JobView)
    expect(jobs.map((job) => job.status)).toEqual(['pending', 'completed'])
    // No progress step in 40 s, and still a keep-alive every 15 s.
    expect(comments).toBe(2)
    const refused = await call('GET', `/v1/jobs/${id}/events?until=later`)
    expect(refused.status).toBe(400)
  })

  it('should resume after Last-Event-ID with only newer versions', async () => {
    const { clock, call, createJob } = harness()
    const { id } = await createJob({ simulate: { duration_ms: 5_000 } })
    clock.advance(3_200)
    const response = await call('GET', `/v1/jobs/${id}/events`, {
      headers: { 'last-event-id': '3' },
    })
    const body = collect(response)
    for (let i = 0; i < 20 && !body.state.done; i++) await clock.tickAsync(500)
    const ids = parseSse(body.state.text).events.map((event) => Number(event.id))
    expect(ids[0]).toBe(4)
    expect(Math.min(...ids)).toBeGreaterThan(3)
  })

  it('should tell a reconnect after the end with nothing newer to stop: 204 No Content', async () => {
    const { clock, call, createJob } = harness()
    const { id } = await createJob({ simulate: { duration_ms: 2_000 } })
    clock.advance(3_000)
    const stream = await call('GET', `/v1/jobs/${id}/events`)
    const text = await stream.text()
    // A stream starts with how long to wait before reconnecting.
    expect(text.startsWith('retry: 3000\n\n')).toBe(true)
    const first = parseSse(text).events
    expect(first).toHaveLength(1)
    const again = await call('GET', `/v1/jobs/${id}/events`, {
      headers: { 'last-event-id': first[0]?.id ?? '' },
    })
    expect(again.status).toBe(204)
    expect(await again.text()).toBe('')
    // An older id still gets the terminal event.
    const older = await call('GET', `/v1/jobs/${id}/events`, { headers: { 'last-event-id': '1' } })
    expect(older.status).toBe(200)
    expect(parseSse(await older.text()).events.map((e) => e.id)).toEqual([first[0]?.id])
  })

  it('should start from the job as it is for an id it never reached, or an empty one', async () => {
    const { clock, call, createJob } = harness()
    const { id } = await createJob({ simulate: { duration_ms: 2_000 } })
    clock.advance(3_000)
    for (const lastEventId of ['500', '12345678901234567890123', '']) {
      const response = await call('GET', `/v1/jobs/${id}/events`, {
        headers: { 'last-event-id': lastEventId },
      })
      expect(response.status, lastEventId).toBe(200)
      const jobs = parseSse(await response.text()).events.map((e) => JSON.parse(e.data) as JobView)
      expect(jobs.map((job) => job.status)).toEqual(['completed'])
    }
  })

  it('should send a keep-alive comment while nothing changes', async () => {
    const { clock, call, createJob } = harness({ simulation: { progress_interval_ms: 60_000 } })
    const { id } = await createJob({ simulate: { duration_ms: 3_600_000 } })
    clock.advance(400_000)
    const body = collect(await call('GET', `/v1/jobs/${id}/events`))
    // Quiet at 415 s, a progress step at 420 s, quiet again 15 s later at 435 s.
    await clock.tickAsync(36_000)
    const { events, comments } = parseSse(body.state.text)
    expect(comments).toBe(2)
    expect(events).toHaveLength(2)
    expect(body.state.done).toBe(false)
    await body.cancel()
  })

  it('should end with a canceled event when the job is canceled mid-stream', async () => {
    const { clock, call, createJob } = harness()
    const { id } = await createJob({ simulate: { duration_ms: 60_000 } })
    const body = collect(await call('GET', `/v1/jobs/${id}/events`))
    await clock.tickAsync(2_000)
    await call('POST', `/v1/jobs/${id}/cancel`)
    await clock.tickAsync(0)
    await body.finished
    const statuses = parseSse(body.state.text).events.map(
      (event) => (JSON.parse(event.data) as JobView).status,
    )
    expect(statuses.at(-1)).toBe('canceled')
  })

  it('should answer 404 problem+json for an unknown job and 400 for a bad Last-Event-ID', async () => {
    const { call, createJob } = harness()
    const missing = await call('GET', '/v1/jobs/job_nope/events')
    expect(missing.status).toBe(404)
    await problemOf(missing)
    const { id } = await createJob()
    const bad = await call('GET', `/v1/jobs/${id}/events`, { headers: { 'last-event-id': 'abc' } })
    expect(bad.status).toBe(400)
    expect(await problemOf(bad)).toMatchObject({ field: '/last-event-id' })
  })
})
