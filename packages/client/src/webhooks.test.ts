import { webcrypto } from 'node:crypto'
import {
  createManualClock,
  createMockServer,
  DEV_API_KEY,
  DEV_WEBHOOK_SECRET,
  signWebhook,
} from '@video-translation/mock-server'
import fc from 'fast-check'
import { describe, expect, it, vi } from 'vitest'
import { jobBody } from '../test/fake-fetch.js'
import { isWebhookVerificationError, verifyWebhook, type WebhookRefusal } from './webhooks.js'

const SECRET = 'whsec_test_secret'
const NOW = Date.UTC(2026, 0, 1, 12)
const T = NOW / 1000
const BODY = JSON.stringify(jobBody({ status: 'completed', progress: 1 }))

/** The reason `verifyWebhook` refuses with, or 'accepted'. */
async function outcome(
  body: string,
  header: string | null,
  options: { now?: number; secret?: string } = {},
): Promise<WebhookRefusal | 'accepted'> {
  try {
    await verifyWebhook(body, header, options.secret ?? SECRET, { now: options.now ?? NOW })
    return 'accepted'
  } catch (error) {
    if (!isWebhookVerificationError(error)) throw error
    return error.reason
  }
}

describe('verifyWebhook', () => {
  it('should accept a body signed with the secret and resolve with its Job', async () => {
    const header = await signWebhook(SECRET, T, BODY)
    await expect(verifyWebhook(BODY, header, SECRET, { now: NOW })).resolves.toMatchObject({
      id: 'job_1',
      status: 'completed',
    })
  })

  it("should verify with Node's own webcrypto.subtle given as the option (Node 18 has no global one)", async () => {
    const header = await signWebhook(SECRET, T, BODY)
    // Typed as Node's `webcrypto.SubtleCrypto`, not the DOM's: the option takes it as it is.
    const { subtle } = webcrypto
    const sign = vi.spyOn(subtle, 'sign')
    try {
      await expect(
        verifyWebhook(BODY, header, SECRET, { now: NOW, subtle }),
      ).resolves.toMatchObject({
        id: 'job_1',
      })
      expect(sign).toHaveBeenCalledTimes(1)
    } finally {
      sign.mockRestore()
    }
  })

  it('should refuse a tampered body, another secret, a bad or missing header, a stale time', async () => {
    const header = await signWebhook(SECRET, T, BODY)
    expect(await outcome(BODY.replace('job_1', 'job_2'), header)).toBe('mismatch')
    expect(await outcome(BODY, header, { secret: 'whsec_other' })).toBe('mismatch')
    expect(await outcome(BODY, null)).toBe('malformed')
    expect(await outcome(BODY, 'v1=abc')).toBe('malformed')
    expect(await outcome(BODY, header.replace(/t=\d+/, 't=soon'))).toBe('malformed')
    expect(await outcome(BODY, header, { now: NOW + 301_000 })).toBe('expired')
    expect(await outcome(BODY, header, { now: NOW - 301_000 })).toBe('expired')
    expect(await outcome(BODY, header, { now: NOW + 299_000 })).toBe('accepted')
  })

  it('should say how old (or how far ahead) a stale signature is', async () => {
    const header = await signWebhook(SECRET, T, BODY)
    await expect(verifyWebhook(BODY, header, SECRET, { now: NOW + 400_000 })).rejects.toThrow(
      'The webhook was signed 400 s ago, beyond the tolerance of 300 s.',
    )
    await expect(verifyWebhook(BODY, header, SECRET, { now: NOW - 400_000 })).rejects.toThrow(
      'signed 400 s in the future',
    )
  })

  it('should refuse a tolerance that is not a number and an empty secret, at once', async () => {
    const header = await signWebhook(SECRET, T, BODY)
    const nan = { now: NOW, toleranceSec: Number('5m') }
    await expect(verifyWebhook(BODY, header, SECRET, nan)).rejects.toThrow(/toleranceSec/)
    await expect(verifyWebhook(BODY, header, '', { now: NOW })).rejects.toThrow(TypeError)
  })

  it('should accept any of several signatures, for secret rotation', async () => {
    const old = await signWebhook('whsec_old', T, BODY)
    const current = await signWebhook(SECRET, T, BODY)
    const both = `${old},${current.split(',')[1]}`
    expect(await outcome(BODY, both)).toBe('accepted')
    expect(await outcome(BODY, old)).toBe('mismatch')
  })

  it('should refuse a signed body that is not a Job', async () => {
    const body = '{"hello":"world"}'
    expect(await outcome(body, await signWebhook(SECRET, T, body))).toBe('invalid-body')
  })

  it('should refuse any signature but the right one, whatever the body', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string(), fc.integer({ min: 0, max: 63 }), async (body, at) => {
        const header = await signWebhook(SECRET, T, body)
        const hex = header.split('v1=')[1] as string
        const flipped = hex.slice(0, at) + (hex[at] === '0' ? '1' : '0') + hex.slice(at + 1)
        return (await outcome(body, `t=${T},v1=${flipped}`)) === 'mismatch'
      }),
      { numRuns: 50 },
    )
  })

  it('should verify what the mock server really sends', async () => {
    const clock = createManualClock(NOW)
    const deliveries: { body: string; signature: string }[] = []
    const { app } = createMockServer({
      clock,
      simulation: { error_rate: 0 },
      webhookFetch: async (_url, init) => {
        const headers = new Headers(init.headers)
        deliveries.push({
          body: String(init.body),
          signature: headers.get('webhook-signature') ?? '',
        })
        return new Response(null, { status: 204 })
      },
    })
    const created = await app.request('/v1/jobs', {
      method: 'POST',
      headers: { authorization: `Bearer ${DEV_API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        video_url: 'https://example.com/a.mp4',
        target_language: 'es',
        callback_url: 'https://hooks.example/done',
        simulate: { duration_ms: 1_000 },
      }),
    })
    const { id } = (await created.json()) as { id: string }
    await clock.tickAsync(2_000)
    // Signing runs on Web Crypto (real asynchrony, outside the virtual clock): wait for it.
    await vi.waitFor(() => expect(deliveries).toHaveLength(1), { timeout: 5_000 })
    const [delivery] = deliveries
    const job = await verifyWebhook(delivery?.body ?? '', delivery?.signature, DEV_WEBHOOK_SECRET, {
      now: clock.now(),
    })
    expect(job).toMatchObject({ id, status: 'completed' })
  })
})
