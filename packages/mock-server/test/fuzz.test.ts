/**
 * Thousands of random requests: random methods, paths, queries, headers and bodies, with and
 * without valid keys. The server must never answer 5xx, and every 4xx must be problem+json.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { DEV_ADMIN_KEY, DEV_API_KEY } from '../src/app.js'
import { harness, VALID_BODY } from './harness.js'

const printable = (maxLength: number) =>
  fc.string({
    unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
    maxLength,
  })
const segment = fc.oneof(
  printable(20).map(encodeURIComponent),
  fc.constantFrom('job_x', '', '..', '%', '%ZZ', 'job_'.padEnd(70, 'x')),
)
const path = fc.oneof(
  fc.constantFrom(
    '/v1/jobs',
    '/v1/simulation',
    '/status',
    '/set_completion_time',
    '/healthz',
    '/openapi.json',
    '/',
    '/v1',
  ),
  segment.map((s) => `/v1/jobs/${s}`),
  segment.map((s) => `/v1/jobs/${s}/cancel`),
  segment.map((s) => `/v1/jobs/${s}/events`),
  fc.array(segment, { maxLength: 4 }).map((parts) => `/${parts.join('/')}`),
)
const query = fc.oneof(
  fc.constant(''),
  fc
    .tuple(fc.constantFrom('wait', 'ids', 'x', 'wait[]'), printable(40))
    .map(([k, v]) => `?${k}=${encodeURIComponent(v)}`),
  fc.integer({ min: -5, max: 100 }).map((n) => `?wait=${n}`),
)
const headers = fc.record(
  {
    authorization: fc.oneof(
      fc.constant(`Bearer ${DEV_API_KEY}`),
      fc.constant(`Bearer ${DEV_ADMIN_KEY}`),
      printable(40),
    ),
    'x-api-key': fc.oneof(fc.constant(DEV_API_KEY), printable(20)),
    'content-type': fc.constantFrom(
      'application/json',
      'text/plain',
      'application/problem+json',
      'multipart/form-data',
      'application/json; charset=utf-8',
      '',
    ),
    prefer: fc.oneof(
      printable(30),
      fc.integer({ min: -5, max: 100 }).map((n) => `wait=${n}`),
    ),
    'if-none-match': printable(30),
    'idempotency-key': printable(300),
    'last-event-id': printable(12),
  },
  { requiredKeys: [] },
)
const body = fc.oneof(
  fc.constant(undefined),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  printable(200),
  fc
    .record(
      {
        video_url: fc.oneof(fc.webUrl(), printable(30), fc.integer()),
        target_language: fc.oneof(fc.constantFrom('es', 'pt-BR'), printable(10)),
        title: fc.option(printable(250)),
        simulate: fc.option(
          fc.record(
            { duration_ms: fc.integer({ min: -10, max: 100_000_000 }), outcome: printable(10) },
            { requiredKeys: [] },
          ),
        ),
      },
      { requiredKeys: [] },
    )
    .map((v) => JSON.stringify(v)),
  fc
    .record(
      {
        error_rate: fc.double(),
        hints: fc.record({ mode: printable(10) }),
        seed: fc.integer(),
        completion_time: fc.double(),
      },
      { requiredKeys: [] },
    )
    .map((v) => JSON.stringify(v)),
)
const method = fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD')

describe('fuzz', () => {
  it('should never answer 5xx, and answer every 4xx as problem+json', async () => {
    const { app, clock, simulator, createJob } = harness()
    const real = await createJob(VALID_BODY)
    const quiet = { ...simulator.settings.faults }
    await fc.assert(
      fc.asyncProperty(
        method,
        path,
        query,
        headers,
        body,
        fc.boolean(),
        async (m, p, q, h, b, useRealId) => {
          const target = useRealId ? p.replace('job_x', real.id) : p
          const init: RequestInit = { method: m, headers: h }
          if (b !== undefined && m !== 'GET' && m !== 'HEAD') init.body = b
          const pending = Promise.resolve(app.request(`${target}${q}`, init))
          let settled = false
          void pending.then(() => {
            settled = true
          })
          await new Promise((resolve) => setTimeout(resolve, 0))
          if (!settled) await clock.tickAsync(61_000)
          const response = await pending
          const type = response.headers.get('content-type') ?? ''
          if (type.startsWith('text/event-stream')) await response.body?.cancel()
          expect(response.status, `${m} ${target}${q} -> ${response.status}`).toBeLessThan(500)
          expect(response.headers.get('x-request-id')).toMatch(/^req_/)
          if (response.status >= 400 && m !== 'HEAD') {
            expect(type, `${m} ${target}${q} -> ${response.status}`).toBe(
              'application/problem+json',
            )
            const problem = (await response.json()) as { status: number; title: string }
            expect(problem.status).toBe(response.status)
            expect(problem.title).toEqual(expect.any(String))
          }
          simulator.updateSettings({
            faults: quiet,
            latency_ms: { min: 0, max: 0 },
            rate_limit: { capacity: 100_000, refill_per_s: 100_000 },
          })
        },
      ),
      { numRuns: 3_000, seed: 20261121 },
    )
  }, 120_000)
})
