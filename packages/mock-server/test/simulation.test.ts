import { describe, expect, it } from 'vitest'
import { createMockServer } from '../src/app.js'
import type { DEFAULT_SETTINGS } from '../src/schemas/simulation.js'
import { createManualClock } from '../src/simulator/clock.js'
import { sampleDuration } from '../src/simulator/durations.js'
import { createRandom } from '../src/simulator/rng.js'
import { createSimulator } from '../src/simulator/simulator.js'
import { harness, PREDICTABLE, problemOf, VALID_BODY } from './harness.js'

describe('/v1/simulation', () => {
  it('should read the settings and merge a patch into them', async () => {
    const { admin } = harness()
    const before = (await (await admin('GET', '/v1/simulation')).json()) as typeof DEFAULT_SETTINGS
    // Every setting shown, `progress` (true by default) too.
    expect(before.hints).toEqual({ mode: 'eta', eta_noise: 0, progress: true })
    const response = await admin('PUT', '/v1/simulation', {
      hints: { mode: 'none' },
      faults: { rate_503: 0.25 },
    })
    expect(response.status).toBe(200)
    const after = (await response.json()) as typeof DEFAULT_SETTINGS
    expect(after.hints).toEqual({ mode: 'none', eta_noise: 0, progress: true })
    expect(after.faults).toEqual({ ...before.faults, rate_503: 0.25 })
    expect(after.durations).toEqual(before.durations)
  })

  it('should refuse a __proto__ key in a nested patch, as at the top level, changing nothing', async () => {
    const { admin } = harness()
    const before = await (await admin('GET', '/v1/simulation')).json()
    for (const field of ['hints', 'faults', 'rate_limit', 'latency_ms', null]) {
      const inner = '{"__proto__":{"rate_500":1,"mode":"none"}}'
      const body = field === null ? inner : `{"${field}":${inner}}`
      const response = await admin('PUT', '/v1/simulation', body)
      expect(response.status, String(field)).toBe(400)
      expect((await problemOf(response)).detail).toContain('__proto__')
    }
    expect(await (await admin('GET', '/v1/simulation')).json()).toEqual(before)
    expect(({} as Record<string, unknown>).rate_500).toBeUndefined()
  })

  it('should apply new settings to the very next request', async () => {
    const { admin, clock, call, createJob } = harness()
    const { id } = await createJob()
    clock.advance(2_000)
    await admin('PUT', '/v1/simulation', { hints: { mode: 'none' } })
    const response = await call('GET', `/v1/jobs/${id}`)
    expect(response.headers.get('retry-after')).toBeNull()
    expect(((await response.json()) as { eta_ms: unknown }).eta_ms).toBeNull()
  })

  it.each([
    [{ error_rate: 2 }, '/error_rate'],
    [{ hints: { mode: 'psychic' } }, '/hints/mode'],
    [{ durations: { distribution: 'uniform', min_ms: 5, max_ms: 1 } }, '/durations/max_ms'],
    [{ durations: { distribution: 'poisson' } }, '/durations/distribution'],
    [{ faults: { rate_500: 0.6, rate_503: 0.6 } }, '/faults'],
    [{ latency_ms: { min: 10, max: 5 } }, '/latency_ms/max'],
    [{ rate_limit: { capacity: 0 } }, '/rate_limit/capacity'],
    [{ warp_speed: true }, '/'],
  ])('should reject patch #%# with 400 naming the field', async (patch, field) => {
    const { admin } = harness()
    const response = await admin('PUT', '/v1/simulation', patch)
    expect(response.status).toBe(400)
    expect((await problemOf(response)).field).toBe(field)
  })

  it('should take fault rates adding up to 1 exactly, whatever floating point makes of them', async () => {
    const { admin } = harness()
    const faults = { rate_500: 0.34, rate_503: 0.56, rate_429: 0.1 }
    expect(0.34 + 0.56 + 0.1).toBeGreaterThan(1)
    const response = await admin('PUT', '/v1/simulation', { faults })
    expect(response.status).toBe(200)
  })

  it('should refuse invalid settings at startup with the field in the message', () => {
    expect(() => createMockServer({ simulation: { error_rate: 5 } })).toThrow(/error_rate/)
  })

  it('should make jobs fail at the configured error rate', async () => {
    // On the simulator itself: 2,000 jobs in milliseconds, where 300 over HTTP took 8.8 s on a
    // busy machine. The routes are tested with a handful above.
    const clock = createManualClock()
    const simulator = createSimulator(
      { ...PREDICTABLE, error_rate: 0.3 },
      { clock, webhookSecret: 'whsec_test_secret' },
    )
    const ids: string[] = []
    for (let i = 0; i < 2_000; i++) {
      const created = simulator.createJob('tenant', VALID_BODY)
      if (created.kind !== 'conflict') ids.push(created.snapshot.view.id)
    }
    clock.advance(20_000)
    const failed = ids.filter((id) => simulator.getJob('tenant', id)?.view.status === 'error')
    expect(failed.length / ids.length).toBeGreaterThan(0.26)
    expect(failed.length / ids.length).toBeLessThan(0.34)
  })

  it('should hide progress when told, like a server that reports status alone', async () => {
    const { clock, createJob, getJob } = harness({
      simulation: { hints: { mode: 'none', eta_noise: 0, progress: false } },
    })
    const { id } = await createJob()
    clock.advance(6_000)
    const running = await getJob(id)
    expect(running).toMatchObject({ status: 'running', progress: 0, eta_ms: null })
    // Running since 10 % of its 10 s: the last status change, not the last progress step.
    expect(running.updated_at).toBe('2026-01-01T00:00:01.000Z')
    clock.advance(5_000)
    expect(await getJob(id)).toMatchObject({ status: 'completed', progress: 1 })
  })

  it('should draw durations from the configured distribution', async () => {
    const { clock, createJob, getJob } = harness({
      simulation: { durations: { distribution: 'uniform', min_ms: 1_000, max_ms: 2_000 } },
    })
    const jobs = await Promise.all(Array.from({ length: 20 }, () => createJob(VALID_BODY)))
    clock.advance(999)
    for (const { id } of jobs) expect((await getJob(id)).status).not.toBe('completed')
    clock.advance(1_001)
    for (const { id } of jobs) expect((await getJob(id)).status).toBe('completed')
  })
})

