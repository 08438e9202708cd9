/**
 * A job's event stream read by a standard `EventSource` (the `eventsource` package, the WHATWG
 * EventSource for Node), as a browser reads it: the key in `?access_token=` (it can send no
 * header), every status as an event, and after the end, on its automatic reconnect with
 * `Last-Event-ID`, a 204 that makes it stop for good.
 */
import { EventSource } from 'eventsource'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEV_API_KEY } from '../src/app.js'
import { type RunningServer, startServer } from '../src/node.js'
import type { JobView } from '../src/simulator/lifecycle.js'
import { VALID_BODY } from './harness.js'

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

async function createJob(): Promise<JobView> {
  const response = await fetch(`${server.url}/v1/jobs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${DEV_API_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(VALID_BODY),
  })
  return (await response.json()) as JobView
}

describe('a standard EventSource', () => {
  it('should follow a job to its end with the key in the query, then stop on the 204', async () => {
    const job = await createJob()
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
    expect(statuses[0]).toBe('pending')
    expect(statuses.at(-1)).toBe('completed')
    expect(new Set(ids).size).toBe(ids.length)
    expect(opens).toBe(1)
  }, 20_000)

  it('should be refused without a key, and the key in the query is taken on event streams only', async () => {
    const job = await createJob()
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
