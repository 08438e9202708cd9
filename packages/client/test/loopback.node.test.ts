/**
 * The client against the mock server over a real loopback port, with the runtime's own fetch.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { gzipSync } from 'node:zlib'
import { DEV_API_KEY } from '@video-translation/mock-server'
import { type RunningServer, startServer } from '@video-translation/mock-server/node'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import {
  type ApiError,
  createClient,
  type InvalidResponseError,
  isAuthenticationError,
  isInvalidResponseError,
  isNotFoundError,
  isServerError,
  type ServerError,
} from '../src/index.js'
import type { FetchLike } from '../src/request/http.js'
import { jobBody } from './fake-fetch.js'

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

describe('client over loopback: bodies without bound', () => {
  /** A server on a loopback port answering every request with `answer`; counts requests. */
  async function rawServer(answer: (res: ServerResponse) => void) {
    let requests = 0
    let closed = 0
    const raw = createServer((_req, res) => {
      requests++
      res.on('close', () => closed++)
      answer(res)
    })
    await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve))
    const { port } = raw.address() as AddressInfo
    const client = createClient({
      baseUrl: `http://127.0.0.1:${port}`,
      apiKey: DEV_API_KEY,
      retry: { maxRetries: 1, initialDelayMs: 1 },
    })
    const stop = async () => {
      raw.closeAllConnections()
      await new Promise((resolve) => raw.close(resolve))
    }
    return { client, requests: () => requests, closed: () => closed, stop }
  }

  it('should not unpack a small gzip into a huge body, nor ask for it again', async () => {
    // 64 MB of spaces inside a job's field, some 64 kB packed.
    const packed = gzipSync(
      Buffer.concat([
        Buffer.from('{"id":"job_1","status":"running","title":"'),
        Buffer.alloc(64 << 20, 32),
        Buffer.from('"}'),
      ]),
    )
    const server = await rawServer((res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' })
      res.end(packed)
    })
    try {
      const error = await server.client.jobs.get('job_1').catch((e: unknown) => e)
      expect(isInvalidResponseError(error)).toBe(true)
      expect((error as Error).message).toMatch(/over 8388608 bytes/)
      expect((error as InvalidResponseError).retryable).toBe(false)
      expect(server.requests()).toBe(1)
    } finally {
      await server.stop()
    }
  })

  it('should stop reading a body without end, and read an error body only so far', async () => {
    const chunk = Buffer.alloc(1 << 20, 120)
    let status = 200
    const server = await rawServer((res) => {
      res.writeHead(status, { 'content-type': 'application/json' })
      // Chunked, without a length, for as long as the client reads (bounded: 100 MB).
      let sent = 0
      const more = () => {
        while (sent < 100 && res.write(chunk)) sent++
        if (sent < 100) res.once('drain', more)
        else res.end()
      }
      more()
    })
    try {
      const error = await server.client.jobs.get('job_1').catch((e: unknown) => e)
      expect(isInvalidResponseError(error)).toBe(true)
      // The client left: the server's answer was cut, not sent whole.
      await vi.waitFor(() => expect(server.closed()).toBe(1))
      status = 502
      const failed = await server.client.jobs.get('job_1').catch((e: unknown) => e)
      // Still the server's failure (its status), retried as one.
      expect(isServerError(failed)).toBe(true)
      expect((failed as ServerError).status).toBe(502)
      expect((failed as Error).message.length).toBeLessThan(2_000)
      expect(server.requests()).toBe(3)
    } finally {
      await server.stop()
    }
  })

  it('should read whole a body that is no web stream (node-fetch 2, polyfills)', async () => {
    const text = JSON.stringify(jobBody({ id: 'job_1' }))
    // node-fetch 2's answer: `body` a Node stream (no getReader), chunked (no length).
    const nodeFetchLike = (async () => ({
      ok: true,
      status: 200,
      headers: new Headers({ 'content-type': 'application/json' }),
      body: { pipe() {}, on() {} },
      text: async () => text,
    })) as unknown as FetchLike
    const client = createClient({ baseUrl: 'http://api.test', fetch: nodeFetchLike })
    expect((await client.jobs.get('job_1')).id).toBe('job_1')
  })
})

