import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { fakeFetch, hangingFetch, jobBody, json, problemResponse } from '../test/fake-fetch.js'
import { virtualClock } from '../test/virtual-time.js'
import { type ClientOptions, createClient } from './client.js'
import type { ApiError } from './errors.js'
import { adaptivePolling } from './polling/adaptive.js'
import { exponentialBackoff, fixedInterval, hintAware } from './polling/strategy.js'

const fetch = () => fakeFetch(() => json(jobBody()))
const base = { baseUrl: 'http://api.test' }

/** Options with `value` at `path` (a dotted name). */
function withOption(path: string, value: unknown): ClientOptions {
  const [head, ...rest] = path.split('.')
  if (rest.length === 0) return { ...base, [head as string]: value }
  return {
    ...base,
    ...(rest.length === 1
      ? { [head as string]: { [rest[0] as string]: value } }
      : { [head as string]: { [rest[0] as string]: { [rest[1] as string]: value } } }),
  }
}

const CLIENT_OPTIONS = [
  'requestTimeoutMs',
  'polling.requestCostMs',
  'polling.minIntervalMs',
  'polling.maxIntervalMs',
  'polling.maxHintMs',
  'polling.initialIntervalMs',
  'polling.multiplier',
  'retry.maxRetries',
  'retry.initialDelayMs',
  'retry.maxDelayMs',
  'retry.budget.maxTokens',
  'retry.budget.tokenRatio',
  'circuitBreaker.failureThreshold',
  'circuitBreaker.resetTimeoutMs',
  'circuitBreaker.maxResetTimeoutMs',
]

const bad = fc.constantFrom(
  Number.NaN,
  -1,
  -Number.MIN_VALUE,
  Number.NEGATIVE_INFINITY,
  2 ** 40,
  '5',
)

