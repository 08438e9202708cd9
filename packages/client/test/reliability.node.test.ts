/**
 * The reliability suite's fast profile (the long one: `pnpm test:reliability`, which writes
 * docs/reliability.md): each category through the real client and server, and a deliberately
 * broken variant each must catch. Races have their own file (races.node.test.ts).
 */
import { DEV_API_KEY } from '@video-translation/mock-server'
import { describe, expect, it } from 'vitest'
import { runChaos } from '../reliability/chaos.js'
import {
  plainTextErrors,
  runHostileRequests,
  serverHeldUp,
} from '../reliability/hostile-requests.js'
import { heldUp, naiveWaiter, runBadCase } from '../reliability/hostile-server.js'
import { BAD_CASES } from '../reliability/hostile-server-cases.js'
import { keyScan } from '../reliability/key-scan.js'
import { runLeaks } from '../reliability/leaks.js'
import { loadHeldUp, runLoad } from '../reliability/load.js'
import { runSecurity, securityHeldUp, wrongTenantGateway } from '../reliability/security.js'

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

  it('should hold over a loopback port too (real sockets, time 30× faster)', async () => {
    const report = await runChaos({ jobs: 40, seed: 13, loopback: { scale: 30 } })
    expect(report.wrong, report.examples.join('\n')).toBe(0)
    expect(report.unhandled).toBe(0)
    expect(report.keySeen).toBe(false)
    expect(report.completed + report.failedAsFailed).toBeGreaterThanOrEqual(36)
  }, 120_000)

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
  it('should see the key where any output carries it (a test of the test)', () => {
    // The client takes the key out of whatever a server echoes, so the scan is shown a client's
    // possible outputs directly: a cause's field, a log line's data, an event escaped in JSON.
    const carriers: [string, (scan: ReturnType<typeof keyScan>) => void][] = [
      ['a cause', (scan) => scan.error(new Error('failed', { cause: { data: DEV_API_KEY } }))],
      ['a log line', (scan) => scan.logger.debug?.('retrying', { key: DEV_API_KEY })],
      ['escaped', (scan) => scan.said.push(JSON.stringify({ t: `"${DEV_API_KEY}"` }))],
    ]
    for (const [what, carry] of carriers) {
      const scan = keyScan()
      scan.error(new Error('nothing', { cause: { data: '[redacted]' } }))
      expect(scan.holds(DEV_API_KEY), `${what}, before`).toBe(false)
      carry(scan)
      expect(scan.holds(DEV_API_KEY), what).toBe(true)
    }
  })
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

describe('reliability: bad input from the server', () => {
  it('should end every wait on a hostile server with a typed error or its true job, on time', async () => {
    for (const bad of BAD_CASES) {
      const result = await runBadCase(bad)
      expect(heldUp(result), JSON.stringify(result)).toBe(true)
    }
  }, 60_000)

  it('should flag a naive polling loop (a test of the test)', async () => {
    const results = []
    // A minute each is enough to see it hang.
    for (const bad of BAD_CASES) results.push(await runBadCase(bad, naiveWaiter, 60_000))
    const outcomes = new Set(results.filter((r) => !heldUp(r)).map((r) => r.outcome))
    // It throws untyped errors, hangs, and takes another job's or an unfinished result.
    expect(outcomes).toEqual(new Set(['untyped', 'hung', 'job']))
    expect(results.filter((r) => !heldUp(r)).length).toBeGreaterThan(20)
  }, 60_000)
})

describe('reliability: bad input to the server', () => {
  it('should answer every hostile request on every route below 500, as problem+json', async () => {
    const report = await runHostileRequests()
    expect(report.examples).toEqual([])
    expect(report.routes).toBeGreaterThanOrEqual(10)
    expect(report.sockets).toHaveLength(5)
    expect(serverHeldUp(report), JSON.stringify(report)).toBe(true)
  }, 60_000)

  it('should flag a server whose errors lost their problem type (a test of the test)', async () => {
    const report = await runHostileRequests({
      sockets: false,
      tamper: plainTextErrors,
    })
    expect(report.notProblems).toBeGreaterThan(1_000)
    expect(serverHeldUp(report)).toBe(false)
  }, 60_000)
})

describe('reliability: security', () => {
  it('should hold keys, tenants, rate limits and webhook signatures on every route', async () => {
    const report = await runSecurity()
    expect(report.failures).toEqual([])
    expect(report.checks).toBeGreaterThanOrEqual(20)
    expect(securityHeldUp(report), JSON.stringify(report)).toBe(true)
  }, 60_000)

  it("should flag a gateway that forwards another tenant's key (a test of the test)", async () => {
    const report = await runSecurity({
      gateway: wrongTenantGateway,
    })
    expect(report.failures.map((f) => f.what)).toContain(
      "GET /v1/jobs/:id with another tenant's key",
    )
  }, 60_000)
})

describe('reliability: load (loopback, real time)', () => {
  // Bounded: a few hundred jobs of 2-5 s, each under a 2 min deadline. No timing is asserted.
  it('should carry hundreds of event streams and held requests with no error and nothing left', async () => {
    const reports = await runLoad(
      [
        { transport: 'sse', jobs: 200 },
        { transport: 'long-poll', jobs: 500 },
      ],
      (i) => 2_000 + ((i * 37) % 3_000),
    )
    for (const report of reports) {
      expect(report.errors.slice(0, 3)).toEqual([])
      expect(loadHeldUp(report), JSON.stringify(report)).toBe(true)
    }
  }, 120_000)

  it('should flag a proxy that cuts every held request (a test of the test)', async () => {
    const [report] = await runLoad([{ transport: 'sse', jobs: 20 }], () => 4_000, {
      cutAfterMs: 1_500,
    })
    expect(report?.worstRequests).toBeGreaterThan(0)
    expect(report && loadHeldUp(report)).toBe(false)
  }, 120_000)
})
