/**
 * The client in a process that blocks its own event loop (synchronous work in a service): an
 * answer that reached the socket during the stall is read before any time limit that fell due
 * meanwhile gives its verdict. Real sockets on loopback; the stall is a busy loop of a set
 * length, so what is checked is the order of events, not how fast the machine is.
 */
import { createServer, type Server } from 'node:http'
import { type AddressInfo, connect, createServer as createTcpServer, type Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { readFirstTimeout } from '../src/clock.js'
import { createClient } from '../src/index.js'
import { jobBody } from './fake-fetch.js'

/** Blocks the event loop for `ms`, as synchronous work in the app does. */
function stall(ms: number): void {
  const end = Date.now() + ms
  while (Date.now() < end) {
    // busy
  }
}

const servers: { close(): void }[] = []
afterEach(() => {
  for (const server of servers.splice(0)) server.close()
})

async function listening<T extends Server | ReturnType<typeof createTcpServer>>(server: T) {
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as AddressInfo).port
}

describe('a blocked event loop', () => {
  it('should run a timer that fired late after what the sockets hold is read', async () => {
    let peer: Socket | undefined
    const port = await listening(createTcpServer((socket) => (peer = socket)))
    const socket = connect(port, '127.0.0.1')
    await new Promise((resolve) => socket.once('connect', resolve))
    while (!peer) await new Promise((resolve) => setImmediate(resolve))
    const order: string[] = []
    socket.on('data', () => order.push('data'))
    const fired = new Promise<void>((resolve) =>
      readFirstTimeout(() => {
        order.push('timer')
        resolve()
      }, 20),
    )
    // The peer's bytes land in the socket while the loop is blocked past the timer's time.
    setImmediate(() => {
      peer?.write('x')
      stall(200)
    })
    await fired
    socket.destroy()
    peer?.destroy()
    expect(order).toEqual(['data', 'timer'])
  })

  it('should take an answer that came during a stall, not time the request out', async () => {
    const port = await listening(
      createServer((_, response) => {
        response.setHeader('content-type', 'application/json')
        response.end(JSON.stringify(jobBody({ id: 'job_1', status: 'completed' })))
        // Answered; then the app's work blocks the loop past the request's time limit.
        setImmediate(() => stall(400))
      }),
    )
    const events: string[] = []
    const client = createClient({
      baseUrl: `http://127.0.0.1:${port}`,
      apiKey: 'k',
      requestTimeoutMs: 100,
      retry: false,
      circuitBreaker: { failureThreshold: 1 },
    })
    client.on('circuit:open', () => events.push('circuit:open'))
    await expect(client.jobs.get('job_1')).resolves.toMatchObject({ status: 'completed' })
    expect(events).toEqual([])
  })
})
