import { describe, expect, it } from 'vitest'
import { jobBody } from '../../test/fake-fetch.js'
import type { Job } from '../types.js'
import { estimateProgress } from './estimate.js'

const job = (overrides: Record<string, unknown>) => jobBody(overrides) as unknown as Job

describe('estimateProgress', () => {
  it('should spread the rest of the work over the ETA, and stop short of 1 past it', () => {
    const seen = job({ status: 'running', progress: 0.5, eta_ms: 10_000 })
    const state = { checks: 1, delays: 0, job: seen, seenAt: 0 }
    expect(estimateProgress(state, 0)).toMatchObject({ progress: 0.5, etaMs: 10_000 })
    expect(estimateProgress(state, 5_000)).toMatchObject({ progress: 0.75, etaMs: 5_000 })
    expect(estimateProgress(state, 60_000)).toMatchObject({ progress: 0.99, etaMs: 0 })
  })

  it('should go at the pace progress moved without an ETA, and not at all without either', () => {
    const seen = job({ status: 'running', progress: 0.2, eta_ms: null })
    const paced = { checks: 2, delays: 1, job: seen, seenAt: 0, progressRate: 0.1 / 1_000 }
    const estimate = estimateProgress(paced, 2_000)
    expect(estimate.progress).toBeCloseTo(0.4)
    expect(estimate.etaMs).toBeCloseTo(6_000)
    const blind = estimateProgress({ checks: 1, delays: 0, job: seen, seenAt: 0 }, 2_000)
    expect(blind).toMatchObject({ progress: 0.2, etaMs: undefined })
  })

  it('should report a finished job as the server did, and nothing before the first answer', () => {
    const done = job({ status: 'completed', progress: 1, eta_ms: 0 })
    expect(estimateProgress({ checks: 1, delays: 0, job: done, seenAt: 0 }, 9_000)).toMatchObject({
      progress: 1,
      etaMs: 0,
    })
    expect(estimateProgress({ checks: 0, delays: 0 }, 0)).toMatchObject({
      progress: 0,
      job: undefined,
    })
  })

  it('should never show less than the server reported', () => {
    const seen = job({ status: 'running', progress: 0.995, eta_ms: 100 })
    expect(estimateProgress({ checks: 1, delays: 0, job: seen, seenAt: 0 }, 50).progress).toBe(
      0.995,
    )
  })
})
