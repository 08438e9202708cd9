/**
 * The client in a real headless Chromium against the mock server on a loopback port: proves the
 * package runs in a browser (no Node built-ins, CORS headers readable).
 */
import { describe, expect, inject, it } from 'vitest'
import { createClient, isNotFoundError } from '../src/index.js'

describe('client in Chromium', () => {
  it('should run in a real browser, not Node', () => {
    expect(typeof window).toBe('object')
    expect(navigator.userAgent).toMatch(/Chrome/)
    expect((globalThis as { process?: unknown }).process).toBeUndefined()
  })

  it('should create a job and fetch it across origins', async () => {
    const client = createClient({ baseUrl: inject('baseUrl'), apiKey: 'vt_dev_key' })
    const created = await client.jobs.create({
      video_url: 'https://example.com/a.mp4',
      target_language: 'it',
    })
    const fetched = await client.jobs.get(created.id)
    expect(fetched.id).toBe(created.id)
    expect(fetched.target_language).toBe('it')
  })

  it('should wait for a job to complete, following the server hints read through CORS', async () => {
    const client = createClient({ baseUrl: inject('baseUrl'), apiKey: 'vt_dev_key' })
    const statuses: string[] = []
    const job = await client.jobs.createAndWait(
      { video_url: 'https://example.com/a.mp4', target_language: 'fr' },
      { timeoutMs: 10_000, onProgress: (j) => statuses.push(j.status) },
    )
    expect(job.status).toBe('completed')
    expect(statuses.at(-1)).toBe('completed')
    expect(client.jobs.history(job.id).every((h) => h.httpStatus === 200)).toBe(true)
  })

  it('should reject at once when the wait is aborted', async () => {
    const client = createClient({ baseUrl: inject('baseUrl'), apiKey: 'vt_dev_key' })
    const job = await client.jobs.create({
      video_url: 'https://example.com/a.mp4',
      target_language: 'fr',
      simulate: { duration_ms: 60_000 },
    })
    const controller = new AbortController()
    const waiting = client.jobs.wait(job.id, { signal: controller.signal })
    controller.abort(new DOMException('left the page', 'AbortError'))
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError' })
  })

  it('should read the problem body and request id of an error response', async () => {
    const client = createClient({ baseUrl: inject('baseUrl'), apiKey: 'vt_dev_key' })
    const error = await client.jobs.get('job_missing').catch((e: unknown) => e)
    expect(isNotFoundError(error)).toBe(true)
    expect(error).toMatchObject({ status: 404, requestId: expect.stringMatching(/^req_/) })
  })
})
