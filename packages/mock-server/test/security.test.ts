import { describe, expect, it } from 'vitest'
import { DEV_ADMIN_KEY, DEV_API_KEY } from '../src/app.js'
import { constantTimeEqual } from '../src/middleware/auth.js'
import { policyOf } from '../src/middleware/rate-limit.js'
import { harness, problemOf } from './harness.js'

describe('authentication', () => {
  it.each([
    ['no key', {}],
    ['a wrong bearer key', { authorization: 'Bearer vt_wrong_key' }],
    ['a wrong X-Api-Key', { 'x-api-key': 'vt_wrong_key' }],
    [
      'a key that is a prefix of a real one',
      { authorization: `Bearer ${DEV_API_KEY.slice(0, -1)}` },
    ],
    ['a Basic scheme', { authorization: `Basic ${btoa(`${DEV_API_KEY}:`)}` }],
  ])('should answer 401 with a challenge to %s', async (_, headers) => {
    const { call } = harness()
    const response = await call('GET', '/v1/jobs/job_x', { key: null, headers })
    expect(response.status).toBe(401)
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/)
    await problemOf(response)
  })

  it('should accept the key as a bearer token or as X-Api-Key', async () => {
    const { call, createJob } = harness()
    const { id } = await createJob()
    expect(
      (await call('GET', `/v1/jobs/${id}`, { key: null, headers: { 'x-api-key': DEV_API_KEY } }))
        .status,
    ).toBe(200)
    expect(
      (
        await call('GET', `/v1/jobs/${id}`, {
          key: null,
          headers: { authorization: `bearer  ${DEV_API_KEY}` },
        })
      ).status,
    ).toBe(200)
  })

  it('should hide one tenant’s jobs from another everywhere', async () => {
    const { call, createJob } = harness({ apiKeys: ['tenant_a_key', 'tenant_b_key'] })
    const { id } = await createJob({}, { key: 'tenant_a_key' })
    const b = { key: 'tenant_b_key' }
    expect((await call('GET', `/v1/jobs/${id}`, b)).status).toBe(404)
    expect((await call('GET', `/v1/jobs/${id}?wait=5`, b)).status).toBe(404)
    expect((await call('GET', `/v1/jobs/${id}/events`, b)).status).toBe(404)
    expect((await call('POST', `/v1/jobs/${id}/cancel`, b)).status).toBe(404)
    expect((await call('GET', `/v1/jobs/${id}`, { key: 'tenant_a_key' })).status).toBe(200)
  })

  it('should keep /v1/simulation for the admin key: 401 without a key, 403 with a tenant key', async () => {
    const { call, admin } = harness()
    expect((await call('GET', '/v1/simulation', { key: null })).status).toBe(401)
    const forbidden = await call('GET', '/v1/simulation')
    expect(forbidden.status).toBe(403)
    await problemOf(forbidden)
    expect((await admin('GET', '/v1/simulation')).status).toBe(200)
    expect((await call('GET', '/v1/jobs/job_x', { key: DEV_ADMIN_KEY })).status).toBe(401)
  })

  it('should refuse to start without a usable API key', async () => {
    expect(() => harness({ apiKeys: [] })).toThrow(/apiKeys/)
    expect(() => harness({ apiKeys: ['short'] })).toThrow(/8 characters/)
  })
})

describe('constantTimeEqual', () => {
  it('should be true only for equal strings', () => {
    expect(constantTimeEqual('secret-key', 'secret-key')).toBe(true)
    expect(constantTimeEqual('secret-key', 'secret-kez')).toBe(false)
    expect(constantTimeEqual('secret-key', 'secret-key-longer')).toBe(false)
    expect(constantTimeEqual('secret-key', 'secret')).toBe(false)
    expect(constantTimeEqual('secret-key', '')).toBe(false)
  })
})