describe('sampleDuration', () => {
  it('should give fixed, bounded uniform, and lognormal durations around the median', () => {
    const random = createRandom(3)
    expect(sampleDuration({ distribution: 'fixed', ms: 1_234 }, random)).toBe(1_234)
    const uniform = Array.from({ length: 1_000 }, () =>
      sampleDuration({ distribution: 'uniform', min_ms: 100, max_ms: 200 }, random),
    )
    expect(Math.min(...uniform)).toBeGreaterThanOrEqual(100)
    expect(Math.max(...uniform)).toBeLessThanOrEqual(200)
    const lognormal = Array.from({ length: 2_001 }, () =>
      sampleDuration({ distribution: 'lognormal', median_ms: 6_000, sigma: 0.5 }, random),
    ).sort((a, b) => a - b)
    const median = lognormal[1_000] ?? 0
    expect(median).toBeGreaterThan(5_400)
    expect(median).toBeLessThan(6_600)
    expect(lognormal.at(-1)).toBeGreaterThan(12_000)
  })
})

describe('original challenge endpoints', () => {
  it('should serve GET /status as pending, then completed after the completion time', async () => {
    const { clock, call } = harness({ simulation: { legacy_completion_time_s: 3 } })
    expect(await (await call('GET', '/status', { key: null })).json()).toEqual({
      result: 'pending',
    })
    clock.advance(3_000)
    expect(await (await call('GET', '/status', { key: null })).json()).toEqual({
      result: 'completed',
    })
  })

  it('should restart the job when the settings change its completion time', async () => {
    const { admin, clock, call } = harness({ simulation: { legacy_completion_time_s: 1 } })
    clock.advance(1_000)
    const status = async () =>
      (await (await call('GET', '/status', { key: null })).json()) as unknown
    expect(await status()).toEqual({ result: 'completed' })
    await admin('PUT', '/v1/simulation', { legacy_completion_time_s: 100 })
    expect(await status()).toEqual({ result: 'pending' })
    clock.advance(100_000)
    expect(await status()).toEqual({ result: 'completed' })
  })

  it('should restart the job with POST /set_completion_time', async () => {
    const { clock, call } = harness({ simulation: { legacy_completion_time_s: 1 } })
    clock.advance(1_000)
    const set = await call('POST', '/set_completion_time', {
      key: null,
      body: { completion_time: 10 },
    })
    expect(set.status).toBe(200)
    expect(await set.json()).toEqual({ completion_time: 10, result: 'pending' })
    clock.advance(9_999)
    expect(await (await call('GET', '/status', { key: null })).json()).toEqual({
      result: 'pending',
    })
    clock.advance(1)
    expect(await (await call('GET', '/status', { key: null })).json()).toEqual({
      result: 'completed',
    })
  })

  it('should report error for a job that fails', async () => {
    const { clock, call } = harness({ simulation: { error_rate: 1, legacy_completion_time_s: 0 } })
    clock.advance(1)
    expect(await (await call('GET', '/status', { key: null })).json()).toEqual({ result: 'error' })
  })

  it.each([{ completion_time: -1 }, { completion_time: 'soon' }, {}])(
    'should reject %j with 400',
    async (body) => {
      const { call } = harness()
      const response = await call('POST', '/set_completion_time', { key: null, body })
      expect(response.status).toBe(400)
      await problemOf(response)
    },
  )
})

