import { describe, expect, it } from 'vitest'
import { type JobRecord, retryAfterS, snapshot } from './lifecycle.js'

const T0 = Date.UTC(2026, 0, 1)
const EXACT = { mode: 'eta', eta_noise: 0 } as const

function record(overrides: Partial<JobRecord> = {}): JobRecord {
  return {
    id: 'job_1',
    tenant: 't',
    createdAt: T0,
    durationMs: 10_000,
    outcome: 'completed',
    seed: 1,
    intervalMs: 1_000,
    canceledAt: null,
    video_url: 'https://example.com/a.mp4',
    target_language: 'es',
    title: null,
    callback_url: null,
    ...overrides,
  }
}

describe('snapshot', () => {
  it('should say when the representation and the status change next', () => {
    const job = record()
    expect(snapshot(job, T0, EXACT)).toMatchObject({
      version: 1,
      nextChangeAt: T0 + 1_000,
      nextStatusChangeAt: T0 + 1_000,
    })
    expect(snapshot(job, T0 + 2_500, EXACT)).toMatchObject({
      version: 3,
      nextChangeAt: T0 + 3_000,
      nextStatusChangeAt: T0 + 10_000,
    })
    expect(snapshot(job, T0 + 9_999, EXACT)).toMatchObject({
      version: 10,
      nextChangeAt: T0 + 10_000,
    })
    expect(snapshot(job, T0 + 10_000, EXACT)).toMatchObject({
      version: 12,
      nextChangeAt: null,
      nextStatusChangeAt: null,
      endsAt: null,
    })
  })

  it('should keep eta_ms as of updated_at when progress is off: the view stands still while running', () => {
    const silent = { mode: 'eta', eta_noise: 0.2, progress: false } as const
    const job = record()
    const views = [2_500, 5_000, 8_000].map((t) => snapshot(job, T0 + t, silent).view)
    expect(views.every((v) => v.status === 'running')).toBe(true)
    expect(new Set(views.map((v) => `${v.updated_at} ${v.eta_ms}`)).size).toBe(1)
    // So are its version and its next change: the job's end.
    const snapshots = [2_500, 5_000, 8_000].map((t) => snapshot(job, T0 + t, silent))
    expect(new Set(snapshots.map((s) => s.version)).size).toBe(1)
    expect(snapshots.every((s) => s.nextChangeAt === T0 + 10_000)).toBe(true)
    expect(snapshot(job, T0 + 10_000, silent).version).toBeGreaterThan(snapshots[0]?.version ?? 0)
    // The ETA counts from updated_at, within the noise of the job's true end.
    const [first] = views
    const end = Date.parse(first?.updated_at ?? '') + (first?.eta_ms ?? 0)
    expect(Math.abs(end - (T0 + 10_000))).toBeLessThanOrEqual(0.2 * 10_000)
  })

  it('should grow the version with every change and never move status backwards', () => {
    const order = ['pending', 'running', 'completed']
    let last = { rank: 0, progress: 0, version: 0 }
    for (let t = 0; t <= 12_000; t += 250) {
      const { view, version } = snapshot(record(), T0 + t, EXACT)
      const rank = order.indexOf(view.status)
      expect(rank).toBeGreaterThanOrEqual(last.rank)
      expect(view.progress).toBeGreaterThanOrEqual(last.progress)
      expect(version).toBeGreaterThanOrEqual(last.version)
      last = { rank, progress: view.progress, version }
    }
    expect(last.rank).toBe(2)
  })

  it('should freeze a canceled job at its cancel time, one version past the last', () => {
    const job = record({ canceledAt: T0 + 4_200 })
    const before = snapshot(record(), T0 + 4_200, EXACT)
    const after = snapshot(job, T0 + 50_000, EXACT)
    expect(after.view).toMatchObject({
      status: 'canceled',
      progress: before.view.progress,
      eta_ms: null,
      updated_at: new Date(T0 + 4_200).toISOString(),
    })
    expect(after.version).toBe(before.version + 1)
  })

  it('should leave a failed job at the progress it had made, and only a completed one at 1', () => {
    const before = snapshot(record(), T0 + 9_999, EXACT).view.progress
    expect(before).toBeGreaterThan(0.5)
    expect(before).toBeLessThan(1)
    expect(snapshot(record({ outcome: 'error' }), T0 + 10_000, EXACT).view).toMatchObject({
      status: 'error',
      progress: before,
    })
    expect(snapshot(record(), T0 + 10_000, EXACT).view.progress).toBe(1)
    const silent = { ...EXACT, progress: false }
    expect(snapshot(record({ outcome: 'error' }), T0 + 10_000, silent).view.progress).toBe(0)
    expect(snapshot(record(), T0 + 10_000, silent).view.progress).toBe(1)
  })

  it('should ignore a cancel time after the job finished', () => {
    expect(snapshot(record({ canceledAt: T0 + 20_000 }), T0 + 30_000, EXACT).view.status).toBe(
      'completed',
    )
  })

  it('should finish at once a job of zero duration', () => {
    expect(snapshot(record({ durationMs: 0 }), T0, EXACT).view.status).toBe('completed')
  })

  it('should clamp Retry-After to [1, 60] seconds', () => {
    expect(retryAfterS(snapshot(record({ durationMs: 600_000 }), T0, EXACT), T0)).toBe(60)
    expect(retryAfterS(snapshot(record(), T0 + 9_500, EXACT), T0 + 9_500)).toBe(1)
  })

  it('should count Retry-After from the answer, not from the job’s last change', () => {
    // Without progress, a running job's representation stands still from its start on.
    const silent = { mode: 'retry-after', eta_noise: 0, progress: false } as const
    const job = record({ durationMs: 300_000 })
    const asked = [100_000, 250_000, 290_000, 299_000].map((t) =>
      retryAfterS(snapshot(job, T0 + t, silent), T0 + t),
    )
    expect(asked).toEqual([60, 50, 10, 1])
  })
})
