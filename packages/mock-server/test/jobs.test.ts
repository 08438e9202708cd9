import { describe, expect, it } from 'vitest'
import { DEV_API_KEY } from '../src/app.js'
import { harness, problemOf, VALID_BODY } from './harness.js'

describe('POST /v1/jobs', () => {
  it('should answer 202 with the job, Location, Retry-After, ETag and a request id', async () => {
    const { call } = harness()
    const response = await call('POST', '/v1/jobs', { body: { ...VALID_BODY, title: 'Talk' } })
    expect(response.status).toBe(202)
    const job = (await response.json()) as Record<string, unknown>
    expect(Object.keys(job)).toEqual([
      'id',
      'status',
      'progress',
      'eta_ms',
      'created_at',
      'updated_at',
      'video_url',
      'target_language',
      'title',
      'result',
      'error',
    ])
    expect(job).toMatchObject({
      id: expect.stringMatching(/^job_[0-9a-f]{28}$/),
      status: 'pending',
      progress: 0,
      eta_ms: 10_000,
      title: 'Talk',
      created_at: '2026-01-01T00:00:00.000Z',
      result: null,
      error: null,
    })
    expect(response.headers.get('location')).toBe(`/v1/jobs/${job.id}`)
    expect(response.headers.get('retry-after')).toBe('10')
    expect(response.headers.get('etag')).toMatch(/^"[0-9a-z]+"$/)
    expect(response.headers.get('x-request-id')).toMatch(/^req_/)
  })

  it('should date every answer by the simulation’s clock, so Date and created_at agree', async () => {
    const { call, clock, createJob } = harness()
    const job = await createJob()
    clock.advance(65_432)
    const response = await call('GET', `/v1/jobs/${job.id}`)
    expect(response.headers.get('date')).toBe('Thu, 01 Jan 2026 00:01:05 GMT')
    // The job's age as a client reads it: Date - created_at, within the Date's second.
    const age = Date.parse(response.headers.get('date') ?? '') - Date.parse(job.created_at)
    expect(age).toBe(65_000)
    const missing = await call('GET', '/v1/jobs/job_0000000000000000')
    expect(missing.headers.get('date')).toBe('Thu, 01 Jan 2026 00:01:05 GMT')
  })

  it('should take back a title of null, as every Job shows one it was not given', async () => {
    const { call } = harness()
    const response = await call('POST', '/v1/jobs', { body: { ...VALID_BODY, title: null } })
    expect(response.status).toBe(202)
    expect(await response.json()).toMatchObject({ title: null })
  })

  it('should replay the same job for the same idempotency key and body', async () => {
    const { call } = harness()
    const headers = { 'idempotency-key': 'order-42' }
    const first = await call('POST', '/v1/jobs', { body: VALID_BODY, headers })
    const second = await call('POST', '/v1/jobs', { body: VALID_BODY, headers })
    expect(second.status).toBe(202)
    expect(second.headers.get('idempotent-replayed')).toBe('true')
    expect(((await second.json()) as { id: string }).id).toBe(
      ((await first.json()) as { id: string }).id,
    )
    const other = await call('POST', '/v1/jobs', {
      body: VALID_BODY,
      headers: { 'idempotency-key': 'order-43' },
    })
    expect(other.headers.get('idempotent-replayed')).toBeNull()
    // The same request said another way is the same request.
    const { target_language, video_url } = VALID_BODY
    for (const body of [
      { target_language, video_url, title: null },
      { ...VALID_BODY, simulate: {} },
    ]) {
      const again = await call('POST', '/v1/jobs', { body, headers })
      expect(again.status, JSON.stringify(body)).toBe(202)
      expect(again.headers.get('idempotent-replayed')).toBe('true')
    }
  })

  it('should answer 422 when an idempotency key comes back with another body', async () => {
    const { call } = harness()
    const headers = { 'idempotency-key': 'order-42' }
    await call('POST', '/v1/jobs', { body: VALID_BODY, headers })
    const response = await call('POST', '/v1/jobs', {
      body: { ...VALID_BODY, target_language: 'fr' },
      headers,
    })
    expect(response.status).toBe(422)
    expect((await problemOf(response)).type).toContain('idempotency-conflict')
  })

  it('should keep idempotency keys apart between tenants', async () => {
    const { call } = harness({ apiKeys: ['tenant_a_key', 'tenant_b_key'] })
    const headers = { 'idempotency-key': 'same' }
    const a = await call('POST', '/v1/jobs', { body: VALID_BODY, headers, key: 'tenant_a_key' })
    const b = await call('POST', '/v1/jobs', {
      body: { ...VALID_BODY, target_language: 'fr' },
      headers,
      key: 'tenant_b_key',
    })
    expect(b.status).toBe(202)
    expect(((await a.json()) as { id: string }).id).not.toBe(
      ((await b.json()) as { id: string }).id,
    )
  })

  it.each([
    [[], '/'],
    [{ target_language: 'es' }, '/video_url'],
    [{ ...VALID_BODY, video_url: 'ftp://example.com/a.mp4' }, '/video_url'],
    [{ ...VALID_BODY, video_url: 42 }, '/video_url'],
    [{ ...VALID_BODY, video_url: `https://example.com/${'a'.repeat(2048)}` }, '/video_url'],
    [{ ...VALID_BODY, target_language: 'Spanish!' }, '/target_language'],
    [{ ...VALID_BODY, title: 'x'.repeat(201) }, '/title'],
    [{ ...VALID_BODY, callback_url: 'javascript:alert(1)' }, '/callback_url'],
    [{ ...VALID_BODY, callback_url: 'http://user:secret@127.0.0.1/hook' }, '/callback_url'],
    [{ ...VALID_BODY, callback_url: 'https:user:secret@example.com/hook' }, '/callback_url'],
    [{ ...VALID_BODY, simulate: 'fast' }, '/simulate'],
    [{ ...VALID_BODY, simulate: { duration_ms: -1 } }, '/simulate/duration_ms'],
    [{ ...VALID_BODY, simulate: { duration_ms: 1.5 } }, '/simulate/duration_ms'],
    [{ ...VALID_BODY, simulate: { outcome: 'canceled' } }, '/simulate/outcome'],
    [{ ...VALID_BODY, surprise: true }, '/'],
  ])('should reject invalid body #%# with 400 naming the field', async (body, field) => {
    const { call } = harness()
    const response = await call('POST', '/v1/jobs', { body })
    expect(response.status).toBe(400)
    const problem = await problemOf(response)
    expect(problem).toMatchObject({ field, in: 'body' })
    expect(problem.detail).toContain(field)
  })

  it('should reject a malformed idempotency key with 400 naming the header', async () => {
    const { call } = harness()
    const response = await call('POST', '/v1/jobs', {
      body: VALID_BODY,
      headers: { 'idempotency-key': 'x'.repeat(300) },
    })
    expect(response.status).toBe(400)
    expect(await problemOf(response)).toMatchObject({ field: '/idempotency-key', in: 'header' })
  })

  it('should reject malformed JSON with 400 and a body that is not JSON with 415', async () => {
    const { call } = harness()
    const malformed = await call('POST', '/v1/jobs', { body: '{"video_url":' })
    expect(malformed.status).toBe(400)
    expect(await problemOf(malformed)).toMatchObject({ field: '/', in: 'body' })
    const text = await call('POST', '/v1/jobs', {
      body: 'video_url=x',
      headers: { 'content-type': 'text/plain' },
    })
    expect(text.status).toBe(415)
    await problemOf(text)
    // JSON with parameters the validators cannot read is the same 415, said the same way.
    for (const type of ['application/json;', 'application/json; charset', 'text/plain; a=json']) {
      const odd = await call('POST', '/v1/jobs', {
        body: VALID_BODY,
        headers: { 'content-type': type },
      })
      expect(odd.status, type).toBe(415)
      expect((await problemOf(odd)).type, type).toContain('unsupported-media-type')
    }
    // Another charset than UTF-8 would be read as UTF-8, garbled: refused, saying so.
    for (const type of ['application/json; charset=utf-16', 'application/json;charset="latin1"']) {
      const other = await call('POST', '/v1/jobs', {
        body: VALID_BODY,
        headers: { 'content-type': type },
      })
      expect(other.status, type).toBe(415)
      expect((await problemOf(other)).detail, type).toMatch(/UTF-8/)
    }
    for (const type of [
      'application/json; charset=utf-8',
      'application/json; charset="UTF-8"',
      'APPLICATION/JSON',
      'application/vnd.api+json',
    ]) {
      const ok = await call('POST', '/v1/jobs', {
        body: VALID_BODY,
        headers: { 'content-type': type },
      })
      expect(ok.status, type).toBe(202)
    }
  })

  it('should refuse a body that is not UTF-8 with a 400 naming it, not make a job of U+FFFD', async () => {
    const { app } = harness()
    const headers = { authorization: `Bearer ${DEV_API_KEY}`, 'content-type': 'application/json' }
    const text = JSON.stringify({ ...VALID_BODY, title: 'caf\u00e9' })
    const good = new TextEncoder().encode(text)
    // The same body with its é (C3 A9) in Latin-1 (E9): not UTF-8.
    const at = good.indexOf(0xc3)
    const latin1 = new Uint8Array([...good.slice(0, at), 0xe9, ...good.slice(at + 2)])
    const bad = await app.request('/v1/jobs', { method: 'POST', headers, body: latin1 })
    expect(bad.status).toBe(400)
    expect(await problemOf(bad)).toMatchObject({
      in: 'body',
      detail: expect.stringMatching(/UTF-8/),
    })
    const ok = await app.request('/v1/jobs', { method: 'POST', headers, body: good })
    expect(ok.status).toBe(202)
    expect((await ok.json()).title).toBe('caf\u00e9')
  })

  it('should answer a compressed body with 415 and the codings it reads, not blame its JSON', async () => {
    const { call } = harness()
    for (const coding of ['gzip', 'br']) {
      const response = await call('POST', '/v1/jobs', {
        body: VALID_BODY,
        headers: { 'content-type': 'application/json', 'content-encoding': coding },
      })
      expect(response.status, coding).toBe(415)
      expect(response.headers.get('accept-encoding')).toBe('identity')
      expect((await problemOf(response)).detail).toContain('uncompressed')
    }
    const plain = await call('POST', '/v1/jobs', {
      body: VALID_BODY,
      headers: { 'content-type': 'application/json', 'content-encoding': 'identity' },
    })
    expect(plain.status).toBe(202)
    // No body: nothing encoded to refuse.
    const { id } = (await plain.json()) as { id: string }
    const cancel = await call('POST', `/v1/jobs/${id}/cancel`, {
      headers: { 'content-encoding': 'gzip' },
    })
    expect(cancel.status).toBe(202)
  })

  it('should reject a body over the size limit with 413', async () => {
    const { call } = harness({ maxBodyBytes: 1_024 })
    const response = await call('POST', '/v1/jobs', {
      body: { ...VALID_BODY, title: 'x'.repeat(2_000) },
    })
    expect(response.status).toBe(413)
    await problemOf(response)
  })
})

