import { describe, expect, it } from 'vitest'
import { type JobRecord, viewJob } from './lifecycle.js'

const T0 = Date.UTC(2026, 0, 1)

function record(overrides: Partial<JobRecord> = {}): JobRecord {
  return {
    id: 'job_1',
    createdAt: T0,
    durationMs: 10_000,
    outcome: 'completed',
    video_url: 'https://example.com/a.mp4',
    target_language: 'es',
    title: null,
    ...overrides,
  }
}

describe('viewJob', () => {
  it('should be pending while queued, then running, then completed', () => {
    const job = record()
    expect(viewJob(job, T0)).toMatchObject({ status: 'pending', progress: 0, eta_ms: 10_000 })
    expect(viewJob(job, T0 + 999)).toMatchObject({ status: 'pending', eta_ms: 9_001 })
    expect(viewJob(job, T0 + 1_000)).toMatchObject({ status: 'running', progress: 0 })
    expect(viewJob(job, T0 + 5_500)).toMatchObject({
      status: 'running',
      progress: 0.5,
      eta_ms: 4_500,
    })
    expect(viewJob(job, T0 + 10_000)).toMatchObject({
      status: 'completed',
      progress: 1,
      eta_ms: null,
      error: null,
      result: { url: expect.stringContaining('job_1') },
    })
  })

  it('should end in error with a code and message when the outcome is error', () => {
    const view = viewJob(record({ outcome: 'error' }), T0 + 60_000)
    expect(view.status).toBe('error')
    expect(view.result).toBeNull()
    expect(view.error).toEqual({ code: 'translation_failed', message: expect.any(String) })
  })

  it('should stamp updated_at with the moment of the last change', () => {
    const job = record()
    expect(viewJob(job, T0 + 500).updated_at).toBe(new Date(T0).toISOString())
    expect(viewJob(job, T0 + 3_000).updated_at).toBe(new Date(T0 + 1_000).toISOString())
    expect(viewJob(job, T0 + 99_000).updated_at).toBe(new Date(T0 + 10_000).toISOString())
  })

  it('should never move backwards as time passes', () => {
    const order = ['pending', 'running', 'completed']
    let lastRank = 0
    let lastProgress = 0
    for (let t = 0; t <= 12_000; t += 250) {
      const view = viewJob(record(), T0 + t)
      const rank = order.indexOf(view.status)
      expect(rank).toBeGreaterThanOrEqual(lastRank)
      expect(view.progress).toBeGreaterThanOrEqual(lastProgress)
      lastRank = rank
      lastProgress = view.progress
    }
    expect(lastRank).toBe(2)
  })

  it('should finish at once a job of zero duration', () => {
    expect(viewJob(record({ durationMs: 0 }), T0).status).toBe('completed')
  })
})
