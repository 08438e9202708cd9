/**
 * Long-poll, Server-Sent Events, webhooks and faults over real sockets on 127.0.0.1, in real
 * (short) time: what only a real HTTP stack shows.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http'
import { type AddressInfo, connect } from 'node:net'
import { EventSource } from 'eventsource'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { DEV_ADMIN_KEY, DEV_API_KEY, DEV_WEBHOOK_SECRET } from '../src/app.js'
import { type RunningServer, startServer } from '../src/node.js'
import type { JobView } from '../src/simulator/lifecycle.js'
import { signWebhook } from '../src/simulator/webhooks.js'
import { VALID_BODY } from './harness.js'
import { parseSse } from './sse.js'

const auth = { authorization: `Bearer ${DEV_API_KEY}` }
let server: RunningServer

beforeAll(async () => {
  server = await startServer({
    port: 0,
    simulation: {
      durations: { distribution: 'fixed', ms: 600 },
      error_rate: 0,
      progress_interval_ms: 100,
      rate_limit: { capacity: 10_000, refill_per_s: 10_000 },
    },
  })
})

afterAll(async () => {
  await server.close()
})

afterEach(async () => {
  await fetch(`${server.url}/v1/simulation`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${DEV_ADMIN_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ faults: { rate_reset: 0 } }),
  })
})

async function create(extra: Record<string, unknown> = {}): Promise<JobView> {
  const response = await fetch(`${server.url}/v1/jobs`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ ...VALID_BODY, ...extra }),
  })
  expect(response.status).toBe(202)
  return (await response.json()) as JobView
}

describe('over loopback', () => {
  it('should hold long-polls until each status change, then answer', async () => {
    const created = await create({ simulate: { duration_ms: 1_500 } })
    const seen: string[] = []
    let last = created.status
    while (last !== 'completed' && seen.length < 5) {
      const response = await fetch(`${server.url}/v1/jobs/${created.id}?wait=10`, { headers: auth })
      const { status } = (await response.json()) as JobView
      // Each answer is a new status, never the one the request started from: it was held.
      expect(status).not.toBe(last)
      seen.push(status)
      last = status
    }
    expect(seen.at(-1)).toBe('completed')
    expect(seen.length).toBeLessThanOrEqual(2)
  })

  it('should stream SSE to the end, and resume from Last-Event-ID', async () => {
    const { id } = await create()
    const full = await fetch(`${server.url}/v1/jobs/${id}/events`, { headers: auth })
    expect(full.headers.get('content-type')).toContain('text/event-stream')
    const events = parseSse(await full.text()).events
    expect(events.at(-1)?.event).toBe('status')
    expect((JSON.parse(events.at(-1)?.data ?? '') as JobView).status).toBe('completed')
    expect(events.length).toBeGreaterThan(3)
    const middle = events[2]?.id ?? ''
    const resumed = await fetch(`${server.url}/v1/jobs/${id}/events`, {
      headers: { ...auth, 'last-event-id': middle },
    })
    const rest = parseSse(await resumed.text()).events
    expect(rest.length).toBeGreaterThan(0)
    expect(rest.every((event) => Number(event.id) > Number(middle))).toBe(true)
    expect(rest.at(-1)?.id).toBe(events.at(-1)?.id)
  })

  it('should deliver a signed webhook to a real receiver', async () => {
    const received: { body: string; signature: string }[] = []
    const receiver: Server = createServer((req: IncomingMessage, res) => {
      let body = ''
      req.on('data', (chunk: Buffer) => {
        body += chunk.toString()
      })
      req.on('end', () => {
        received.push({ body, signature: String(req.headers['webhook-signature']) })
        res.writeHead(received.length === 1 ? 500 : 204).end()
      })
    })
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
    try {
      const { port } = receiver.address() as AddressInfo
      const { id } = await create({
        callback_url: `http://127.0.0.1:${port}/hooks`,
        simulate: { duration_ms: 50 },
      })
      // The retry comes about a second after the first delivery; up to 10 s on a busy machine.
      for (let i = 0; i < 200 && received.length < 2; i++)
        await new Promise((resolve) => setTimeout(resolve, 50))
      expect(received).toHaveLength(2)
      const last = received[1]
      expect(JSON.parse(last?.body ?? '')).toMatchObject({ id, status: 'completed' })
      const t = Number(/^t=(\d+),/.exec(last?.signature ?? '')?.[1])
      expect(last?.signature).toBe(await signWebhook(DEV_WEBHOOK_SECRET, t, last?.body ?? ''))
    } finally {
      await new Promise((resolve) => receiver.close(resolve))
    }
  })

  it('should make a reset fault a network error for the client', async () => {
    const { id } = await create()
    await fetch(`${server.url}/v1/simulation`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${DEV_ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ faults: { rate_reset: 1 } }),
    })
    const failure = await fetch(`${server.url}/v1/jobs/${id}`, { headers: auth })
      .then((response) => response.text())
      .then(
        () => 'no error',
        (error: unknown) => String(error),
      )
    expect(failure).not.toBe('no error')
    // Over the wire: the head, then half the body, then the connection cut (no final chunk).
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(new URL(server.url).port), '127.0.0.1', () => {
        socket.write(
          `GET /v1/jobs/${id} HTTP/1.1\r\nHost: x\r\nAuthorization: ${auth.authorization}\r\n\r\n`,
        )
      })
      let received = ''
      socket.on('data', (chunk) => {
        received += chunk
      })
      socket.on('error', reject)
      socket.on('close', () => resolve(received))
    })
    const body = raw.slice(raw.indexOf('\r\n\r\n') + 4)
    const [size, ...rest] = body.split('\r\n')
    const sent = rest.join('\r\n')
    expect(raw).toMatch(/^HTTP\/1\.1 200 /)
    expect(Number.parseInt(size ?? '', 16)).toBeGreaterThan(10)
    expect(sent.startsWith(`{"id":"${id}"`)).toBe(true)
    expect(body).not.toMatch(/\r\n0\r\n\r\n$/)
  })

  it('should close the connection after answering before the body was read, so the next request is safe', async () => {
    const { Agent, request } = await import('node:http')
    const agent = new Agent({ keepAlive: true, maxSockets: 1 })
    const url = new URL(server.url)
    const send = (method: string, path: string, headers: Record<string, string>, body?: string) =>
      new Promise<{ status: number; connection: string | undefined }>((resolve, reject) => {
        const req = request(
          { host: url.hostname, port: url.port, method, path, agent, headers },
          (res) => {
            res.resume()
            res.on('end', () =>
              resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }),
            )
          },
        )
        req.on('error', reject)
        req.end(body)
      })
    const json = { ...auth, 'content-type': 'application/json' }
    try {
      const tooLarge = await send('POST', '/v1/jobs', json, 'x'.repeat(200_000))
      expect(tooLarge).toEqual({ status: 413, connection: 'close' })
      expect((await send('GET', '/healthz', {})).status).toBe(200)
      const body = JSON.stringify(VALID_BODY)
      const unauthorized = await send(
        'POST',
        '/v1/jobs',
        { 'content-type': 'application/json' },
        body,
      )
      expect(unauthorized).toEqual({ status: 401, connection: 'close' })
      // A body that was read keeps the connection.
      const created = await send('POST', '/v1/jobs', json, body)
      expect(created).toEqual({ status: 202, connection: 'keep-alive' })
      expect((await send('GET', '/healthz', {})).status).toBe(200)
    } finally {
      agent.destroy()
    }
  })

  it('should answer a request whose headers never finish with a 408 problem, and close', async () => {
    const slow = await startServer({ headersTimeoutMs: 500 })
    const url = new URL(slow.url)
    const socket = connect(Number(url.port), url.hostname)
    try {
      let answer = ''
      socket.on('data', (chunk) => {
        answer += String(chunk)
      })
      socket.on('error', () => {})
      const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()))
      socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ')
      // Judged by what the server says and does. (Node used to look every 30 s, past this
      // test's own limit: such a socket then stayed open, unanswered, for up to 30 s.)
      await closed
      expect(answer).toMatch(/^HTTP\/1.1 408 /)
      expect(answer.toLowerCase()).toContain('content-type: application/problem+json')
    } finally {
      socket.destroy()
      await slow.close()
    }
  }, 15_000)

  it('should answer what the HTTP parser refuses as problem+json too, and close', async () => {
    const url = new URL(server.url)
    const raw = (request: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(Number(url.port), url.hostname)
        let text = ''
        socket.on('data', (chunk) => {
          text += String(chunk)
        })
        socket.on('close', () => resolve(text))
        socket.on('error', reject)
        socket.end(request)
      })
    const host = 'Host: 127.0.0.1\r\n'
    const cases = [
      [`GET /healthz HTTP/1.1\r\n${host}No colon here\r\n\r\n`, 400],
      [`GET /healthz HTTP/1.1\r\n${host}X-Big: ${'a'.repeat(40_000)}\r\n\r\n`, 431],
      [`FROBNICATE /v1/jobs HTTP/1.1\r\n${host}\r\n`, 400],
      // Requests Node parses but no URL can be made of, an expectation, a proxy's method.
      ['GET /healthz HTTP/1.1\r\n\r\n', 400],
      ['GET /healthz HTTP/1.1\r\nHost: a b\r\n\r\n', 400],
      [`GET /healthz HTTP/1.1\r\n${host}host: 127.0.0.2\r\n\r\n`, 400],
      [`OPTIONS * HTTP/1.1\r\n${host}\r\n`, 400],
      [`GET /v1\\jobs HTTP/1.1\r\n${host}\r\n`, 400],
      [`GET /healthz HTTP/1.1\r\n${host}Expect: soon\r\n\r\n`, 417],
      [`CONNECT 127.0.0.1:80 HTTP/1.1\r\n${host}\r\n`, 405],
    ] as const
    for (const [request, status] of cases) {
      const answer = await raw(request)
      const what = `${request.slice(0, 40)} -> ${answer.slice(0, 40)}`
      expect(answer, what).toMatch(new RegExp(`^HTTP/1.1 ${status} `))
      const head = answer.slice(0, answer.indexOf('\r\n\r\n')).toLowerCase()
      expect(head, what).toContain('content-type: application/problem+json')
      expect(head, what).toContain('connection: close')
      const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))
      expect(body, what).toMatchObject({
        status,
        type: expect.stringMatching(/^urn:video-translation/),
        detail: expect.any(String),
      })
      expect(head, what).toContain(`x-request-id: ${body.request_id}`)
    }
    // An unknown method is named as a possible cause, not only a broken line.
    expect(await raw(`FROBNICATE /v1/jobs HTTP/1.1\r\n${host}\r\n`)).toMatch(
      /its method is not one/,
    )
    // HTTP/1.0 needs no Host: it is read against the server's own.
    expect(await raw('GET /healthz HTTP/1.0\r\n\r\n')).toMatch(/^HTTP\/1.1 200 /)
  })
})

/**
 * A job's event stream read by a standard `EventSource` (the `eventsource` package, the WHATWG
 * EventSource for Node), as a browser reads it: the key in `?access_token=` (it can send no
 * header), every status as an event, and after the end, on its automatic reconnect with
 * `Last-Event-ID`, a 204 that makes it stop for good.
 */