describe('GET /openapi.json', () => {
  it('should describe every endpoint in OpenAPI 3.1 from the validation schemas', async () => {
    const { call } = harness()
    const doc = (await (await call('GET', '/openapi.json', { key: null })).json()) as {
      openapi: string
      paths: Record<string, Record<string, unknown>>
      components: {
        schemas: Record<string, { required?: string[] }>
        securitySchemes: Record<string, unknown>
      }
    }
    expect(doc.openapi).toBe('3.1.0')
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/healthz',
      '/set_completion_time',
      '/status',
      '/v1/jobs',
      '/v1/jobs/{id}',
      '/v1/jobs/{id}/cancel',
      '/v1/jobs/{id}/events',
      '/v1/simulation',
    ])
    expect(Object.keys(doc.paths['/v1/jobs'] ?? {}).sort()).toEqual(['get', 'post'])
    expect(doc.components.schemas.CreateJobBody?.required).toEqual(['video_url', 'target_language'])
    expect(doc.components.schemas.Job).toBeDefined()
    expect(doc.components.schemas.Problem).toBeDefined()
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(['apiKey', 'bearer'])
  })

  it('should document the statuses injected faults answer with, where faults apply', async () => {
    const { call } = harness()
    const doc = (await (await call('GET', '/openapi.json', { key: null })).json()) as {
      paths: Record<string, Record<string, { responses: Record<string, { headers?: object }> }>>
    }
    const faulty = [
      ['/v1/jobs', 'post'],
      ['/v1/jobs', 'get'],
      ['/v1/jobs/{id}', 'get'],
      ['/v1/jobs/{id}/cancel', 'post'],
      ['/v1/jobs/{id}/events', 'get'],
      ['/status', 'get'],
    ] as const
    for (const [path, method] of faulty) {
      const responses = doc.paths[path]?.[method]?.responses ?? {}
      expect(Object.keys(responses), `${method} ${path}`).toEqual(
        expect.arrayContaining(['429', '500', '503', '504']),
      )
      expect(Object.keys(responses['503']?.headers ?? {})).toContain('Retry-After')
    }
  })

  it('should describe the webhook a job sends, and every extension a problem may carry', async () => {
    const { call } = harness()
    const doc = (await (await call('GET', '/openapi.json', { key: null })).json()) as {
      webhooks: Record<
        string,
        { post?: { requestBody?: unknown; parameters?: { name: string }[] } }
      >
      components: { schemas: Record<string, { properties?: object }> }
    }
    const ended = doc.webhooks['job.ended']?.post
    expect(JSON.stringify(ended?.requestBody)).toContain('#/components/schemas/Job')
    expect(ended?.parameters?.map((p) => p.name).sort()).toEqual([
      'webhook-attempt',
      'webhook-signature',
    ])
    expect(Object.keys(doc.components.schemas.Problem?.properties ?? {})).toEqual(
      expect.arrayContaining(['field', 'in', 'job_status']),
    )
  })

  it('should document the headers the server really sends, on answers and on a 429', async () => {
    const { call, createJob } = harness({
      simulation: { rate_limit: { capacity: 3, refill_per_s: 0.5 } },
    })
    const doc = (await (await call('GET', '/openapi.json', { key: null })).json()) as {
      paths: Record<string, Record<string, { responses: Record<string, { headers?: object }> }>>
    }
    const documented = (path: string, method: string, status: number) =>
      Object.keys(doc.paths[path]?.[method]?.responses[status]?.headers ?? {}).map((h) =>
        h.toLowerCase(),
      )
    const { id } = await createJob()
    const sent = (response: Response, names: string[]) =>
      names.filter((name) => response.headers.has(name))
    const wire = ['retry-after', 'etag', 'ratelimit', 'ratelimit-policy', 'preference-applied']
    const got = await call('GET', `/v1/jobs/${id}`, { headers: { prefer: 'wait=0' } })
    expect(got.status).toBe(200)
    const onGet = sent(got, wire)
    expect(onGet).toEqual(expect.arrayContaining(['etag', 'ratelimit', 'ratelimit-policy']))
    expect(documented('/v1/jobs/{id}', 'get', 200)).toEqual(expect.arrayContaining(onGet))
    let limited = got
    for (let i = 0; i < 5 && limited.status !== 429; i++)
      limited = await call('GET', `/v1/jobs/${id}`)
    expect(limited.status).toBe(429)
    const on429 = sent(limited, wire)
    expect(on429).toEqual(['retry-after', 'ratelimit', 'ratelimit-policy'])
    expect(documented('/v1/jobs/{id}', 'get', 429)).toEqual(expect.arrayContaining(on429))
    expect(documented('/v1/jobs', 'get', 429)).toEqual(expect.arrayContaining(on429))
  })
})
