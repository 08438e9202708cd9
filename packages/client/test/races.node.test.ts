/**
 * Races, with fast-check's scheduler (reliability/races.ts): answers, an abort, deadlines and a
 * watch on one shared job, in every order it draws.
 */
import { describe, expect, it } from 'vitest'
import { runRaces } from '../reliability/races.js'

describe('races on one shared job', () => {
  it('should settle each wait once and send nothing once every waiter is gone, in any order', async () => {
    const report = await runRaces(100)
    expect(report.example).toBeUndefined()
    expect(report.broken).toBe(0)
  }, 60_000)

  it('should catch requests that go on after every waiter left (a test of the test)', async () => {
    const report = await runRaces(10, { resending: true })
    expect(report.broken).toBe(10)
    expect(report.example).toMatch(/requests went on after every waiter left/)
  }, 60_000)
})