describe('GET /v1/jobs/:id', () => {
  it('should answer synchronously when it has nothing to wait for (no middleware on the hot route)', async () => {
    const { app, createJob } = harness()
    const { id } = await createJob()
    const request = () =>
      new Request(`http://127.0.0.1/v1/jobs/${id}`, {
        headers: { authorization: `Bearer ${DEV_API_KEY}` },
      })
    const answer = app.fetch(request())
    expect(answer).toBeInstanceOf(Response)
    expect(app.router.name).toBe('SmartRouter + RegExpRouter')
    expect((answer as Response).status).toBe(200)
    expect((answer as Response).headers.get('x-request-id')).toMatch(/^req_/)
    // A browser's request goes through hono's cors middleware, which is asynchronous.
    const browser = request()
    browser.headers.set('origin', 'http://localhost:5173')
    const pending = app.fetch(browser)
    expect(pending).toBeInstanceOf(Promise)
    expect((await pending).headers.get('access-control-allow-origin')).toBe('http://localhost:5173')
  })

  it('should go pending → running with stepped progress → completed as the clock moves', async () => {
    const { clock, createJob, getJob } = harness()
    const { id } = await createJob()
    expect(await getJob(id)).toMatchObject({ status: 'pending', progress: 0, eta_ms: 10_000 })
    clock.advance(1_000)
    expect(await getJob(id)).toMatchObject({
      status: 'running',
      progress: 0,
      eta_ms: 9_000,
      updated_at: '2026-01-01T00:00:01.000Z',
    })
    clock.advance(5_500)
    expect(await getJob(id)).toMatchObject({
      status: 'running',
      progress: 0.556,
      eta_ms: 4_000,
      updated_at: '2026-01-01T00:00:06.000Z',
    })
    clock.advance(3_500)
    const done = await getJob(id)
    expect(done).toMatchObject({
      status: 'completed',
      progress: 1,
      eta_ms: null,
      error: null,
      updated_at: '2026-01-01T00:00:10.000Z',
    })
    expect(done.result?.url).toMatch(/^https:\/\/.*\.mp4$/)
    clock.advance(60_000)
    expect(await getJob(id)).toEqual(done)
  })

  it('should end in error with a code and message for an error outcome', async () => {
    const { clock, createJob, getJob } = harness()
    const { id } = await createJob({ simulate: { duration_ms: 100, outcome: 'error' } })
    clock.advance(100)
    expect(await getJob(id)).toMatchObject({
      status: 'error',
      result: null,
      error: { code: 'translation_failed', message: expect.any(String) },
    })
  })

  it('should send Retry-After while running and none once terminal', async () => {
    const { clock, call, createJob } = harness()
    const { id } = await createJob()
    clock.advance(4_000)
    expect((await call('GET', `/v1/jobs/${id}`)).headers.get('retry-after')).toBe('6')
    clock.advance(6_000)
    expect((await call('GET', `/v1/jobs/${id}`)).headers.get('retry-after')).toBeNull()
  })

  it('should answer 304 to If-None-Match while nothing changed, and 200 once it did', async () => {
    const { clock, call, createJob } = harness()
    const { id } = await createJob()
    clock.advance(1_200)
    const first = await call('GET', `/v1/jobs/${id}`)
    const etag = first.headers.get('etag') ?? ''
    clock.advance(500)
    const same = await call('GET', `/v1/jobs/${id}`, { headers: { 'if-none-match': etag } })
    expect(same.status).toBe(304)
    expect(await same.text()).toBe('')
    expect(same.headers.get('etag')).toBe(etag)
    expect(same.headers.get('retry-after')).not.toBeNull()
    clock.advance(500)
    const changed = await call('GET', `/v1/jobs/${id}`, { headers: { 'if-none-match': etag } })
    expect(changed.status).toBe(200)
    expect(changed.headers.get('etag')).not.toBe(etag)
  })

  it('should say a create without a body needs one', async () => {
    const { call } = harness()
    const response = await call('POST', '/v1/jobs')
    expect(response.status).toBe(400)
    expect(await problemOf(response)).toMatchObject({
      field: '/',
      detail: 'body /: a JSON object is required',
    })
  })

  it('should read a long If-None-Match list, and ignore a long Prefer it cannot use', async () => {
    const { call, createJob } = harness()
    const { id } = await createJob()
    const etag = (await call('GET', `/v1/jobs/${id}`)).headers.get('etag') ?? ''
    const others = Array.from({ length: 60 }, (_, i) => `"v${i}-0123456789abcdef"`)
    const listed = await call('GET', `/v1/jobs/${id}`, {
      headers: { 'if-none-match': [...others, etag].join(', ') },
    })
    expect(listed.status).toBe(304)
    const prefer = `respond-async, ${Array.from({ length: 40 }, (_, i) => `x-pref-${i}=1`).join(', ')}`
    const preferred = await call('GET', `/v1/jobs/${id}`, { headers: { prefer } })
    expect(preferred.status).toBe(200)
    expect(preferred.headers.get('preference-applied')).toBeNull()
  })

  it.each([
    ['none', null, false],
    ['retry-after', null, true],
    ['eta', 8_000, true],
  ] as const)('should send hints of mode %s', async (mode, eta, retryAfter) => {
    const { clock, call, createJob } = harness({ simulation: { hints: { mode, eta_noise: 0 } } })
    const { id } = await createJob()
    clock.advance(2_000)
    const response = await call('GET', `/v1/jobs/${id}`)
    expect(((await response.json()) as { eta_ms: unknown }).eta_ms).toBe(eta)
    expect(response.headers.has('retry-after')).toBe(retryAfter)
  })

  it('should keep noisy ETAs within ±eta_noise of the truth, and stable between steps', async () => {
    const { clock, createJob, getJob } = harness({
      simulation: { hints: { mode: 'eta', eta_noise: 0.3 } },
    })
    const { id } = await createJob({ simulate: { duration_ms: 100_000 } })
    clock.advance(10_000)
    const seen = new Set<number>()
    for (let t = 10_000; t < 99_000; t += 1_000) {
      clock.advance(1_000)
      const { eta_ms } = await getJob(id)
      const truth = 100_000 - (10_000 + Math.floor((t - 10_000) / 1_000) * 1_000) - 1_000
      expect(eta_ms).toBeGreaterThanOrEqual(Math.floor(truth * 0.7))
      expect(eta_ms).toBeLessThanOrEqual(Math.ceil(truth * 1.3))
      expect(await getJob(id)).toMatchObject({ eta_ms })
      seen.add(eta_ms ?? -1)
    }
    expect(seen.size).toBeGreaterThan(50)
  })

  it('should answer 404 for an unknown id and 400 for a malformed one', async () => {
    const { call } = harness()
    const missing = await call('GET', '/v1/jobs/job_nope')
    expect(missing.status).toBe(404)
    expect((await problemOf(missing)).detail).toContain('job_nope')
    const malformed = await call('GET', `/v1/jobs/${'x'.repeat(65)}`)
    expect(malformed.status).toBe(400)
    expect(await problemOf(malformed)).toMatchObject({ field: '/id', in: 'path' })
  })

  it('should forget finished jobs after the TTL', async () => {
    const { clock, call, createJob, simulator } = harness({ simulation: { job_ttl_ms: 60_000 } })
    const { id } = await createJob()
    clock.advance(10_000 + 59_999)
    expect((await call('GET', `/v1/jobs/${id}`)).status).toBe(200)
    clock.advance(1)
    expect((await call('GET', `/v1/jobs/${id}`)).status).toBe(404)
    for (let i = 0; i < 5; i++) await createJob()
    clock.advance(200_000)
    await createJob()
    expect(simulator.jobCount).toBe(1)
  })
})

