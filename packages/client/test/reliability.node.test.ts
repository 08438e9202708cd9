/**
 * The reliability suite's fast profile (the long one: `pnpm test:reliability`, which writes
 * docs/reliability.md): chaos through the real client and server in virtual time, and a
 * deliberately broken client it must catch.
 */
import { DEV_API_KEY } from '@video-translation/mock-server'
import { describe, expect, it } from 'vitest'
import { runChaos } from '../reliability/chaos.js'
import { runLeaks } from '../reliability/leaks.js'

describe('reliability: chaos', () => {
  it('should end every job with its true status or a typed error, under a storm of faults', async () => {
    const report = await runChaos({ jobs: 300, seed: 3 })
    expect(report.wrong, report.examples.join('\n')).toBe(0)
    expect(report.unhandled).toBe(0)
    expect(report.keySeen).toBe(false)
    const typed = Object.values(report.typedErrors).reduce((a, b) => a + b, 0)
    expect(report.completed + report.failedAsFailed + typed).toBe(300)
    // Nearly every job is followed to the end the server gave it; the rest say why.
    expect(report.completed + report.failedAsFailed).toBeGreaterThanOrEqual(285)
    expect(report.budgetRetries).toBeLessThanOrEqual(report.budgetBound)
  }, 60_000)

  it('should hold with push transports too', async () => {
    const report = await runChaos({ jobs: 150, seed: 4, transport: 'auto' })
    expect(report.wrong, report.examples.join('\n')).toBe(0)
    expect(report.unhandled).toBe(0)
    expect(report.keySeen).toBe(false)
    expect(report.completed + report.failedAsFailed).toBeGreaterThanOrEqual(142)
  }, 60_000)

  it('should catch a client that reports a running job as completed (a test of the test)', async () => {
    let lies = 0
    const report = await runChaos({
      jobs: 50,
      seed: 5,
      faults: {},
      tamper: async (response, url) => {
        if (lies > 0 || !/\/v1\/jobs\/job_[^/?]+$/.test(new URL(url).pathname)) return response
        const body = await response.clone().text()
        if (!body.includes('"status":"running"')) return response
        lies++
        const lie = body
          .replace('"status":"running"', '"status":"completed"')
          .replace('"result":null', '"result":{"url":"https://x"}')
        return new Response(lie, response)
      },
    })
    expect(lies).toBe(1)
    expect(report.wrong).toBe(1)
  }, 60_000)
})

describe('reliability: the key scan', () => {
  it('should see the key where any output carries it (a test of the test)', async () => {
    const report = await runChaos({
      jobs: 5,
      seed: 6,
      faults: {},
      // A server echoing the key in a job's title: it reaches the job:status events.
      tamper: async (response) => {
        const body = await response.clone().text()
        if (!body.includes('"title":null')) return response
        return new Response(body.replace('"title":null', `"title":"${DEV_API_KEY}"`), response)
      },
    })
    expect(report.keySeen).toBe(true)
  }, 60_000)
})

describe('reliability: leaks', () => {
  it('should leave no timer and no listener after thousands of waits that end every way', async () => {
    const report = await runLeaks(3_000)
    expect(report).toMatchObject({ completed: 1_000, timedOut: 1_000, aborted: 1_000 })
    expect(report).toMatchObject({ realTimers: 0, virtualTimers: 0, listeners: 0, openStreams: 0 })
  }, 60_000)

  it('should leave no stream, timer or listener after waits on event streams', async () => {
    const report = await runLeaks(900, { transport: 'sse' })
    expect(report).toMatchObject({ completed: 300, timedOut: 300, aborted: 300 })
    expect(report).toMatchObject({ realTimers: 0, virtualTimers: 0, listeners: 0, openStreams: 0 })
  }, 60_000)

  it('should catch a signal that keeps its listeners (a test of the test)', async () => {
    const report = await runLeaks(300, { leaky: true })
    expect(report.listeners).toBeGreaterThan(0)
  }, 60_000)
})
