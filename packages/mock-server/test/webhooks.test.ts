import { describe, expect, it, vi } from 'vitest'
import { DEV_WEBHOOK_SECRET } from '../src/app.js'
import { type Clock, createManualClock } from '../src/simulator/clock.js'
import type { JobView } from '../src/simulator/lifecycle.js'
import { createSimulator } from '../src/simulator/simulator.js'
import { signWebhook } from '../src/simulator/webhooks.js'
import { harness } from './harness.js'

interface Received {
  url: string
  body: string
  headers: Headers
}

/**
 * Expects `received` to hold `count` deliveries once the attempts under way are over: signing
 * runs on Web Crypto, whose promises can settle after the virtual clock's tick has returned.
 */
async function delivered(
  simulator: { webhooks: { flush(): Promise<void> } },
  received: unknown[],
  count: number,
): Promise<void> {
  await simulator.webhooks.flush()
  expect(received).toHaveLength(count)
}

/** A webhook receiver that answers with the statuses given, in turn, then 200. */
function receiver(statuses: number[] = []) {
  const received: Received[] = []
  const fetch = async (url: string, init: RequestInit) => {
    received.push({ url, body: String(init.body), headers: new Headers(init.headers) })
    return new Response(null, { status: statuses.shift() ?? 200 })
  }
  return { received, fetch }
}

describe('webhooks', () => {
  it('should POST the terminal job, signed, the moment it finishes', async () => {
    const hook = receiver()
    const { clock, createJob, simulator } = harness({ webhookFetch: hook.fetch })
    const { id } = await createJob({
      callback_url: 'https://hooks.example/done',
      simulate: { duration_ms: 5_000 },
    })
    await clock.tickAsync(4_999)
    expect(hook.received).toHaveLength(0)
    await clock.tickAsync(1)
    await delivered(simulator, hook.received, 1)
    const [delivery] = hook.received
    const job = JSON.parse(delivery?.body ?? '') as JobView
    expect(job).toMatchObject({ id, status: 'completed' })
    const signature = delivery?.headers.get('webhook-signature') ?? ''
    const timestamp = Number(/^t=(\d+),v1=[0-9a-f]{64}$/.exec(signature)?.[1])
    expect(timestamp).toBe(Math.floor(clock.now() / 1000))
    expect(signature).toBe(await signWebhook(DEV_WEBHOOK_SECRET, timestamp, delivery?.body ?? ''))
    expect(signature).not.toBe(await signWebhook('another secret', timestamp, delivery?.body ?? ''))
  })

  it('should retry a failing receiver with exponential backoff, then stop', async () => {
    const hook = receiver([500, 503, 500, 500, 500, 500])
    const { clock, createJob, simulator } = harness({ webhookFetch: hook.fetch })
    await createJob({ callback_url: 'https://hooks.example/flaky', simulate: { duration_ms: 0 } })
    await clock.tickAsync(0)
    await delivered(simulator, hook.received, 1)
    for (const [i, wait] of [1_000, 2_000, 4_000, 8_000].entries()) {
      await clock.tickAsync(wait - 1)
      expect(hook.received).toHaveLength(i + 1)
      await clock.tickAsync(1)
      await delivered(simulator, hook.received, i + 2)
    }
    await clock.tickAsync(120_000)
    expect(hook.received).toHaveLength(5)
    expect(simulator.webhooks.log.map((a) => [a.attempt, a.status])).toEqual([
      [1, 500],
      [2, 503],
      [3, 500],
      [4, 500],
      [5, 500],
    ])
  })

  it('should stop retrying once the receiver accepts', async () => {
    const hook = receiver([500])
    const { clock, createJob, simulator } = harness({ webhookFetch: hook.fetch })
    await createJob({ callback_url: 'https://hooks.example/x', simulate: { duration_ms: 0 } })
    await clock.tickAsync(0)
    await delivered(simulator, hook.received, 1)
    await clock.tickAsync(60_000)
    await delivered(simulator, hook.received, 2)
    expect(hook.received.map((r) => r.headers.get('webhook-attempt'))).toEqual(['1', '2'])
  })

  it('should retry when the receiver cannot be reached', async () => {
    let calls = 0
    const { clock, createJob, simulator } = harness({
      webhookFetch: async () => {
        calls++
        // A receiver a real moment away: `flush` waits for it, whatever the clock says.
        await new Promise((resolve) => setTimeout(resolve, 20))
        if (calls === 1) throw new TypeError('connect ECONNREFUSED')
        return new Response(null, { status: 204 })
      },
    })
    await createJob({ callback_url: 'https://hooks.example/x', simulate: { duration_ms: 0 } })
    await clock.tickAsync(0)
    await simulator.webhooks.flush()
    expect(simulator.webhooks.log).toHaveLength(1)
    await clock.tickAsync(5_000)
    await simulator.webhooks.flush()
    expect(calls).toBe(2)
    expect(simulator.webhooks.log[0]?.error).toContain('ECONNREFUSED')
  })

  it('should deliver a canceled job at once, and nothing when it would have finished', async () => {
    const hook = receiver()
    const { clock, call, createJob, simulator } = harness({ webhookFetch: hook.fetch })
    const { id } = await createJob({ callback_url: 'https://hooks.example/x' })
    await clock.tickAsync(1_000)
    await call('POST', `/v1/jobs/${id}/cancel`)
    await clock.tickAsync(0)
    await delivered(simulator, hook.received, 1)
    expect(JSON.parse(hook.received[0]?.body ?? '')).toMatchObject({ status: 'canceled' })
    await clock.tickAsync(60_000)
    expect(hook.received).toHaveLength(1)
  })

  it('should send the terminal job even when its timer fires a moment early', async () => {
    const manual = createManualClock()
    // Real timers may fire a millisecond before the wall clock reaches their time.
    const early: Clock = {
      now: () => manual.now(),
      schedule: (ms, callback) => manual.schedule(Math.max(0, ms - 1), callback),
    }
    const sent: JobView[] = []
    const simulator = createSimulator(
      { error_rate: 0 },
      {
        clock: early,
        webhookSecret: DEV_WEBHOOK_SECRET,
        webhookFetch: async (_url, init) => {
          sent.push(JSON.parse(String(init.body)) as JobView)
          return new Response(null, { status: 204 })
        },
      },
    )
    simulator.createJob('tenant', {
      video_url: 'https://example.com/a.mp4',
      target_language: 'es',
      callback_url: 'https://hooks.example/done',
      simulate: { duration_ms: 5_000 },
    })
    await manual.tickAsync(4_999)
    await delivered(simulator, sent, 1)
    expect(sent.map((job) => job.status)).toEqual(['completed'])
  })

  it('should never hold up the request that created the job, nor any other', async () => {
    let deliveries = 0
    const { call, clock } = harness({
      webhookFetch: () => {
        deliveries++
        return new Promise<Response>(() => undefined)
      },
    })
    const response = await call('POST', '/v1/jobs', {
      body: {
        video_url: 'https://example.com/a.mp4',
        target_language: 'es',
        callback_url: 'https://hooks.example/slow',
        simulate: { duration_ms: 0 },
      },
    })
    expect(response.status).toBe(202)
    const { id } = (await response.json()) as { id: string }
    // The delivery starts, and never answers: the server goes on answering.
    await clock.tickAsync(0)
    // Signing runs on Web Crypto (real asynchrony, outside the virtual clock): wait for it.
    await vi.waitFor(() => expect(deliveries).toBe(1), { timeout: 5_000, interval: 5 })
    expect((await call('GET', `/v1/jobs/${id}`)).status).toBe(200)
  })
})