describe('GET /v1/jobs?ids=', () => {
  it('should return the jobs in the order asked and list the missing ids', async () => {
    const { clock, call, createJob } = harness()
    const a = await createJob({ simulate: { duration_ms: 20_000 } })
    const b = await createJob({ simulate: { duration_ms: 5_000 } })
    clock.advance(3_000)
    const response = await call('GET', `/v1/jobs?ids=${b.id},nope,${a.id},${b.id}`)
    expect(response.status).toBe(200)
    const { jobs, missing } = (await response.json()) as {
      jobs: { id: string }[]
      missing: string[]
    }
    expect(jobs.map((job) => job.id)).toEqual([b.id, a.id])
    expect(missing).toEqual(['nope'])
    // b (5 s) has 2 s left at the answer (its last progress step, at 2.5 s, said 2.5 s).
    expect(response.headers.get('retry-after')).toBe('2')
    // Statuses change: a cache asks again (as for one job), whoever asked (no CORS on it).
    expect(response.headers.get('cache-control')).toBe('no-cache')
    expect(response.headers.get('vary')).toBe('Origin')
  })

  it('should count the ids named, not the text: duplicates and empty entries aside', async () => {
    const { call, createJob } = harness()
    const { id } = await createJob()
    const others = Array.from({ length: 99 }, (_, i) => `job_${String(i).padStart(60, '0')}`)
    const ids = [id, ...others, id, ...others.slice(0, 20), '', '']
    const response = await call('GET', `/v1/jobs?ids=${ids.join(',')}`)
    expect(response.status).toBe(200)
    const { jobs, missing } = (await response.json()) as { jobs: unknown[]; missing: string[] }
    expect(jobs).toHaveLength(1)
    expect(missing).toHaveLength(99)
  })

  it('should not show another tenant’s jobs', async () => {
    const { call, createJob } = harness({ apiKeys: ['tenant_a_key', 'tenant_b_key'] })
    const job = await createJob({}, { key: 'tenant_a_key' })
    const response = await call('GET', `/v1/jobs?ids=${job.id}`, { key: 'tenant_b_key' })
    expect(await response.json()).toEqual({ jobs: [], missing: [job.id] })
  })

  it.each([
    ['', 'no ids'],
    ['ids=', 'an empty list'],
    [`ids=${Array.from({ length: 101 }, (_, i) => `job_${i}`).join(',')}`, '101 ids'],
    ['ids=a,b%20c', 'a malformed id'],
  ])('should reject ?%s (%s) with 400 naming ids', async (query, _) => {
    const { call } = harness()
    const response = await call('GET', `/v1/jobs?${query}`)
    expect(response.status).toBe(400)
    expect((await problemOf(response)).field).toMatch(/^\/ids/)
  })
})

