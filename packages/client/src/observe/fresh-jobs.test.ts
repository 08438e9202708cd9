import { describe, expect, it } from 'vitest'
import { FRESH_MS, FreshJobs } from './fresh-jobs.js'

describe('FreshJobs', () => {
  it('should tell how long ago a job was made, within FRESH_MS only', () => {
    const fresh = new FreshJobs()
    fresh.made('job_1', 1_000)
    expect(fresh.ageOf('job_1', 1_500)).toBe(500)
    expect(fresh.ageOf('job_1', 1_000 + FRESH_MS)).toBeUndefined()
    expect(fresh.ageOf('job_2', 1_500)).toBeUndefined()
  })

  it('should forget jobs past FRESH_MS, and the oldest past 10,000', () => {
    const fresh = new FreshJobs()
    fresh.made('old', 0)
    fresh.made('new', FRESH_MS)
    // Past FRESH_MS: forgotten.
    expect(fresh.ageOf('old', FRESH_MS)).toBeUndefined()
    for (let i = 0; i < 10_001; i++) fresh.made(`job_${i}`, FRESH_MS + 1)
    expect(fresh.ageOf('job_0', FRESH_MS + 2)).toBeUndefined()
    expect(fresh.ageOf('job_1', FRESH_MS + 2)).toBe(1)
    expect(fresh.ageOf('new', FRESH_MS + 2)).toBeUndefined()
  })
})
