import { describe, expect, it } from 'vitest'
import { createApp } from './app.js'
import { createManualClock } from './simulator/clock.js'

const VALID = { video_url: 'https://example.com/a.mp4', target_language: 'es' }

function setup(seed = 1) {
  const clock = createManualClock()
  const app = createApp({ clock, seed })
  const post = (body: unknown, headers: Record<string, string> = {}) =>
    app.request('/v1/jobs', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    })
  return { app, clock, post }
}

async function expectProblem(response: Response, status: number) {
  expect(response.status).toBe(status)
  expect(response.headers.get('content-type')).toBe('application/problem+json')
  const body = (await response.json()) as Record<string, unknown>
  expect(body).toMatchObject({
    status,
    type: expect.stringMatching(/^urn:/),
    title: expect.any(String),
  })
  expect(body.request_id).toBe(response.headers.get('x-request-id'))
  return body
}

describe('POST /v1/jobs', () => {
  it('should answer 202 with the job, Location, Retry-After and a request id', async () => {
    const { post } = setup()
    const response = await post({ ...VALID, title: 'Talk', simulate: { duration_ms: 4_200 } })
    expect(response.status).toBe(202)
    const job = (await response.json()) as Record<string, unknown>
    expect(job).toMatchObject({
      id: expect.stringMatching(/^job_[0-9a-f]{16}$/),
      status: 'pending',
      progress: 0,
      eta_ms: 4_200,
      title: 'Talk',
      video_url: VALID.video_url,
      target_language: 'es',
      result: null,
      error: null,
    })
    expect(response.headers.get('location')).toBe(`/v1/jobs/${job.id}`)
    expect(response.headers.get('retry-after')).toBe('5')
    expect(response.headers.get('x-request-id')).toMatch(/^req_/)
  })

  it.each([
    [[], '/'],
    [{ target_language: 'es' }, '/video_url'],
    [{ ...VALID, video_url: 'ftp://example.com/a.mp4' }, '/video_url'],
    [{ ...VALID, video_url: 42 }, '/video_url'],
    [{ ...VALID, target_language: 'Spanish!' }, '/target_language'],
    [{ ...VALID, title: 'x'.repeat(201) }, '/title'],
    [{ ...VALID, simulate: 'fast' }, '/simulate'],
    [{ ...VALID, simulate: { duration_ms: -1 } }, '/simulate/duration_ms'],
    [{ ...VALID, simulate: { duration_ms: 1.5 } }, '/simulate/duration_ms'],
    [{ ...VALID, simulate: { outcome: 'canceled' } }, '/simulate/outcome'],
  ])('should reject %j with 400 naming %s', async (body, field) => {
    const { post } = setup()
    const problem = await expectProblem(await post(body), 400)
    expect(problem.field).toBe(field)
    expect(problem.detail).toContain(field)
  })

  it('should reject malformed JSON with 400', async () => {
    const { post } = setup()
    const problem = await expectProblem(await post('{"video_url":'), 400)
    expect(problem.type).toContain('malformed-json')
  })

  it('should reject a body that is not JSON with 415', async () => {
    const { post } = setup()
    await expectProblem(await post('video_url=x', { 'content-type': 'text/plain' }), 415)
  })
})

describe('GET /v1/jobs/:id', () => {
  it('should follow the job through its statuses by the injected clock', async () => {
    const { app, clock, post } = setup()
    const created = (await (
      await post({ ...VALID, simulate: { duration_ms: 20_000 } })
    ).json()) as {
      id: string
    }
    const get = async () => {
      const response = await app.request(`/v1/jobs/${created.id}`)
      return { response, job: (await response.json()) as Record<string, unknown> }
    }
    clock.advance(10_000)
    const running = await get()
    expect(running.job.status).toBe('running')
    expect(running.response.headers.get('retry-after')).toBe('10')
    clock.advance(10_000)
    const done = await get()
    expect(done.job).toMatchObject({ status: 'completed', progress: 1 })
    expect(done.response.headers.get('retry-after')).toBeNull()
  })

  it('should answer 404 problem+json for an unknown id', async () => {
    const { app } = setup()
    const problem = await expectProblem(await app.request('/v1/jobs/job_nope'), 404)
    expect(problem.detail).toContain('job_nope')
  })
})

describe('app', () => {
  it('should answer unknown routes with 404 problem+json', async () => {
    const { app } = setup()
    await expectProblem(await app.request('/v2/whatever'), 404)
  })

  it('should expose the hint headers to browsers', async () => {
    const { app } = setup()
    const response = await app.request('/healthz', { headers: { origin: 'http://localhost:5173' } })
    expect(response.status).toBe(200)
    const exposed = response.headers.get('access-control-expose-headers') ?? ''
    for (const header of ['Retry-After', 'ETag', 'Location', 'X-Request-Id']) {
      expect(exposed).toContain(header)
    }
  })

  it('should give the same ids for the same seed and different ones for another', async () => {
    const ids = async (seed: number) => {
      const { post } = setup(seed)
      const out: string[] = []
      for (let i = 0; i < 3; i++)
        out.push(((await (await post(VALID)).json()) as { id: string }).id)
      return out
    }
    const first = await ids(42)
    expect(await ids(42)).toEqual(first)
    expect(await ids(43)).not.toEqual(first)
    expect(new Set(first).size).toBe(3)
  })
})