describe('POST /v1/jobs/:id/cancel', () => {
  it('should cancel a running job for good, keeping its progress', async () => {
    const { clock, call, createJob, getJob } = harness()
    const { id } = await createJob()
    clock.advance(5_000)
    const response = await call('POST', `/v1/jobs/${id}/cancel`)
    expect(response.status).toBe(202)
    const canceled = (await response.json()) as Record<string, unknown>
    expect(canceled).toMatchObject({
      status: 'canceled',
      progress: 0.444,
      eta_ms: null,
      updated_at: '2026-01-01T00:00:05.000Z',
    })
    clock.advance(60_000)
    expect(await getJob(id)).toEqual(canceled)
  })

  it('should answer 409 for a finished job and 404 for an unknown one', async () => {
    const { clock, call, createJob } = harness()
    const { id } = await createJob()
    clock.advance(10_000)
    const terminal = await call('POST', `/v1/jobs/${id}/cancel`)
    expect(terminal.status).toBe(409)
    expect(await problemOf(terminal)).toMatchObject({ job_status: 'completed' })
    const again = await call('POST', `/v1/jobs/job_nope/cancel`)
    expect(again.status).toBe(404)
  })

  it('should answer 409 to a second cancel', async () => {
    const { call, createJob } = harness()
    const { id } = await createJob()
    expect((await call('POST', `/v1/jobs/${id}/cancel`)).status).toBe(202)
    expect((await call('POST', `/v1/jobs/${id}/cancel`)).status).toBe(409)
  })
})