describe('option checks', () => {
  it('should refuse a numeric client option that is not a number it can mean, naming it', () => {
    fc.assert(
      fc.property(fc.constantFrom(...CLIENT_OPTIONS), bad, (path, value) => {
        const make = () => createClient(withOption(path, value))
        expect(make).toThrow(TypeError)
        expect(make).toThrow(path)
      }),
    )
  })

  it('should refuse a polling strategy whose nextDelay is no function, here and per call', async () => {
    const broken = { nextDelay: 5 } as never
    expect(() => createClient({ ...base, polling: broken })).toThrow(/nextDelay function/)
    expect(() => createClient({ ...base, polling: null as never })).toThrow(/nextDelay function/)
    const client = createClient({ ...base, fetch: fetch() })
    await expect(client.jobs.wait('job_1', { polling: null as never })).rejects.toThrow(
      /polling must be a strategy/,
    )
  })

  it('should take requestTimeoutMs: Infinity as no limit, with no timer', async () => {
    const fake = fetch()
    const client = createClient({
      ...base,
      fetch: fake,
      requestTimeoutMs: Number.POSITIVE_INFINITY,
    })
    await expect(client.jobs.get('job_1')).resolves.toMatchObject({ id: 'job_1' })
    expect(() => createClient({ ...base, requestTimeoutMs: 2 ** 31 })).toThrow(/requestTimeoutMs/)
    // Its timer also covers a sharing window: the last second of the range would overflow.
    expect(() => createClient({ ...base, requestTimeoutMs: 2 ** 31 - 1 })).toThrow(
      /requestTimeoutMs/,
    )
    expect(() => createClient({ ...base, polling: { minIntervalMs: 0 } })).toThrow(/minIntervalMs/)
  })

  it('should refuse a strategy factory’s numbers that would poll in a loop, naming them', () => {
    expect(() => fixedInterval(Number.NaN)).toThrow(/fixedInterval must be a number/)
    expect(() => exponentialBackoff({ initialIntervalMs: 0 })).toThrow(/initialIntervalMs/)
    expect(() => exponentialBackoff({ multiplier: Number.NaN })).toThrow(/multiplier/)
    expect(() => hintAware(undefined, { minIntervalMs: -1 })).toThrow(/minIntervalMs/)
    expect(() => adaptivePolling({ maxHintMs: Number.NaN })).toThrow(/maxHintMs/)
    // The same bounds, named as createClient's when given there.
    expect(() => createClient({ ...base, polling: { multiplier: 0 } })).toThrow(
      /polling\.multiplier/,
    )
    expect(() => fixedInterval(0)).toThrow(/fixedInterval must be a number from 1/)
    expect(fixedInterval(1).nextDelay({} as never)).toBe(1)
  })

  it('should refuse a floor above the ceiling, and keep the floor when only it is given', () => {
    const both = { minIntervalMs: 5_000, maxIntervalMs: 100 }
    expect(() => adaptivePolling(both)).toThrow(/minIntervalMs must not exceed maxIntervalMs/)
    expect(() => hintAware(undefined, both)).toThrow(/minIntervalMs/)
    expect(() => createClient({ ...base, polling: both })).toThrow(
      /polling\.minIntervalMs must not exceed polling\.maxIntervalMs \(got 5000 and 100\)/,
    )
    // A floor above the default ceilings (30 s, 2 min): never faster than it.
    const context = {
      ...{ attempt: 1, delays: 1, elapsedMs: 0, ageMs: 0, job: undefined, hints: {} },
      ...{ previousDelayMs: undefined, random: () => 0.5 },
    }
    expect(adaptivePolling({ minIntervalMs: 300_000 }).nextDelay(context)).toBe(300_000)
    expect(hintAware(undefined, { minIntervalMs: 300_000 }).nextDelay(context)).toBe(300_000)
    // A ceiling given below the default floor (100 ms): the floor comes down to it.
    const hinted = { ...context, hints: { retryAfterMs: 0 } }
    expect(adaptivePolling({ maxIntervalMs: 50 }).nextDelay(hinted)).toBe(50)
    expect(hintAware(undefined, { maxIntervalMs: 50 }).nextDelay(context)).toBe(50)
    expect(hintAware(undefined, { maxIntervalMs: 50 }).nextDelay(hinted)).toBe(50)
  })

  it('should refuse a jitter it does not know, naming the ones it does', () => {
    const polling = { jitter: 'bogus' } as unknown as NonNullable<ClientOptions['polling']>
    expect(() => createClient({ ...base, polling })).toThrow(
      'jitter must be one of full, equal, decorrelated, none (got "bogus").',
    )
  })

  it('should refuse a wait’s NaN or fractional limits before sending anything', async () => {
    const fake = fetch()
    const client = createClient({ ...base, fetch: fake })
    await expect(client.jobs.wait('job_1', { timeoutMs: Number.NaN })).rejects.toThrow(/timeoutMs/)
    await expect(client.jobs.wait('job_1', { maxAttempts: 1.5 })).rejects.toThrow(/maxAttempts/)
    await expect(client.jobs.wait('job_1', { maxConsecutiveErrors: 0 })).rejects.toThrow(
      /maxConsecutiveErrors/,
    )
    await expect(client.jobs.wait('job_1', { retryOnError: -1 })).rejects.toThrow(/retryOnError/)
    // Before the create: no job is made for a wait that cannot start.
    const params = { video_url: 'https://example.com/a.mp4', target_language: 'es' }
    await expect(client.jobs.createAndWait(params, { timeoutMs: Number.NaN })).rejects.toThrow(
      /timeoutMs/,
    )
    expect(fake.calls).toHaveLength(0)
  })

  it('should refuse params JSON cannot carry before sending, not as the network’s failure', async () => {
    const fake = fakeFetch(() => json(jobBody(), 201))
    const events: string[] = []
    const client = createClient({ ...base, fetch: fake })
    client.on('circuit:open', () => events.push('open'))
    const params = { video_url: 'https://example.com/a.mp4', target_language: 'es' }
    const circular: Record<string, unknown> = { ...params }
    circular.self = circular
    const unfit = [{ ...params, simulate: { duration_ms: 10n } }, circular, null, [params]]
    for (const item of unfit) {
      const made = client.jobs.create(item as never)
      await expect(made).rejects.toThrow(TypeError)
      await expect(made).rejects.toThrow(/params/)
    }
    const waited = client.jobs.createAndWait(unfit[0] as never)
    await expect(waited).rejects.toThrow(/cannot be sent as JSON/)
    expect(fake.calls).toHaveLength(0)
    // In a batch: that item alone, the others made; the breaker not opened.
    const outcomes = await client.jobs.createBatch([...unfit, params, params] as never[])
    expect(outcomes.map((o) => o.status)).toEqual([
      'rejected',
      'rejected',
      'rejected',
      'rejected',
      'fulfilled',
      'fulfilled',
    ])
    expect(fake.calls).toHaveLength(2)
    expect(events).toEqual([])
  })

  it('should name the option meant by a misnamed one, and leave other keys alone', async () => {
    const meant = (options: object) => {
      try {
        createClient({ ...base, ...options } as ClientOptions)
        return undefined
      } catch (error) {
        return String(error)
      }
    }
    expect(meant({ baseUrl: undefined, baseURL: 'http://api.test' })).toMatch(
      /no option baseURL .*mean baseUrl\?/,
    )
    expect(meant({ timeout: 5_000 })).toMatch(/mean requestTimeoutMs\?/)
    expect(meant({ requestTimeout: 5_000 })).toMatch(/mean requestTimeoutMs\?/)
    expect(meant({ maxRetries: 5 })).toMatch(/mean retry: \{ maxRetries \}\?/)
    expect(meant({ apikey: 'k' })).toMatch(/mean apiKey\?/)
    expect(meant({ api_key: 'k' })).toMatch(/no option api_key .*mean apiKey\?/)
    expect(meant({ baseUrl: undefined, 'base-url': 'http://api.test' })).toMatch(/mean baseUrl\?/)
    expect(meant({ max_retries: 5 })).toMatch(/mean retry: \{ maxRetries \}\?/)
    expect(meant({ min_interval_ms: 5 })).toMatch(/mean polling: \{ minIntervalMs \}\?/)
    // Not an environment's names, a private key, nor beside the option meant (shared settings).
    expect(meant({ API_KEY: 'k', _clock: 1, apiKey: 'k', api_key: 'k' })).toBeUndefined()
    expect(meant({ polling: fixedInterval(1_000), interval: 5, retry: {}, maxRetries: 3 })).toBe(
      undefined,
    )
    expect(meant({ timeoutMs: 5_000 })).toMatch(/mean requestTimeoutMs\?/)
    expect(meant({ minIntervalMs: 2_000 })).toMatch(/mean polling: \{ minIntervalMs \}\?/)
    // Unknown and unlike any option (settings shared with something else), or left undefined.
    const shared = { region: 'eu', tokenRefreshInterval: 60_000, heartbeatIntervalMs: 1 }
    expect(meant({ ...shared, timeout: undefined })).toBeUndefined()

    const fake = fetch()
    const client = createClient({ ...base, fetch: fake })
    const waited = (options: object) => client.jobs.wait('job_1', options)
    await expect(waited({ timeout: 60_000 })).rejects.toThrow(/mean timeoutMs\?/)
    await expect(waited({ timeoutMS: 60_000 })).rejects.toThrow(/mean timeoutMs\?/)
    await expect(waited({ maxRetries: 3 })).rejects.toThrow(/mean maxAttempts\?/)
    await expect(waited({ pollInterval: 1_000 })).rejects.toThrow(/fixedInterval\(ms\)/)
    await expect(waited({ maxIntervalMs: 1_000 })).rejects.toThrow(
      /polling: adaptivePolling\(\{ maxIntervalMs \}\)/,
    )
    const params = { video_url: 'https://example.com/a.mp4', target_language: 'es' }
    await expect(client.jobs.createAndWait(params, { timeout: 1 } as object)).rejects.toThrow(
      TypeError,
    )
    await expect(client.jobs.create(params, { idempotencykey: 'k' } as object)).rejects.toThrow(
      /mean idempotencyKey\?/,
    )
    await expect(client.jobs.waitAll(['job_1'], { timeout: 1 } as object)).rejects.toThrow(
      /mean timeoutMs\?/,
    )
    expect(() => client.jobs.watch('job_1', { timeout: 1 } as object)).toThrow(/mean timeoutMs\?/)
    // Nothing was sent, the job not created.
    expect(fake.calls).toHaveLength(0)
  })

  it('should refuse a strategy’s NaN delay instead of polling in a loop', async () => {
    const fake = fakeFetch(() => json(jobBody({ status: 'running' })))
    const client = createClient({
      transport: 'poll',
      ...base,
      fetch: fake,
      polling: { nextDelay: () => Number.NaN },
    })
    await expect(client.jobs.wait('job_1')).rejects.toThrow(
      /polling strategy returned a delay of NaN/,
    )
    expect(fake.calls).toHaveLength(1)
  })

  it('should refuse ids that would leave the jobs path, and encode the rest as one segment', async () => {
    const fake = fakeFetch(() => json(jobBody({ id: '../x' })))
    const client = createClient({ ...base, fetch: fake })
    // A lone surrogate: no URL can carry it (encodeURIComponent throws a URIError).
    for (const id of ['', '.', '..', 'a\uD800b', '\uDC00', 'x\uDC00', 'y\uD800']) {
      await expect(client.jobs.get(id)).rejects.toThrow(TypeError)
      await expect(client.jobs.cancel(id)).rejects.toThrow(TypeError)
      await expect(client.jobs.wait(id)).rejects.toThrow(TypeError)
    }
    expect(fake.calls).toHaveLength(0)
    await client.jobs.get('../x')
    expect(fake.calls).toHaveLength(1)
    expect(fake.calls[0]?.url).toBe('http://api.test/v1/jobs/..%2Fx')
    // A whole pair is one character, sent (the fake's answer is about another job: refused).
    await client.jobs.get('job_\u{1F600}').catch(() => {})
    expect(fake.calls[1]?.url).toBe('http://api.test/v1/jobs/job_%F0%9F%98%80')
  })

  it('should quote a long id cut short in messages, whole in the error', async () => {
    const fake = fakeFetch(() => problemResponse(404, 'Not Found'))
    const client = createClient({ ...base, fetch: fake })
    const id = 'x'.repeat(10_000)
    const error = (await client.jobs.get(id).catch((e: unknown) => e)) as ApiError
    expect(error.message.length).toBeLessThan(400)
    expect(error.message).toContain('(10009 characters)')
    expect(error.request.path).toBe(`/v1/jobs/${id}`)
    const long = `\uD800${'z'.repeat(5_000)}`
    const refused = (await client.jobs.get(long).catch((e: unknown) => e)) as Error
    expect(refused).toBeInstanceOf(TypeError)
    expect(refused.message).toMatch(/… \(5001 characters\)/)
    expect(refused.message.length).toBeLessThan(300)
    // A wait's time out, and a request's.
    const { manual, clock } = virtualClock()
    const running = fakeFetch(() => json(jobBody({ id, status: 'running' })))
    const waiting = createClient({ ...base, fetch: running, clock, transport: 'poll' })
    const timedOut = waiting.jobs.wait(id, { timeoutMs: 1_000 }).then(String, String)
    await manual.tickAsync(2_000)
    expect(await timedOut).toMatch(/TimeoutError: Waiting for job x+… \(10000 characters\)/)
    expect((await timedOut).length).toBeLessThan(400)
    const hanging = createClient({ ...base, fetch: hangingFetch(), clock, retry: false })
    const slow = hanging.jobs.get(id).then(String, String)
    await manual.tickAsync(10_000)
    expect(await slow).toMatch(/TimeoutError: GET \/v1\/jobs\/x+… \(10009 characters\)/)
    expect((await slow).length).toBeLessThan(400)
  })

  it('should refuse an id holding the API key before sending it, without quoting the key', async () => {
    const apiKey = 'sk_live_0123456789'
    const fake = fakeFetch(() => json(jobBody()))
    const client = createClient({ ...base, apiKey, fetch: fake })
    const messages: string[] = []
    const refused = async (call: () => unknown) => {
      const error = await Promise.resolve()
        .then(call)
        .then(
          () => undefined,
          (e: unknown) => e,
        )
      expect(error).toBeInstanceOf(TypeError)
      messages.push(String(error))
    }
    for (const id of [apiKey, `job_${apiKey}`, encodeURIComponent(`${apiKey}/`)]) {
      await refused(() => client.jobs.get(id))
      await refused(() => client.jobs.cancel(id))
      await refused(() => client.jobs.wait(id))
      await refused(() => client.jobs.watch(id))
      await refused(() => client.jobs.waitAll(['job_1', id]))
      await refused(() => client.jobs.waitAny([id]))
    }
    expect(fake.calls).toHaveLength(0)
    expect(messages.join('\n')).not.toContain(apiKey)
    expect(messages[0]).toContain('must not hold the client')
    // A short key (under 8 characters) would be found in ordinary ids: not looked for.
    const short = createClient({ ...base, apiKey: 'job', fetch: fake })
    await expect(short.jobs.get('job_1')).resolves.toMatchObject({ id: 'job_1' })
  })
})
