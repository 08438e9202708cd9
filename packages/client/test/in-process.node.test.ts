/**
 * The client against the real mock server in-process: `app.request()` as the fetch, no network.
 */
import { createApp, createManualClock, DEV_API_KEY } from '@video-translation/mock-server'
import { describe, expect, it } from 'vitest'
import { createClient, isApiError, isNotFoundError } from '../src/index.js'

function setup() {
  const clock = createManualClock()
  const app = createApp({ clock, simulation: { seed: 7, hints: { mode: 'eta', eta_noise: 0 } } })
  const client = createClient({
    baseUrl: 'http://mock.test',
    apiKey: DEV_API_KEY,
    // As the README has it: `app.request` may answer with a Response, not a promise of one.
    fetch: (input, init) => app.request(input, init),
  })
  return { clock, client }
}

describe('client against the mock server in-process', () => {
  it('should create a job and follow it to completed as time passes', async () => {
    const { clock, client } = setup()
    const created = await client.jobs.create({
      video_url: 'https://example.com/a.mp4',
      target_language: 'fr',
      simulate: { duration_ms: 10_000 },
    })
    expect(created).toMatchObject({ status: 'pending', progress: 0, eta_ms: 10_000 })
    clock.advance(5_500)
    const running = await client.jobs.get(created.id)
    expect(running.status).toBe('running')
    expect(running.progress).toBeCloseTo(0.5, 2)
    clock.advance(4_500)
    const done = await client.jobs.get(created.id)
    expect(done).toMatchObject({ status: 'completed', progress: 1, eta_ms: null })
    expect(done.result?.url).toMatch(/^https:\/\//)
  })

  it('should surface a job that ends in error as data, not as a thrown error', async () => {
    const { clock, client } = setup()
    const created = await client.jobs.create({
      video_url: 'https://example.com/a.mp4',
      target_language: 'de',
      simulate: { duration_ms: 100, outcome: 'error' },
    })
    clock.advance(100)
    const job = await client.jobs.get(created.id)
    expect(job.status).toBe('error')
    expect(job.error?.code).toBe('translation_failed')
  })

  it('should map an unknown id to NotFoundError with the server problem and request id', async () => {
    const { client } = setup()
    const error = await client.jobs.get('job_missing').catch((e: unknown) => e)
    expect(isNotFoundError(error)).toBe(true)
    expect(error).toMatchObject({
      status: 404,
      requestId: expect.stringMatching(/^req_/),
      problem: { title: 'Job not found', status: 404 },
    })
  })

  it('should map a rejected body to an ApiError that names the field', async () => {
    const { client } = setup()
    const error = await client.jobs
      .create({ video_url: 'not a url', target_language: 'es' })
      .catch((e: unknown) => e)
    expect(isApiError(error)).toBe(true)
    expect(error).toMatchObject({ status: 400, problem: { field: '/video_url' } })
    expect((error as Error).message).toContain('/video_url')
  })
})
