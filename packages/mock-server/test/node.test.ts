/**
 * The Node entry over a real loopback socket.
 */
import { connect } from 'node:net'
import { describe, expect, it } from 'vitest'
import { DEV_API_KEY } from '../src/app.js'
import { startServer } from '../src/node.js'

describe('startServer', () => {
  it('should listen on 127.0.0.1, serve the app, and close', async () => {
    const server = await startServer({ port: 0 })
    try {
      expect(server.url).toBe(`http://127.0.0.1:${server.port}`)
      const created = await fetch(`${server.url}/v1/jobs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${DEV_API_KEY}` },
        body: JSON.stringify({ video_url: 'https://example.com/a.mp4', target_language: 'es' }),
      })
      expect(created.status).toBe(202)
      const { id } = (await created.json()) as { id: string }
      const fetched = await fetch(`${server.url}/v1/jobs/${id}`, {
        headers: { 'x-api-key': DEV_API_KEY },
      })
      expect(fetched.status).toBe(200)
      expect(((await fetched.json()) as { id: string }).id).toBe(id)
    } finally {
      await server.close()
    }
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow()
  })

  it('should refuse a headers limit longer than the request limit, saying why', async () => {
    await expect(startServer({ headersTimeoutMs: 60_000 })).rejects.toThrow(
      /headersTimeoutMs must be .* at most requestTimeoutMs \(30000\)/,
    )
    await expect(startServer({ headersTimeoutMs: Number.NaN })).rejects.toThrow(TypeError)
  })

  it('should fit the headers limit left out into a shorter request limit', async () => {
    const server = await startServer({ requestTimeoutMs: 3_000 })
    try {
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200)
    } finally {
      await server.close()
    }
  })

  it('should reject when the port is taken', async () => {
    const first = await startServer({ port: 0 })
    try {
      await expect(startServer({ port: first.port })).rejects.toMatchObject({ code: 'EADDRINUSE' })
    } finally {
      await first.close()
    }
  })

  it('should answer an HTTP/1.0 request without a Host header', async () => {
    const server = await startServer({ port: 0 })
    try {
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = connect(server.port, '127.0.0.1')
        let text = ''
        socket.on('data', (chunk) => {
          text += chunk.toString('latin1')
        })
        socket.on('end', () => resolve(text))
        socket.on('error', reject)
        socket.write('GET /healthz HTTP/1.0\r\n\r\n')
      })
      expect(answer).toMatch(/^HTTP\/1\.1 200/)
      expect(answer).toContain('{"status":"ok"}')
    } finally {
      await server.close()
    }
  })
})