describe('rate limiting', () => {
  it('should allow a burst of `capacity`, then 429 with Retry-After until tokens refill', async () => {
    const { clock, call, createJob } = harness({
      simulation: { rate_limit: { capacity: 3, refill_per_s: 0.5 } },
    })
    const { id } = await createJob()
    const ok = [await call('GET', `/v1/jobs/${id}`), await call('GET', `/v1/jobs/${id}`)]
    expect(ok.map((r) => r.status)).toEqual([200, 200])
    expect(ok[1]?.headers.get('ratelimit')).toBe('"default";r=0;t=6')
    expect(ok[1]?.headers.get('ratelimit-policy')).toBe('"default";q=3;w=6')
    const limited = await call('GET', `/v1/jobs/${id}`)
    expect(limited.status).toBe(429)
    expect(limited.headers.get('retry-after')).toBe('2')
    expect((await problemOf(limited)).type).toContain('rate-limited')
    clock.advance(2_000)
    expect((await call('GET', `/v1/jobs/${id}`)).status).toBe(200)
  })

  it('should start every bucket over, full, when the limit changes', async () => {
    const { call, admin, createJob } = harness({
      simulation: { rate_limit: { capacity: 2, refill_per_s: 0.01 } },
    })
    const { id } = await createJob()
    await call('GET', `/v1/jobs/${id}`)
    expect((await call('GET', `/v1/jobs/${id}`)).status).toBe(429)
    const put = await admin('PUT', '/v1/simulation', {
      rate_limit: { capacity: 1_000, refill_per_s: 0.001 },
    })
    expect(put.status).toBe(200)
    const after = await call('GET', `/v1/jobs/${id}`)
    expect(after.status).toBe(200)
    expect(after.headers.get('ratelimit')).toBe('"default";r=999;t=1000')
  })

  it('should state as its policy the refill rate, or the burst a second when that is less', () => {
    // q / w is the refill rate (never above it), q never above the burst.
    expect(policyOf(100, 50)).toBe('"default";q=100;w=2')
    expect(policyOf(100, 30)).toBe('"default";q=90;w=3')
    expect(policyOf(10, 100)).toBe('"default";q=10;w=1')
    expect(policyOf(1, 0.3)).toBe('"default";q=1;w=4')
    expect(policyOf(10, 0.5)).toBe('"default";q=10;w=20')
  })

  it('should refuse a refill rate whose Retry-After no client could read, and keep headers integers', async () => {
    const { call } = harness()
    const admin = { key: DEV_ADMIN_KEY }
    const tiny = await call('PUT', '/v1/simulation', {
      ...admin,
      body: { rate_limit: { refill_per_s: 1e-300 } },
    })
    expect(tiny.status).toBe(400)
    expect((await problemOf(tiny)).detail).toContain('refill_per_s')
    const slowest = harness({ simulation: { rate_limit: { capacity: 1, refill_per_s: 0.001 } } })
    const { id } = await slowest.createJob()
    const limited = await slowest.call('GET', `/v1/jobs/${id}`)
    expect(limited.status).toBe(429)
    for (const header of ['retry-after', 'ratelimit', 'ratelimit-policy']) {
      expect(limited.headers.get(header)).toMatch(/^[\w";=]*\d{1,7}$/)
    }
  })

  it('should count each key on its own', async () => {
    const { call } = harness({
      apiKeys: ['tenant_a_key', 'tenant_b_key'],
      simulation: { rate_limit: { capacity: 1, refill_per_s: 0.001 } },
    })
    expect((await call('GET', '/v1/jobs/job_x', { key: 'tenant_a_key' })).status).toBe(404)
    expect((await call('GET', '/v1/jobs/job_x', { key: 'tenant_a_key' })).status).toBe(429)
    expect((await call('GET', '/v1/jobs/job_x', { key: 'tenant_b_key' })).status).toBe(404)
  })
})

describe('headers on every response', () => {
  it('should carry X-Request-Id and secure headers, also on errors, preflights and the OpenAPI document', async () => {
    const { call } = harness()
    const origin = 'http://localhost:5173'
    for (const response of [
      await call('GET', '/healthz'),
      await call('GET', '/nope'),
      await call('GET', '/v1/jobs/x', { key: null }),
      await call('GET', '/openapi.json', { key: null }),
      await call('GET', '/v1/jobs/x', { headers: { origin } }),
      await call('OPTIONS', '/v1/jobs', {
        key: null,
        headers: { origin, 'access-control-request-method': 'POST' },
      }),
    ]) {
      expect(response.headers.get('x-request-id')).toMatch(/^req_[0-9a-z]{8}$/)
      expect(response.headers.get('x-content-type-options')).toBe('nosniff')
    }
  })

  it('should allow local origins by CORS and expose the hint headers, and not foreign ones', async () => {
    const { call } = harness()
    const local = await call('OPTIONS', '/v1/jobs', {
      key: null,
      headers: {
        origin: 'http://localhost:5173',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,idempotency-key,content-type',
      },
    })
    expect(local.status).toBe(204)
    expect(local.headers.get('access-control-allow-origin')).toBe('http://localhost:5173')
    expect(local.headers.get('access-control-allow-headers')?.toLowerCase()).toContain(
      'idempotency-key',
    )
    // The methods the routes take, no other (DELETE and PATCH are answered 405).
    expect(local.headers.get('access-control-allow-methods')).toBe('GET,HEAD,POST,PUT')
    const get = await call('GET', '/healthz', { headers: { origin: 'http://127.0.0.1:8080' } })
    for (const header of ['Retry-After', 'ETag', 'Location', 'X-Request-Id', 'RateLimit']) {
      expect(get.headers.get('access-control-expose-headers')).toContain(header)
    }
    const foreign = await call('GET', '/healthz', { headers: { origin: 'https://evil.example' } })
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull()
  })

  it('should put CORS headers on every answer to an allowed origin, errors included', async () => {
    const origin = 'http://localhost:5173'
    const { call } = harness()
    const unauthorized = [
      ['POST', '/v1/jobs'],
      ['POST', '/v1/jobs/job_x/cancel'],
      ['PUT', '/v1/simulation'],
      ['GET', '/v1/jobs/job_x'],
    ] as const
    for (const [method, path] of unauthorized) {
      const body = method === 'GET' ? undefined : {}
      const response = await call(method, path, { key: null, headers: { origin }, body })
      expect(response.status, `${method} ${path}`).toBe(401)
      expect(response.headers.get('access-control-allow-origin'), `${method} ${path}`).toBe(origin)
    }
    const faulty = harness({ simulation: { faults: { rate_503: 1 } } })
    const injected = await faulty.call('POST', '/v1/jobs', {
      headers: { origin },
      body: { video_url: 'https://example.com/a.mp4', target_language: 'es' },
    })
    expect(injected.status).toBe(503)
    expect(injected.headers.get('access-control-allow-origin')).toBe(origin)
    expect(injected.headers.get('access-control-expose-headers')).toContain('Retry-After')
    // A path no route takes, or a method it does not: answered through the preamble twice,
    // each header once.
    for (const [method, path] of [
      ['GET', '/nowhere'],
      ['DELETE', '/v1/jobs/job_x'],
    ] as const) {
      const response = await call(method, path, { headers: { origin } })
      expect(response.headers.get('access-control-allow-origin')).toBe(origin)
      expect(response.headers.get('vary'), `${method} ${path}`).toBe('Origin')
    }
  })

  it('should answer a wrong method on an existing path 405 with Allow, and an unknown path 404', async () => {
    const { call } = harness()
    const cases = [
      ['DELETE', '/v1/jobs/job_x', 'GET, HEAD, OPTIONS', DEV_API_KEY],
      ['PUT', '/v1/jobs', 'GET, HEAD, OPTIONS, POST', DEV_API_KEY],
      ['GET', '/v1/jobs/job_x/cancel', 'OPTIONS, POST', DEV_API_KEY],
      ['DELETE', '/v1/simulation', 'GET, HEAD, OPTIONS, PUT', DEV_ADMIN_KEY],
    ] as const
    // The same answer with the path's key, with another key or with none: a method is checked
    // before the key, as a path is.
    for (const [method, path, allow, key] of cases) {
      for (const sent of [key, DEV_API_KEY, null]) {
        const response = await call(method, path, { key: sent })
        expect(response.status, `${method} ${path} with ${sent}`).toBe(405)
        expect(response.headers.get('allow')).toBe(allow)
        expect((await problemOf(response)).type).toContain('method-not-allowed')
      }
    }
    expect((await call('DELETE', '/v1/nothing')).status).toBe(404)
    // Whatever body comes with it: no route reads it, so no 415 or 413 about it.
    const bodies = [
      { body: 'hi', headers: { 'content-type': 'text/plain' } },
      { body: JSON.stringify({ pad: 'x'.repeat(100_000) }) },
    ]
    for (const init of bodies) {
      const wrongMethod = await call('PUT', '/v1/jobs/job_x', init)
      expect(wrongMethod.status).toBe(405)
      expect(wrongMethod.headers.get('allow')).toBe('GET, HEAD, OPTIONS')
      expect((await call('POST', '/healthz', init)).status).toBe(405)
      expect((await call('POST', '/v1/nothing', init)).status).toBe(404)
    }
    // Where a route takes one, it is checked as ever.
    expect((await call('POST', '/v1/jobs', bodies[0])).status).toBe(415)
    expect((await call('POST', '/v1/jobs', bodies[1])).status).toBe(413)
    // A path's dot is a dot: `/openapi.json` takes GET, `/openapiXjson` is nowhere.
    expect((await call('GET', '/openapiXjson', { key: null })).status).toBe(404)
    for (const method of ['GET', 'HEAD', 'POST']) {
      expect((await call(method, '/v1/jobs', { key: null })).status, method).toBe(401)
    }
    // A plain OPTIONS (no Origin: not a preflight) is a method every path takes.
    for (const [path, allow] of [
      ['/healthz', 'GET, HEAD, OPTIONS'],
      ['/status', 'GET, HEAD, OPTIONS'],
      ['/v1/jobs/job_x', 'GET, HEAD, OPTIONS'],
      ['/v1/jobs', 'GET, HEAD, OPTIONS, POST'],
      ['/v1/simulation', 'GET, HEAD, OPTIONS, PUT'],
    ] as const) {
      const options = await call('OPTIONS', path, { key: null })
      expect(options.status, `OPTIONS ${path}`).toBe(204)
      expect(options.headers.get('allow')).toBe(allow)
      expect(options.headers.get('x-request-id')).toMatch(/^req_/)
    }
  })

  it('should never send a key back, wherever a caller put one', async () => {
    // One key inside another: hidden whole, not cut into.
    const { call } = harness({ apiKeys: [DEV_API_KEY, 'tenant_b_key', `${DEV_API_KEY}_long`] })
    const keys = [DEV_API_KEY, 'tenant_b_key', DEV_ADMIN_KEY, `${DEV_API_KEY}_long`, '_long']
    const answers = await Promise.all([
      call('GET', `/v1/jobs/${DEV_API_KEY}`),
      call('GET', '/v1/jobs/job_1', { headers: { 'x-request-id': `id-${DEV_ADMIN_KEY}` } }),
      call('GET', `/v1/jobs?ids=job_1,tenant_b_key`),
      call('GET', `/v1/jobs?ids=${DEV_ADMIN_KEY}!`),
      call('POST', '/v1/jobs', {
        body: { video_url: 'https://e.com/a.mp4', target_language: 'es', [DEV_API_KEY]: 1 },
      }),
      call('POST', `/v1/jobs/${DEV_ADMIN_KEY}/cancel`),
      call('GET', `/nowhere/${DEV_API_KEY}`),
      call('GET', `/v1/jobs/${DEV_API_KEY}_long`),
      // Written percent-encoded, where a message quotes the path.
      call('GET', `/nowhere/${encodeAll(DEV_API_KEY)}`),
      call('DELETE', `/v1/jobs/${encodeAll(DEV_ADMIN_KEY)}`),
      // Beside an escape that does not decode (`%zz`), in part or whole.
      call('GET', `/nowhere/${partEncoded(DEV_API_KEY)}%zz`),
      call('DELETE', `/v1/jobs/${encodeAll(DEV_API_KEY)}%zz`),
    ])
    for (const answer of answers) {
      const text = `${[...answer.headers].join('\n')}\n${await answer.text()}`
      for (const key of keys) {
        expect(text, answer.url).not.toContain(key)
        expect(text, answer.url).not.toContain(encodeAll(key))
        expect(text, answer.url).not.toContain(partEncoded(key))
      }
    }
    expect(answers.map((a) => a.status)).toEqual([
      404, 404, 200, 400, 400, 404, 404, 404, 404, 405, 404, 405,
    ])
  })

  it('should refuse an admin key short enough to be found inside other words', () => {
    expect(() => harness({ adminKey: 'type' })).toThrow(/adminKey/)
  })

  it('should allow the origins it is given', async () => {
    const { call } = harness({ corsOrigins: ['https://demo.example'] })
    const response = await call('GET', '/healthz', { headers: { origin: 'https://demo.example' } })
    expect(response.headers.get('access-control-allow-origin')).toBe('https://demo.example')
  })
})

/** `text` with its underscores percent-encoded (a key written so in a path). */
function partEncoded(text: string): string {
  return text.replaceAll('_', '%5F')
}

/** `text` with every character percent-encoded. */
function encodeAll(text: string): string {
  return [...text].map((ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`).join('')
}