describe('a standard EventSource', () => {
  it('should follow a job to its end with the key in the query, then stop on the 204', async () => {
    const job = await create()
    const url = `${server.url}/v1/jobs/${job.id}/events?access_token=${DEV_API_KEY}`
    const statuses: string[] = []
    const ids: string[] = []
    let opens = 0
    const source = new EventSource(url)
    const closed = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the EventSource never stopped')), 15_000)
      source.addEventListener('open', () => opens++)
      source.addEventListener('status', (event) => {
        statuses.push((JSON.parse(event.data) as JobView).status)
        ids.push(event.lastEventId)
      })
      source.addEventListener('error', () => {
        // After the stream ends it reconnects once (after the server's retry:) with
        // Last-Event-ID; the 204 then closes it for good.
        if (source.readyState === EventSource.CLOSED) {
          clearTimeout(timer)
          resolve()
        }
      })
    })
    await closed
    source.close()
    // The job may have started before the stream opened on a busy machine: either way in order.
    const order = ['pending', 'running', 'completed']
    expect(['pending', 'running']).toContain(statuses[0])
    expect(statuses.map((s) => order.indexOf(s))).toEqual(
      [...statuses.map((s) => order.indexOf(s))].sort((a, b) => a - b),
    )
    expect(statuses.at(-1)).toBe('completed')
    expect(new Set(ids).size).toBe(ids.length)
    expect(opens).toBe(1)
  }, 20_000)

  it('should be refused without a key, and the key in the query is taken on event streams only', async () => {
    const job = await create()
    const refused = await fetch(`${server.url}/v1/jobs/${job.id}/events`)
    expect(refused.status).toBe(401)
    await refused.body?.cancel()
    const elsewhere = await fetch(`${server.url}/v1/jobs/${job.id}?access_token=${DEV_API_KEY}`)
    expect(elsewhere.status).toBe(401)
    await elsewhere.body?.cancel()
    const wrong = await fetch(`${server.url}/v1/jobs/${job.id}/events?access_token=nope`)
    expect(wrong.status).toBe(401)
    await wrong.body?.cancel()
  })
})
