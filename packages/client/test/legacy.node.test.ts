/**
 * The original challenge's API through `createLegacyClient` (the `/legacy` subpath), against the mock server in virtual time.
 */
import { describe, expect, it } from 'vitest'
import { isTimeoutError } from '../src/errors.js'
import { createLegacyClient } from '../src/legacy/index.js'
import { fakeFetch, problemResponse } from './fake-fetch.js'
import { drive, virtualClock, virtualSetup } from './virtual-time.js'

describe('createLegacyClient', () => {
  it('should read the status and restart the job with setCompletionTime', async () => {
    const { legacy, manual } = virtualSetup({ simulation: { legacy_completion_time_s: 2 } })
    expect(await legacy.status()).toBe('pending')
    manual.advance(2_000)
    expect(await legacy.status()).toBe('completed')
    await legacy.setCompletionTime(30)
    expect(await legacy.status()).toBe('pending')
  })

  it('should wait for the result, polling /status', async () => {
    const { legacy, requests, settle } = virtualSetup()
    await legacy.setCompletionTime(20)
    expect(await settle(legacy.waitForResult({ maxWaitTime: 60 }))).toBe('completed')
    expect(requests.filter((r) => r.path === '/status').length).toBeGreaterThan(2)
  })

  it('should take the original clients’ option names, and name the one meant by a misnamed one', async () => {
    const { legacy, requests, settle } = virtualSetup()
    await legacy.setCompletionTime(2)
    const options = { maxRetries: 10, maxWaitTime: 60, timeout: 5, retryOnError: true }
    expect(await settle(legacy.waitForResult(options))).toBe('completed')
    const sent = requests.length
    // In seconds, as the original clients had it: said so.
    await expect(legacy.waitForResult({ maxWaitTimeMs: 60_000 } as object)).rejects.toThrow(
      /no option maxWaitTimeMs .*mean maxWaitTime \(seconds\)\?/,
    )
    await expect(legacy.waitForResult({ timeoutMs: 60_000 } as object)).rejects.toThrow(
      /mean maxWaitTime \(seconds\)\?/,
    )
    expect(requests.length).toBe(sent)
    // A wait's options given to the client.
    expect(() => createLegacyClient({ maxRetries: 5 } as object)).toThrow(
      /maxRetries is an option of waitForResult/,
    )
  })

  it('should share one observation of /status among concurrent waits with the same options', async () => {
    const { legacy, requests, settle } = virtualSetup()
    await legacy.setCompletionTime(20)
    const before = requests.length
    const alone = await settle(legacy.waitForResult({ maxWaitTime: 60 }))
    const one = requests.length - before
    await legacy.setCompletionTime(20)
    const start = requests.length
    const three = await settle(
      Promise.all([0, 1, 2].map(() => legacy.waitForResult({ maxWaitTime: 60 }))),
    )
    expect(alone).toBe('completed')
    expect(three).toEqual(['completed', 'completed', 'completed'])
    // The second round's requests: its restart, then one wait's checks (not three).
    expect(requests.length - start).toBeLessThanOrEqual(one + 1)
  })

  it('should resolve with error when the job fails', async () => {
    const { legacy, settle, simulate } = virtualSetup()
    await simulate({ error_rate: 1 })
    await legacy.setCompletionTime(3)
    expect(await settle(legacy.waitForResult())).toBe('error')
  })

  it('should give up after maxWaitTime seconds, or maxRetries checks', async () => {
    const { legacy, requests, settle } = virtualSetup()
    await legacy.setCompletionTime(3_600)
    await expect(settle(legacy.waitForResult({ maxWaitTime: 30 }))).rejects.toThrow(
      'GET /status was still pending after maxWaitTime = 30 s',
    )
    const before = requests.length
    const error = await settle(legacy.waitForResult({ maxRetries: 4 })).catch((e: unknown) => e)
    expect(isTimeoutError(error)).toBe(true)
    expect(error).toMatchObject({ reason: 'attempts' })
    expect((error as Error).message).toBe(
      'GET /status was still pending after maxRetries = 4 checks',
    )
    expect(requests.length - before).toBe(4)
  })

  it('should say it gave up early when the server asks for no check before maxWaitTime', async () => {
    const { manual, clock } = virtualClock()
    const fetch = fakeFetch(() => {
      const refused = problemResponse(429, 'Too Many Requests')
      refused.headers.set('retry-after', '30')
      return refused
    })
    const legacy = createLegacyClient({ baseUrl: 'http://api.test', fetch, clock })
    const error = await drive(
      manual,
      legacy.waitForResult({ maxWaitTime: 10 }).catch((e: unknown) => e),
    )
    expect(isTimeoutError(error)).toBe(true)
    expect(error).toMatchObject({ reason: 'deadline' })
    expect((error as Error).message).toMatch(/the server asked for no request until/)
    expect((error as Error).message).not.toMatch(/maxRetries/)
  })

  it('should say why its checks failed when its time runs out without an answer', async () => {
    const { legacy, settle, simulate } = virtualSetup()
    await legacy.setCompletionTime(60)
    await simulate({ faults: { rate_500: 1 } })
    const error = await settle(legacy.waitForResult({ maxWaitTime: 2 })).catch((e: unknown) => e)
    expect(isTimeoutError(error)).toBe(true)
    expect((error as Error).message).toMatch(/maxWaitTime = 2 s; its last request failed: .*500/)
    expect(String((error as Error).cause)).toMatch(/HTTP 500/)
  })

  it('should refuse options and completion times that are not numbers it can use, naming them', async () => {
    const { legacy, requests } = virtualSetup()
    await expect(legacy.waitForResult({ maxWaitTime: -1 })).rejects.toThrow(/maxWaitTime must be/)
    await expect(legacy.waitForResult({ maxRetries: 0 })).rejects.toThrow(/maxRetries must be/)
    await expect(legacy.waitForResult({ timeout: Number('x') })).rejects.toThrow(TypeError)
    await expect(legacy.setCompletionTime(Number.NaN)).rejects.toThrow(/seconds must be/)
    await expect(legacy.waitForResult({ signal: {} as never })).rejects.toThrow(/signal must be/)
    expect(requests).toHaveLength(0)
  })

  it('should stop at the first failure when retryOnError is false', async () => {
    const { legacy, requests, settle, simulate } = virtualSetup()
    await legacy.setCompletionTime(60)
    await simulate({ faults: { rate_500: 1 } })
    const before = requests.length
    await expect(settle(legacy.waitForResult({ retryOnError: false }))).rejects.toMatchObject({
      status: 500,
    })
    expect(requests.length - before).toBe(1)
  })
})
