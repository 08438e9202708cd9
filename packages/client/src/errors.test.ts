import { describe, expect, it } from 'vitest'
import {
  ApiError,
  AuthenticationError,
  createApiError,
  isApiError,
  isAuthenticationError,
  isNetworkError,
  isNotFoundError,
  isRateLimitError,
  isServerError,
  isTimeoutError,
  isVideoTranslationError,
  NetworkError,
  NotFoundError,
  RateLimitError,
  ServerError,
  TimeoutError,
} from './errors.js'
import { isWebhookVerificationError, WebhookVerificationError } from './webhooks.js'

const request = { method: 'GET', path: '/v1/jobs/job_1' }

function apiError(status: number) {
  return createApiError({
    status,
    problem: undefined,
    requestId: undefined,
    headers: new Headers(),
    request,
  })
}

describe('createApiError', () => {
  it.each([
    [400, ApiError, false],
    [401, AuthenticationError, false],
    [403, AuthenticationError, false],
    [404, NotFoundError, false],
    [408, ApiError, true],
    [409, ApiError, false],
    [429, RateLimitError, true],
    [500, ServerError, true],
    [503, ServerError, true],
  ])('should map %i to its class and retryability', (status, cls, retryable) => {
    const error = apiError(status)
    expect(error).toBeInstanceOf(cls)
    expect(error.constructor).toBe(cls)
    expect(error.retryable).toBe(retryable)
    expect(error.name).toBe(cls.name)
  })
})

describe('NetworkError', () => {
  it('should say what the runtime said underneath its top error', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8787'), {
      code: 'ECONNREFUSED',
    })
    const error = new NetworkError(request, new TypeError('fetch failed', { cause: refused }))
    expect(error.message).toContain(
      'failed before a response arrived: fetch failed (connect ECONNREFUSED 127.0.0.1:8787).',
    )
    // An error with no message of its own (Node's AggregateError of each address) gives its code.
    const aggregate = Object.assign(new AggregateError([], ''), { code: 'ECONNREFUSED' })
    const bare = new NetworkError(request, new TypeError('fetch failed', { cause: aggregate }))
    expect(bare.message).toContain(': fetch failed (ECONNREFUSED).')
    expect(new NetworkError(request, 'offline').message).toContain(': offline.')
    const dotted = new NetworkError(request, new TypeError('Header value longer than 255.'))
    expect(dotted.message).toContain('longer than 255. Check')
    // Bun's asks a question: no full stop after it.
    const asked = new NetworkError(request, new Error('Was there a typo in the url?'))
    expect(asked.message).toContain('in the url? Check')
  })

  it('should not call a request the runtime refused a network failure, nor retry it', () => {
    const denied = Object.assign(new Error('Requires net access to "api.test:443"'), {
      name: 'NotCapable',
    })
    const error = new NetworkError(request, denied)
    expect(error.retryable).toBe(false)
    expect(error.message).toMatch(/was not allowed by the runtime: Requires net access/)
    expect(error.message).not.toContain('reachable')
  })

  it('should not retry a request to a port fetch never connects to', async () => {
    // Node's own fetch, for real: port 1 is one of the Fetch standard's bad ports.
    const cause = await fetch('http://127.0.0.1:1/').catch((e: unknown) => e)
    const error = new NetworkError(request, cause)
    expect(error.retryable).toBe(false)
    expect(error.message).toMatch(/not allowed by the runtime: fetch failed \(bad port\)\.$/)
  })

  it('should not retry a request redirected in a loop', async () => {
    // Node's own fetch, for real, against a server on loopback redirecting to itself.
    const { createServer } = await import('node:http')
    const server = createServer((_req, res) => res.writeHead(302, { location: '/again' }).end())
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as { port: number }
    const cause = await fetch(`http://127.0.0.1:${port}/`).catch((e: unknown) => e)
    server.close()
    const error = new NetworkError(request, cause)
    expect(error.retryable).toBe(false)
    expect(error.message).toMatch(/was redirected in a loop: .*Check the base URL\.$/)
  })
})

describe('guards', () => {
  it('should recognise errors from another copy of the SDK or another realm', () => {
    // What another bundle's (or an iframe's) NotFoundError looks like: its own prototype chain,
    // the brand registered with Symbol.for.
    const brand = Symbol.for('@video-translation/client/error')
    const foreign = Object.assign(Object.create({ [brand]: true }), { name: 'NotFoundError' })
    expect(isNotFoundError(foreign)).toBe(true)
    expect(isApiError(foreign)).toBe(true)
    expect(isVideoTranslationError(foreign)).toBe(true)
    expect(isServerError(foreign)).toBe(false)
  })

  it('should reject values that are not SDK errors, whatever their name', () => {
    const platform = [
      new DOMException('The operation timed out.', 'TimeoutError'),
      new DOMException('offline', 'NetworkError'),
      { name: 'NotFoundError', message: 'x', status: 404 },
    ]
    for (const value of [
      null,
      undefined,
      'NotFoundError',
      new Error('x'),
      { name: 42 },
      ...platform,
    ]) {
      expect(isVideoTranslationError(value)).toBe(false)
      expect(isApiError(value)).toBe(false)
      expect(isTimeoutError(value)).toBe(false)
      expect(isNetworkError(value)).toBe(false)
    }
  })

  it('should recognise every error of the SDK, the webhook one included', () => {
    const webhook = new WebhookVerificationError('expired', 'old')
    expect(isVideoTranslationError(webhook)).toBe(true)
    expect(isWebhookVerificationError(webhook)).toBe(true)
    expect(
      isVideoTranslationError(new TimeoutError({ scope: 'wait', timeoutMs: 1, what: 'x' })),
    ).toBe(true)
  })

  it('should know every ApiError subclass in the isApiError guard (its list of names is kept by hand)', async () => {
    const exported = Object.values(await import('./errors.js'))
    const subclasses = exported.filter(
      (value): value is typeof ApiError =>
        typeof value === 'function' && value.prototype instanceof ApiError,
    )
    expect(subclasses.length).toBeGreaterThanOrEqual(4)
    for (const Subclass of subclasses) {
      const error = new Subclass({
        status: 400,
        problem: undefined,
        requestId: undefined,
        headers: new Headers(),
        request,
      })
      expect(isApiError(error), Subclass.name).toBe(true)
    }
  })

  it('should match each subclass only to its own guard and the ApiError guard', () => {
    expect(isAuthenticationError(apiError(401))).toBe(true)
    expect(isRateLimitError(apiError(429))).toBe(true)
    expect(isRateLimitError(apiError(503))).toBe(false)
    expect(isApiError(apiError(500))).toBe(true)
  })
})