describe('client over loopback: redirects', () => {
  type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void
  /** Servers on loopback ports (each its own origin), stopped after the test. */
  const servers: Server[] = []
  async function serve(handle: Handler): Promise<string> {
    const raw = createServer((req, res) => {
      let body = ''
      req.on('data', (chunk: Buffer) => {
        body += chunk.toString()
      })
      req.on('end', () => handle(req, res, body))
    })
    servers.push(raw)
    await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve))
    return `http://127.0.0.1:${(raw.address() as AddressInfo).port}`
  }
  afterEach(async () => {
    for (const raw of servers.splice(0)) {
      raw.closeAllConnections()
      await new Promise((resolve) => raw.close(resolve))
    }
  })
  const answer = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' })
    res.end(JSON.stringify(body))
  }
  const params = { video_url: 'https://example.com/a.mp4', target_language: 'es' }

  it('should say a create redirected with 301 was sent on as a GET, and where to', async () => {
    const seen: string[] = []
    const base = await serve((req, res) => {
      seen.push(`${req.method} ${req.url}`)
      if (req.url === '/v1/jobs') {
        res.writeHead(301, { location: '/api/v1/jobs?token=secret' })
        return res.end()
      }
      answer(res, 405, { title: 'Method Not Allowed', status: 405 })
    })
    const client = createClient({ baseUrl: base, apiKey: DEV_API_KEY })
    const error = (await client.jobs.create(params).catch((e: unknown) => e)) as ApiError
    expect(seen).toEqual(['POST /v1/jobs', 'GET /api/v1/jobs?token=secret'])
    expect(error.status).toBe(405)
    expect(error.request).toMatchObject({ method: 'POST', redirectedTo: `${base}/api/v1/jobs` })
    expect(error.message).toContain(`redirected to ${base}/api/v1/jobs (after a 301, 302 or 303`)
    expect(error.message).toContain('fetch sends the POST on as a GET')
    expect(error.message).not.toContain('secret')
  })

  it('should follow a 307 or 308 with the create as it was', async () => {
    const base = await serve((req, res, body) => {
      if (req.url === '/v1/jobs') {
        res.writeHead(307, { location: '/api/v1/jobs' })
        return res.end()
      }
      const asked = JSON.parse(body) as typeof params
      const ok = req.method === 'POST' && asked.target_language === 'es'
      answer(res, ok ? 201 : 400, jobBody({ id: 'job_moved', status: 'pending' }))
    })
    const client = createClient({ baseUrl: base, apiKey: DEV_API_KEY })
    expect(await client.jobs.create(params)).toMatchObject({ id: 'job_moved' })
  })

  it('should say a 401 after a redirect to another origin lost the Authorization header', async () => {
    const target = await serve((req, res) => {
      const authorized = req.headers.authorization === `Bearer ${DEV_API_KEY}`
      if (!authorized) return answer(res, 401, { title: 'Unauthorized', status: 401 })
      answer(res, 200, jobBody({ id: 'job_1' }))
    })
    const base = await serve((req, res) => {
      res.writeHead(308, { location: `${target}${req.url}` })
      res.end()
    })
    const error = await createClient({ baseUrl: base, apiKey: DEV_API_KEY })
      .jobs.get('job_1')
      .catch((e: unknown) => e)
    expect(isAuthenticationError(error)).toBe(true)
    const { message } = error as ApiError
    expect(message).toContain(`redirected to ${target}/v1/jobs/job_1 (fetch sends no Authorization`)
    expect(message).not.toContain(DEV_API_KEY)
    // At the address it redirects to, the key goes with every request.
    const direct = createClient({ baseUrl: target, apiKey: DEV_API_KEY })
    expect(await direct.jobs.get('job_1')).toMatchObject({ id: 'job_1' })
  })
})
