import { describe, expect, it } from 'vitest'
import { createMockServer, DEV_API_KEY } from '../src/app.js'
import { createManualClock } from '../src/simulator/clock.js'
import { harness, VALID_BODY } from './harness.js'

/** A fixed script of requests against a server with noise, errors and faults on. */
async function run(seed: number): Promise<string[]> {
  const { admin, call, clock } = harness({
    simulation: {
      seed,
      durations: { distribution: 'lognormal', median_ms: 8_000, sigma: 0.7 },
      error_rate: 0.3,
      hints: { mode: 'eta', eta_noise: 0.25 },
      faults: {
        rate_500: 0.05,
        rate_503: 0.05,
        rate_429: 0.05,
        rate_reset: 0.05,
        rate_malformed: 0.05,
        rate_wrong_content_type: 0.05,
        rate_slow: 0.05,
        slow_ms: 500,
        retry_after_s: 2,
        rate_hang: 0,
      },
      latency_ms: { min: 0, max: 50 },
    },
  })
  const transcript: string[] = []
  const record = async (response: Response) => {
    const headers = [...response.headers]
      .map(([k, v]) => `${k}: ${v}`)
      .sort()
      .join('\n')
    const body = await response
      .text()
      .catch((error: unknown) => `<body failed: ${(error as Error).message}>`)
    transcript.push(`${response.status}\n${headers}\n\n${body}`)
    return body
  }
  const send = async (method: string, path: string, init: Parameters<typeof call>[2] = {}) => {
    const pending = call(method, path, init)
    await clock.tickAsync(1_000)
    return record(await pending)
  }
  const ids: string[] = []
  for (let i = 0; i < 8; i++) {
    const body = await send('POST', '/v1/jobs', {
      body: { ...VALID_BODY, title: `job ${i}` },
      headers: { 'idempotency-key': `k${i % 5}` },
    })
    const id = /"id":"(job_[0-9a-f]+)"/.exec(body)?.[1]
    if (id) ids.push(id)
  }
  for (let round = 0; round < 6; round++) {
    for (const id of ids) await send('GET', `/v1/jobs/${id}`)
    await send('GET', `/v1/jobs?ids=${[...ids, 'job_missing'].join(',')}`)
    await clock.tickAsync(2_500)
  }
  if (ids[0]) await send('POST', `/v1/jobs/${ids[0]}/cancel`)
  if (ids[1]) await send('GET', `/v1/jobs/${ids[1]}?wait=5`)
  await send('GET', '/status', { key: null })
  await record(await admin('PUT', '/v1/simulation', { faults: { rate_500: 0 } }))
  await send('GET', '/v1/jobs/job_missing')
  return transcript
}

describe('determinism', () => {
  it('should give byte-identical responses for the same seed and request sequence', async () => {
    const first = await run(1234)
    const second = await run(1234)
    expect(first.length).toBeGreaterThan(30)
    expect(second).toEqual(first)
    expect(first.some((entry) => entry.startsWith('503'))).toBe(true)
    expect(first.some((entry) => entry.includes('<body failed'))).toBe(true)
    expect(first.some((entry) => entry.includes('"status":"error"'))).toBe(true)
  })

  it('should start its draws over when a PUT names the seed, the same one too', async () => {
    const { admin, call } = harness({
      simulation: { seed: 9, faults: { rate_500: 0.5 }, rate_limit: { capacity: 1_000 } },
    })
    const statuses = async () => {
      const seen: number[] = []
      for (let i = 0; i < 16; i++) seen.push((await call('GET', '/v1/jobs/job_missing')).status)
      return seen.join(' ')
    }
    const first = await statuses()
    expect(first).toMatch(/500/)
    expect(first).toMatch(/404/)
    expect((await admin('PUT', '/v1/simulation', { seed: 9 })).status).toBe(200)
    expect(await statuses()).toBe(first)
    // A patch that does not name it goes on with the draws.
    expect((await admin('PUT', '/v1/simulation', { faults: { rate_500: 0.5 } })).status).toBe(200)
    expect(await statuses()).not.toBe(first)
  })

  it('should never hand out an id again when restarted with the same seed later', async () => {
    const idsOf = async (startsAt: number) => {
      const clock = createManualClock(startsAt)
      const { app } = createMockServer({ clock, simulation: { seed: 7 } })
      const ids: string[] = []
      for (let i = 0; i < 5; i++) {
        const response = await app.request('/v1/jobs', {
          method: 'POST',
          headers: { authorization: `Bearer ${DEV_API_KEY}`, 'content-type': 'application/json' },
          body: JSON.stringify(VALID_BODY),
        })
        ids.push(((await response.json()) as { id: string }).id)
        // A clock that reads fractions of a millisecond too.
        clock.advance(10.25)
      }
      for (const id of ids) expect(id).toMatch(/^job_[0-9a-f]{28}$/)
      return ids
    }
    const before = await idsOf(Date.UTC(2026, 0, 1))
    // The same numbers drawn, a minute later: none of the first server's ids.
    const after = await idsOf(Date.UTC(2026, 0, 1, 0, 1))
    expect(after.filter((id) => before.includes(id))).toEqual([])
    expect(after.map((id) => id.slice(-16))).toEqual(before.map((id) => id.slice(-16)))
    // On a manual clock from the same time, the same ids: a virtual run is the same every time.
    expect(await idsOf(Date.UTC(2026, 0, 1))).toEqual(before)
  })

  it('should give different runs for different seeds', async () => {
    expect(await run(1)).not.toEqual(await run(2))
  })
})
