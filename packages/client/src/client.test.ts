import ky from 'ky'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { fakeFetch, jobBody, json, problemResponse } from '../test/fake-fetch.js'
import { virtualClock } from '../test/virtual-time.js'
import { createClient } from './client.js'
import { isAuthenticationError, isNotFoundError, isVideoTranslationError } from './errors.js'

afterEach(() => {
  vi.unstubAllEnvs()
})

describe('createClient', () => {
  it('should explain a missing or malformed baseUrl', () => {
    vi.stubEnv('VT_BASE_URL', '')
    expect(() => createClient({ apiKey: 'k' })).toThrow(/needs a baseUrl .*VT_BASE_URL/)
    expect(() => createClient({ baseUrl: 'ftp://x' })).toThrow(/"ftp:\/\/x"/)
    // Quoted without its user and password.
    expect(() => createClient({ baseUrl: 'ftp://u:secret-pw@x/' })).toThrow(/"ftp:\/\/…@x\/"/)
  })

  it.each([
    ['http://', /is not a URL|has no host/],
    ['http://user:secret-pass@api.test', /must not hold a user or password/],
    ['http://api.test/?region=eu', /must not hold a query or fragment/],
    ['http://api.test/#top', /must not hold a query or fragment/],
  ])('should refuse a baseUrl %s that no request could use', (baseUrl, message) => {
    const error = (() => {
      try {
        createClient({ baseUrl })
      } catch (e) {
        return e as Error
      }
    })()
    expect(isVideoTranslationError(error)).toBe(true)
    expect(error?.message).toMatch(message)
    expect(error?.message).not.toContain('secret-pass')
  })

  it.each([
    ['random', 5],
    ['clock', {}],
    ['fetch', 'x'],
    ['retry', 0],
    ['retry', 'off'],
    ['circuitBreaker', 'off'],
    ['pacing', 'no'],
    ['shareTabs', 1],
    ['logger', 5],
    ['logger', { warn: 'loud' }],
  ])('should refuse %s: %j when the client is made, not at its first use', (name, value) => {
    expect(() => createClient({ baseUrl: 'http://x.test', [name]: value })).toThrow(
      new RegExp(`^${name} must be`),
    )
  })

  it('should take a URL object for baseUrl, and refuse a retry budget it would misread', async () => {
    const fetch = fakeFetch(() => json(jobBody({ id: 'job_1' })))
    const client = createClient({ baseUrl: new URL('http://x.test/api/'), fetch })
    await client.jobs.get('job_1')
    expect(fetch.calls[0]?.url).toBe('http://x.test/api/v1/jobs/job_1')
    expect(() => createClient({ baseUrl: 42 as never })).toThrow(
      /baseUrl must be a string or a URL/,
    )
    const budget = { budget: 0 } as never
    expect(() => createClient({ baseUrl: 'http://x.test', retry: budget })).toThrow(
      /retry.budget must be options or false/,
    )
  })

  it('should take null for an option as its default, as it always did', async () => {
    const fetch = fakeFetch(() => json(jobBody({ id: 'job_1' })))
    const nulls = { logger: null, clock: null, random: null, retry: null, circuitBreaker: null }
    const client = createClient({ baseUrl: 'http://x.test', fetch, ...(nulls as object) })
    expect((await client.jobs.get('job_1')).id).toBe('job_1')
    const quiet = { debug: null, warn: () => {} } as never
    expect(() => createClient({ baseUrl: 'http://x.test', logger: quiet })).not.toThrow()
  })

  it('should take an option given as undefined as not given (exactOptionalPropertyTypes)', async () => {
    const fetch = fakeFetch(() => json(jobBody({ id: 'job_1', status: 'pending' }), 201))
    const env: Record<string, string | undefined> = {}
    const client = createClient({
      baseUrl: 'http://x.test',
      apiKey: env.VT_API_KEY,
      fetch,
      requestTimeoutMs: undefined,
      polling: undefined,
      transport: undefined,
      retry: { maxRetries: undefined, budget: { maxTokens: undefined, tokenRatio: undefined } },
      circuitBreaker: { failureThreshold: undefined, resetTimeoutMs: undefined },
      clock: undefined,
      random: undefined,
      logger: undefined,
    })
    const title: string | undefined = env.TITLE
    const job = await client.jobs.create({
      video_url: 'https://example.com/a.mp4',
      target_language: 'es',
      title,
      callback_url: undefined,
    })
    expect(job.id).toBe('job_1')
    expect(JSON.parse(fetch.calls[0]?.body ?? '')).toEqual({
      video_url: 'https://example.com/a.mp4',
      target_language: 'es',
    })
  })

  it('should refuse options that are not an object, and a listener that is not a function', async () => {
    expect(() => createClient(null as never)).toThrow(TypeError)
    const client = createClient({ baseUrl: 'http://x.test', fetch: fakeFetch(() => json({})) })
    expect(() => client.on('job:status', 5 as never)).toThrow(/must be a function/)
    await expect(client.jobs.wait('job_1', null as never)).rejects.toThrow(
      /options must be an object/,
    )
    await expect(client.jobs.create({} as never, null as never)).rejects.toThrow(
      /options must be an object/,
    )
    await expect(client.jobs.createBatch([], null as never)).rejects.toThrow(
      /options must be an object/,
    )
  })

  it('should read VT_BASE_URL and VT_API_KEY when options leave them out', async () => {
    vi.stubEnv('VT_BASE_URL', 'http://from-env.test')
    vi.stubEnv('VT_API_KEY', 'env_key')
    const fetch = fakeFetch(() => json(jobBody()))
    await createClient({ fetch }).jobs.get('job_1')
    expect(fetch.calls[0]?.url).toBe('http://from-env.test/v1/jobs/job_1')
    expect(fetch.calls[0]?.headers.get('authorization')).toBe('Bearer env_key')
  })

  it('should prefer options over the environment', async () => {
    vi.stubEnv('VT_BASE_URL', 'http://from-env.test')
    vi.stubEnv('VT_API_KEY', 'env_key')
    const fetch = fakeFetch(() => json(jobBody()))
    await createClient({ baseUrl: 'http://option.test', apiKey: 'opt', fetch }).jobs.get('job_1')
    expect(fetch.calls[0]?.url).toBe('http://option.test/v1/jobs/job_1')
    expect(fetch.calls[0]?.headers.get('authorization')).toBe('Bearer opt')
  })

  it('should send no Authorization header without a key', async () => {
    vi.stubEnv('VT_API_KEY', '')
    const fetch = fakeFetch(() => json(jobBody()))
    await createClient({ baseUrl: 'http://x.test', fetch }).jobs.get('job_1')
    expect(fetch.calls[0]?.headers.has('authorization')).toBe(false)
  })

  it('should work without a key where reading the environment is refused (Deno without --allow-env)', async () => {
    const env = Object.getOwnPropertyDescriptor(process, 'env') as PropertyDescriptor
    const fetch = fakeFetch(() => json(jobBody()))
    Object.defineProperty(process, 'env', {
      configurable: true,
      get() {
        throw new Error('NotCapable: Requires env access to "VT_API_KEY"')
      },
    })
    try {
      const client = createClient({ baseUrl: 'http://x.test', fetch })
      await client.jobs.get('job_1')
      // Without a baseUrl given, the variable may be set but unread: said so.
      expect(() => createClient({ fetch })).toThrow(
        /set VT_BASE_URL \(the runtime refused to read it: Deno needs --allow-env\)\.$/,
      )
      // A base URL given, unfit: nothing of the environment to say.
      expect(() => createClient({ fetch, baseUrl: 'localhost:8787' })).toThrow(/set VT_BASE_URL\.$/)
    } finally {
      Object.defineProperty(process, 'env', env)
    }
    expect(fetch.calls[0]?.headers.has('authorization')).toBe(false)
  })

  it('should say how to fix a runtime without fetch', () => {
    vi.stubGlobal('fetch', undefined)
    try {
      const error = (() => {
        try {
          createClient({ baseUrl: 'http://x.test' })
        } catch (e) {
          return e
        }
      })()
      expect(isVideoTranslationError(error)).toBe(true)
      expect((error as Error).message).toMatch(/createClient\(\{ fetch \}\)/)
    } finally {
      vi.unstubAllGlobals()
    }
  })

  it('should reject a non-positive requestTimeoutMs', () => {
    expect(() => createClient({ baseUrl: 'http://x.test', requestTimeoutMs: 0 })).toThrow(
      /requestTimeoutMs/,
    )
  })

  it('should work with a ky-backed fetch', async () => {
    const inner = fakeFetch(() => json(jobBody({ id: 'job_ky' })))
    const viaKy = ky.create({ fetch: inner, retry: 0, throwHttpErrors: false, timeout: false })
    const client = createClient({
      baseUrl: 'http://ky.test',
      apiKey: 'k',
      fetch: (input, init) => viaKy(input, init),
    })
    const job = await client.jobs.get('job_ky')
    expect(job.id).toBe('job_ky')
    expect(inner.calls).toHaveLength(1)
  })

  it('should read the answer inside the error of a fetch that throws on HTTP errors (ky by default)', async () => {
    const inner = fakeFetch((call) =>
      call.url.endsWith('job_gone')
        ? problemResponse(404, 'Not Found')
        : problemResponse(401, 'Unauthorized'),
    )
    const viaKy = ky.create({ fetch: inner, retry: 0, timeout: false })
    const client = createClient({
      baseUrl: 'http://ky.test',
      apiKey: 'k',
      fetch: (input, init) => viaKy(input, init),
    })
    const gone = await client.jobs.get('job_gone').catch((e: unknown) => e)
    expect(isNotFoundError(gone)).toBe(true)
    const refused = await client.jobs.get('job_1').catch((e: unknown) => e)
    expect(isAuthenticationError(refused)).toBe(true)
    // A typed answer, not a network failure: nothing is retried.
    expect(inner.calls).toHaveLength(2)
  })
})

describe('polling options', () => {
  it('should follow Retry-After but not eta_ms with useServerHints: false, on the backoff as on the default', async () => {
    const { manual, clock } = virtualClock()
    const at: number[] = []
    const fetch = fakeFetch(() => {
      at.push(manual.now())
      const status = at.length < 3 ? 'running' : 'completed'
      return json(jobBody({ status, eta_ms: 100 }), 200, { 'retry-after': '5' })
    })
    for (const polling of [
      { useServerHints: false, initialIntervalMs: 1_000, jitter: 'none' as const },
      { useServerHints: false },
    ]) {
      at.length = 0
      const client = createClient({
        baseUrl: 'http://x.test',
        fetch,
        clock,
        transport: 'poll',
        polling,
      })
      const wait = client.jobs.wait('job_1')
      await manual.tickAsync(60_000)
      await wait
      const gaps = at.slice(1).map((t, i) => t - (at[i] as number))
      expect(gaps).toHaveLength(2)
      if ('initialIntervalMs' in polling) expect(gaps).toEqual([5_000, 5_000])
      // The default looks no sooner than the Retry-After, later when what it learned says so.
      else for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(5_000)
    }
  })
})
