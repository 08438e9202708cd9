/**
 * The client and the mock server together over a real loopback port, as an application uses
 * them: jobs that complete, fail and get canceled, a timeout, an abort and a 503 storm, with the
 * outcomes, the requests they cost and the logged history checked.
 */
import {
  type ClientOptions,
  createClient,
  fixedInterval,
  isJobFailedError,
  isTimeoutError,
  type JobFailedError,
  type TimeoutError,
} from '@video-translation/client'
import { DEV_ADMIN_KEY, DEV_API_KEY } from '@video-translation/mock-server'
import { type RunningServer, startServer } from '@video-translation/mock-server/node'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'

let server: RunningServer
const params = { video_url: 'https://example.com/a.mp4', target_language: 'es' }

beforeAll(async () => {
  server = await startServer({
    port: 0,
    simulation: {
      error_rate: 0,
      hints: { mode: 'eta', eta_noise: 0.1 },
      rate_limit: { capacity: 1_000, refill_per_s: 1_000 },
    },
  })
})

afterAll(async () => {
  await server.close()
})

afterEach(async () => {
  await simulate({ faults: { rate_503: 0 } })
})

async function simulate(patch: object): Promise<void> {
  const response = await fetch(`${server.url}/v1/simulation`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${DEV_ADMIN_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(patch),
  })
  expect(response.status).toBe(200)
}

function client(options: Partial<ClientOptions> = {}) {
  const requests: string[] = []
  const instance = createClient({
    ...options,
    baseUrl: server.url,
    apiKey: DEV_API_KEY,
    fetch: (input, init) => {
      requests.push(`${init.method ?? 'GET'} ${new URL(input).pathname}`)
      return fetch(input, init)
    },
  })
  return { client: instance, requests }
}

describe('end to end over loopback', () => {
  it('should follow a job to completed in few requests, with its history logged', async () => {
    const { client: c, requests } = client()
    const job = await c.jobs.createAndWait(
      { ...params, simulate: { duration_ms: 1_500 } },
      { timeoutMs: 10_000 },
    )
    expect(job.status).toBe('completed')
    const history = c.jobs.history(job.id)
    expect(history.at(-1)).toMatchObject({ status: 'completed', httpStatus: 200 })
    expect(history.every((h) => h.httpStatus === 200)).toBe(true)
    // The mock offers event streams: one request follows the job, every status it pushed logged.
    expect(requests.filter((r) => r.startsWith('GET'))).toEqual([`GET /v1/jobs/${job.id}/events`])
    expect(history.every((h) => h.pushed)).toBe(true)
  })

  it('should report a job that ends in error as JobFailedError with the job', async () => {
    const { client: c } = client()
    const error = (await c.jobs
      .createAndWait(
        { ...params, simulate: { duration_ms: 500, outcome: 'error' } },
        { timeoutMs: 10_000 },
      )
      .catch((e: unknown) => e)) as JobFailedError
    expect(isJobFailedError(error)).toBe(true)
    expect(error.job).toMatchObject({ status: 'error', error: { code: 'translation_failed' } })
  })

  it('should end a wait on a canceled job with the canceled job', async () => {
    const { client: c } = client()
    const job = await c.jobs.create({ ...params, simulate: { duration_ms: 60_000 } })
    const waiting = c.jobs
      .wait(job.id, { polling: { nextDelay: () => 200 } })
      .catch((e: unknown) => e)
    await new Promise((resolve) => setTimeout(resolve, 300))
    await c.jobs.cancel(job.id)
    const error = (await waiting) as JobFailedError
    expect(error.job.status).toBe('canceled')
  })

  it('should time out with the last job seen', async () => {
    const { client: c } = client()
    const job = await c.jobs.create({ ...params, simulate: { duration_ms: 60_000 } })
    const started = performance.now()
    const error = (await c.jobs
      .wait(job.id, { timeoutMs: 800 })
      .catch((e: unknown) => e)) as TimeoutError
    // The deadline's last look may take up to a second more; retries never go past it.
    expect(performance.now() - started).toBeLessThan(800 + 1_000 + 1_500)
    expect(isTimeoutError(error)).toBe(true)
    expect(error.job?.id).toBe(job.id)
    expect(['pending', 'running']).toContain(error.job?.status)
  })

  it('should stop at once on abort and send nothing more', async () => {
    const { client: c, requests } = client()
    const job = await c.jobs.create({ ...params, simulate: { duration_ms: 60_000 } })
    const controller = new AbortController()
    // Checks every 100 ms: a wait that kept going after the abort would show within 1.5 s.
    const waiting = c.jobs.wait(job.id, { signal: controller.signal, polling: fixedInterval(100) })
    await new Promise((resolve) => setTimeout(resolve, 200))
    controller.abort(new Error('done here'))
    await expect(waiting).rejects.toThrow('done here')
    const sent = requests.length
    await new Promise((resolve) => setTimeout(resolve, 1_500))
    expect(requests.length).toBe(sent)
  })

  it('should ride out a 503 storm: more requests, same outcome', async () => {
    // Status checks retried through the storm (a stream would need only its one request).
    const { client: c, requests } = client({ transport: 'poll' })
    const created = await c.jobs.create({ ...params, simulate: { duration_ms: 1_500 } })
    await simulate({ faults: { rate_503: 0.5, retry_after_s: 0 } })
    const job = await c.jobs.wait(created.id, { timeoutMs: 20_000 })
    expect(job.status).toBe('completed')
    const gets = requests.filter((r) => r.startsWith('GET')).length
    expect(gets).toBeGreaterThan(c.jobs.history(job.id).length)
  })
})
