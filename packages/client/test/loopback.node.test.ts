/**
 * The client against the mock server over a real loopback port, with the runtime's own fetch.
 */
import { DEV_API_KEY } from '@video-translation/mock-server'
import { type RunningServer, startServer } from '@video-translation/mock-server/node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createClient, isNotFoundError } from '../src/index.js'

let server: RunningServer

beforeAll(async () => {
  server = await startServer({ host: '127.0.0.1', port: 0 })
})

afterAll(async () => {
  await server.close()
})

describe('client over loopback', () => {
  it('should create and fetch a job through a real socket', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    const client = createClient({ baseUrl: server.url, apiKey: DEV_API_KEY })
    const created = await client.jobs.create({
      video_url: 'https://example.com/a.mp4',
      target_language: 'ja',
      title: 'Loopback',
    })
    const fetched = await client.jobs.get(created.id)
    expect(fetched.id).toBe(created.id)
    expect(fetched.title).toBe('Loopback')
    expect(['pending', 'running']).toContain(fetched.status)
  })

  it('should report a missing job as NotFoundError', async () => {
    const client = createClient({ baseUrl: server.url, apiKey: DEV_API_KEY })
    await expect(client.jobs.get('job_nope')).rejects.toSatisfy(isNotFoundError)
  })
})
