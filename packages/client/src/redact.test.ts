import { inspect } from 'node:util'
import ky from 'ky'
import { describe, expect, it } from 'vitest'
import { fakeFetch, hangingFetch, jobBody, json, problemResponse } from '../test/fake-fetch.js'
import { drive, virtualClock } from '../test/virtual-time.js'
import { createClient } from './client.js'
import { type ApiError, isNetworkError } from './errors.js'
import { redactError, redactor } from './redact.js'

const KEY = 'vt_live_S3CR3T'

describe('redaction of the API key', () => {
  it('should take the key out of text and of error messages down their causes', () => {
    const redact = redactor(KEY)
    expect(redact(`Bearer ${KEY} is not valid; ${KEY}`)).toBe(
      'Bearer [redacted] is not valid; [redacted]',
    )
    // Echoed in another letter case (a header written in lower case), or with regex characters.
    expect(redact(`authorization: bearer ${KEY.toLowerCase()}, ${KEY.toUpperCase()}`)).toBe(
      'authorization: bearer [redacted], [redacted]',
    )
    expect(redactor('a.b*c(d)')('a.b*c(d) aXb*c(d)')).toBe('[redacted] aXb*c(d)')
    // Too long for a pattern: redacted as written, nothing thrown (which would quote it).
    const huge = 'k'.repeat(200_000)
    expect(redactor(huge)(`x ${huge} y`)).toBe('x [redacted] y')
    const inner = new TypeError(`bad header "Bearer ${KEY}"`)
    const outer = new Error('fetch failed', { cause: inner })
    const clean = redactError(outer, redact) as Error
    expect(clean.message).toBe('fetch failed')
    expect((clean.cause as Error).message).toBe('bad header "Bearer [redacted]"')
    expect((clean.cause as Error).name).toBe('TypeError')
    // Nothing to hide: the same error, its class and fields intact.
    const harmless = Object.assign(new TypeError('fetch failed'), { code: 'ECONNREFUSED' })
    expect(redactError(harmless, redact)).toBe(harmless)
    // An AggregateError's errors (Node's fetch, both addresses refused) made so too, and kept.
    const both = new AggregateError([new Error(`to ${KEY}`), new Error('to ::1')], '')
    const aggregate = redactError(new Error('fetch failed', { cause: both }), redact) as Error
    const errors = (aggregate.cause as { errors: Error[] }).errors
    expect(errors.map((e) => e.message)).toEqual(['to [redacted]', 'to ::1'])
    // What a print shows but the message does not: a symbol's field, errors that are no errors,
    // a cause that is a plain object. Rebuilt, or made text.
    const symbol = Object.assign(new Error('x'), { [Symbol('req')]: `Bearer ${KEY}` })
    const notErrors = Object.assign(new Error('y'), { errors: [{ auth: KEY }] })
    const plainCause = new Error('z', { cause: { headers: { authorization: KEY } } })
    for (const error of [symbol, notErrors, plainCause]) {
      expect(inspect(redactError(error, redact), { depth: 10 })).not.toContain(KEY)
    }
    // Every field of plain value kept (strings redacted), every object dropped: printed whole,
    // as `console.error` prints it, a parser's error quoting the raw answer shows no key.
    const parser = Object.assign(new Error('Response does not match the HTTP/1.1 protocol'), {
      code: 'HPE_INVALID_STATUS',
      data: `OOPS echo: Bearer ${KEY}`,
      bytesParsed: 12,
      request: { headers: { authorization: `Bearer ${KEY}` } },
    })
    const printed = redactError(new Error('fetch failed', { cause: parser }), redact) as Error
    expect(printed.cause).toMatchObject({
      code: 'HPE_INVALID_STATUS',
      data: 'OOPS echo: Bearer [redacted]',
      bytesParsed: 12,
    })
    expect(inspect(printed, { depth: 10 })).not.toContain(KEY)
    expect(Object.hasOwn(printed.cause as object, 'request')).toBe(false)
    // A string thrown, or given as a cause (a custom fetch may do either).
    expect(redactError(`sent ${KEY}`, redact)).toBe('sent [redacted]')
    const stringCause = redactError(new Error('failed', { cause: `with ${KEY}` }), redact) as Error
    expect(stringCause.cause).toBe('with [redacted]')
  })

  it('should keep the key out of errors, events, logs and the history, whatever the server echoes', async () => {
    const { manual, clock } = virtualClock()
    let calls = 0
    const fetch = fakeFetch((call) => {
      calls++
      const echoed = call.headers.get('authorization') ?? ''
      if (calls <= 2) {
        return json(
          { type: 'about:blank', title: `Bad ${echoed}`, status: 503, detail: `key ${echoed}` },
          503,
          { 'content-type': 'application/problem+json', 'x-debug-authorization': echoed },
        )
      }
      if (calls === 3) throw new TypeError(`socket hang up while sending ${echoed}`)
      return json(jobBody({ status: 'completed', progress: 1 }))
    })
    const seen: string[] = []
    const log = (message: string, data?: Record<string, unknown>) =>
      seen.push(message, JSON.stringify(data ?? {}))
    const client = createClient({
      transport: 'poll',
      baseUrl: 'http://api.test',
      apiKey: KEY,
      fetch,
      clock,
      logger: { debug: log, warn: log, error: log },
      retry: { maxRetries: 1 },
      polling: { requestCostMs: 100 },
    })
    for (const type of ['request:retry', 'request:error', 'job:status'] as const) {
      client.on(type, (event) => {
        const { error } = event as { error?: Error }
        seen.push(JSON.stringify(event), String(error?.message), String(error?.cause))
        const { headers } = error as { headers?: Headers }
        if (headers) seen.push(JSON.stringify([...headers]))
      })
    }
    let done = false
    const wait = client.jobs.wait('job_1').finally(() => {
      done = true
    })
    for (let i = 0; i < 300 && !done; i++) await manual.tickAsync(1_000)
    await expect(wait).resolves.toMatchObject({ status: 'completed' })
    for (const entry of client.jobs.history('job_1')) seen.push(JSON.stringify(entry))
    expect(calls).toBeGreaterThanOrEqual(4)
    const all = seen.join('\n')
    expect(all).toContain('[redacted]')
    expect(all).not.toContain(KEY)
  })

  it('should take out the key as JSON escapes it, and from a broken body’s parse error', async () => {
    const key = 'vt_live/abc"def'
    const escaped = JSON.stringify(key).slice(1, -1).replaceAll('/', '\\/')
    const bodies = [
      () =>
        new Response(
          `{"type":"about:blank","title":"t","status":401,"detail":"bad key ${escaped}"}`,
          {
            status: 401,
            headers: { 'content-type': 'application/problem+json' },
          },
        ),
      // The header quoted as JSON inside the JSON body, `/` escaped at both levels (PHP).
      () => {
        const php = (value: unknown) => JSON.stringify(value).replaceAll('/', '\\/')
        const detail = php(`Bearer ${key}`)
        return new Response(php({ title: 't', status: 401, detail }), {
          status: 401,
          headers: { 'content-type': 'application/problem+json' },
        })
      },
      // The header quoted as JSON inside the JSON body: escaped twice.
      () =>
        new Response(
          JSON.stringify({ title: 't', status: 401, detail: JSON.stringify(`Bearer ${key}`) }),
          { status: 401, headers: { 'content-type': 'application/problem+json' } },
        ),
      () =>
        new Response(`Bearer ${key}`, {
          status: 200,
          headers: { 'content-type': 'application/json' },
        }),
      // Percent-encoded (a URL quoted back), and echoed as the request id.
      () =>
        new Response(
          JSON.stringify({ title: 't', status: 401, detail: `?token=${encodeURIComponent(key)}` }),
          { status: 401, headers: { 'content-type': 'application/problem+json' } },
        ),
      () =>
        new Response('{}', {
          status: 500,
          headers: { 'content-type': 'application/json', 'x-request-id': `Bearer ${key}` },
        }),
      () =>
        new Response('not json', {
          status: 200,
          headers: { 'content-type': 'text/html', 'x-request-id': key },
        }),
    ]
    for (const body of bodies) {
      const client = createClient({
        baseUrl: 'http://api.test',
        apiKey: key,
        fetch: fakeFetch(body),
        retry: false,
      })
      const error = (await client.jobs.get('job_1').catch((e: unknown) => e)) as Error
      const text = JSON.stringify({ message: error.message, cause: String(error.cause), error })
      expect(text).not.toContain('abc')
    }
  })

  it('should take out the key as an encoder writes some of its characters as \\u escapes', async () => {
    const key = 'vt_live_8f3k&Qz<71>p'
    // Go's encoding/json writes `&`, `<` and `>` so; other characters as they are.
    const go = (value: unknown) =>
      JSON.stringify(value).replace(
        /[&<>]/g,
        (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
      )
    expect(redactor(key)(go(`Bearer ${key}`))).toBe('"Bearer [redacted]"')
    // In upper-case hex, escaped twice (quoted as JSON inside JSON), and as Python writes `é`.
    expect(redactor(key)(go(go(key)).toUpperCase())).toBe('"\\"[redacted]\\""')
    expect(
      redactor('clé_secrète')(
        JSON.stringify('clé_secrète').replace(
          /[éè]/g,
          (c) => `\\u00${c.charCodeAt(0).toString(16)}`,
        ),
      ),
    ).toBe('"[redacted]"')
    // A key of backslashes on a text of them: matched at once (ways of every depth together
    // backtracked for hours at 20 of them).
    const slashes = `${'\\'.repeat(20)}Q`
    expect(redactor(slashes)('\\'.repeat(300))).toBe('\\'.repeat(300))
    expect(redactor(slashes)(JSON.stringify(JSON.stringify(slashes)))).toBe('"\\"[redacted]\\""')
    const { manual, clock } = virtualClock()
    const failed = jobBody({ status: 'error', error: { code: 'x', message: `refused ${key}` } })
    const answers = [
      () =>
        new Response(
          go({ title: 't', status: 401, detail: `invalid credentials: Bearer ${key}` }),
          {
            status: 401,
            headers: { 'content-type': 'application/problem+json' },
          },
        ),
      () => new Response(go(failed), { headers: { 'content-type': 'application/json' } }),
    ]
    for (const answer of answers) {
      const client = createClient({
        baseUrl: 'http://api.test',
        apiKey: key,
        fetch: fakeFetch(answer),
        clock,
        transport: 'poll',
      })
      const seen: unknown[] = []
      client.on('request:error', (event) => seen.push(event))
      client.on('job:failed', (event) => seen.push(event))
      const error = await drive(
        manual,
        client.jobs.wait('job_1').catch((e: unknown) => e),
        100,
        50,
      )
      expect(seen.length).toBeGreaterThan(0)
      const text = inspect([error, seen, client.jobs.history('job_1')], { depth: 10 })
      expect(text).toContain('[redacted]')
      expect(text).not.toContain('8f3k')
    }
  })

  it('should keep the key out of a job, its events and its error, whatever a 2xx body echoes', async () => {
    const { manual, clock } = virtualClock()
    const echo = `upstream refused Bearer ${KEY}`
    const failed = jobBody({
      status: 'error',
      title: `for ${KEY}`,
      error: { code: 'x', message: echo },
    })
    const client = createClient({
      baseUrl: 'http://api.test',
      apiKey: KEY,
      fetch: fakeFetch(() => json(failed)),
      clock,
      transport: 'poll',
    })
    const seen: unknown[] = []
    client.on('job:failed', (event) => seen.push(event))
    client.on('job:status', (event) => seen.push(event))
    const waiting = client.jobs.wait('job_1').catch((e: unknown) => e)
    await manual.tickAsync(1_000)
    const error = await waiting
    expect((error as Error).message).toContain('[redacted]')
    const text = inspect([error, seen, client.jobs.history('job_1')], { depth: 10 })
    expect(seen.length).toBeGreaterThan(0)
    expect(text).not.toContain(KEY)
  })

  it('should keep a short key out of the messages that quote a body, and out of header names', async () => {
    const short = 'k3y_abc'
    const client = createClient({
      baseUrl: 'http://api.test',
      apiKey: short,
      retry: false,
      fetch: fakeFetch((call) =>
        call.url.endsWith('/job_1')
          ? json({ ...jobBody({ id: 'job_1' }), status: [`Bearer ${short}`] })
          : new Response(JSON.stringify({ title: 'Not Found' }), {
              status: 404,
              headers: { 'content-type': 'application/problem+json', [`x-${short}`]: '1' },
            }),
      ),
    })
    const invalid = await client.jobs.get('job_1').catch((e: unknown) => e)
    const missing = (await client.jobs.get('job_2').catch((e: unknown) => e)) as ApiError
    expect(inspect(invalid, { depth: 5 })).toContain('Bearer [redacted]')
    expect(inspect([invalid, missing], { depth: 5 })).not.toContain(short)
    expect([...missing.headers.keys()]).toContain('content-type')
  })

  it('should not quote a body that is not JSON, not even a key cut short', async () => {
    const client = createClient({
      baseUrl: 'http://api.test',
      apiKey: KEY,
      fetch: fakeFetch(() => new Response(`{"token": ${KEY.slice(0, 9)}`, { status: 200 })),
      retry: false,
    })
    const error = (await client.jobs.get('job_1').catch((e: unknown) => e)) as Error
    expect(String(error.cause)).toBe('SyntaxError: not valid JSON')
    expect(inspect(error, { depth: 10 })).not.toContain(KEY.slice(0, 5))
  })

  it('should keep a key the server puts in an ETag or an event id out of resume tokens', async () => {
    const { manual, clock } = virtualClock()
    const poll = fakeFetch(() => json(jobBody(), 200, { etag: `"${KEY}-1"` }))
    const stream = fakeFetch(
      () =>
        new Response(`id: ${KEY}-6\nevent: status\ndata: ${JSON.stringify(jobBody())}\n\n`, {
          headers: { 'content-type': 'text/event-stream' },
        }),
    )
    const tokens: string[] = []
    for (const [fetch, transport] of [
      [poll, 'poll'],
      [stream, 'sse'],
    ] as const) {
      const client = createClient({
        baseUrl: 'http://api.test',
        apiKey: KEY,
        fetch,
        clock,
        transport,
      })
      const watch = client.jobs.watch('job_1')
      const first = watch.next()
      await manual.tickAsync(100)
      await first
      tokens.push(watch.resumeToken())
      await watch.return()
    }
    const decoded = tokens.map((t) => atob(t.slice(4).replace(/-/g, '+').replace(/_/g, '/')))
    expect(decoded.every((text) => text.includes('"id":"job_1"'))).toBe(true)
    expect(decoded.join()).not.toContain(KEY)
  })

  it('should keep a key the server puts in a content type out of errors, events and logs', async () => {
    const { manual, clock } = virtualClock()
    const type = `text/html; session=${KEY}`
    const fetch = fakeFetch((call) =>
      call.url.includes('/events')
        ? new Response('{}', { headers: { 'content-type': type } })
        : new Response('<html>', { headers: { 'content-type': type } }),
    )
    const logged: unknown[] = []
    const logger = { warn: (...args: unknown[]) => logged.push(args) }
    const client = createClient({ baseUrl: 'http://api.test', apiKey: KEY, fetch, clock, logger })
    const seen: unknown[] = []
    client.on('transport:fallback', (event) => seen.push(event))
    const error = client.jobs.wait('job_1', { maxConsecutiveErrors: 1 }).catch((e: unknown) => e)
    for (let i = 0; i < 5; i++) await manual.tickAsync(1_000)
    const text = inspect([await error, seen, logged, client.jobs.history('job_1')], { depth: 10 })
    expect(seen.length).toBeGreaterThan(0)
    expect(text).toContain('session=[redacted]')
    expect(text).not.toContain(KEY)
  })

  it('should take the key out of a batch answer’s request id', async () => {
    const { manual, clock } = virtualClock()
    const fetch = fakeFetch((call) =>
      json({ jobs: [], missing: call.url.includes('job_2') ? ['job_2'] : [] }, 200, {
        'x-request-id': `Bearer ${KEY}`,
      }),
    )
    const client = createClient({
      baseUrl: 'http://api.test',
      apiKey: KEY,
      fetch,
      clock,
      transport: 'poll',
    })
    const all = client.jobs.waitAll(['job_1', 'job_2'], { timeoutMs: 5_000 })
    for (let i = 0; i < 10; i++) await manual.tickAsync(1_000)
    const outcomes = await all
    const seen = JSON.stringify([
      outcomes.map((o) => (o.status === 'rejected' ? String(o.reason) : '')),
      outcomes.map((o) => (o.status === 'rejected' ? o.reason : '')),
      client.jobs.history('job_1'),
      client.jobs.history('job_2'),
    ])
    expect(fetch.calls.length).toBeGreaterThan(0)
    expect(seen).toContain('[redacted]')
    expect(seen).not.toContain(KEY)
  })

  it('should not let an HTTP library’s error that carries the request show the key', async () => {
    // ky's TimeoutError holds the Request (its Authorization header) as `request`.
    const viaKy = ky.create({ fetch: hangingFetch(), retry: 0, timeout: 20 })
    const client = createClient({
      baseUrl: 'http://api.test',
      apiKey: KEY,
      fetch: (input, init) => viaKy(input, init),
      retry: false,
    })
    const error = await client.jobs.get('job_1').catch((e: unknown) => e)
    expect(isNetworkError(error)).toBe(true)
    expect((error as Error).cause).toMatchObject({ name: 'TimeoutError' })
    expect(inspect(error, { depth: 10 })).not.toContain(KEY)
  })

  it('should take out the key as the header carried it, trimmed or without its Bearer', async () => {
    // Node's fetch, for real, against a server on loopback echoing the token it was sent.
    const { createServer } = await import('node:http')
    const server = createServer((req, res) => {
      const token = String(req.headers.authorization).split(' ').pop()
      res.writeHead(401, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ title: 'Unauthorized', detail: `invalid token '${token}'` }))
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as { port: number }
    const said: string[] = []
    for (const apiKey of [`${KEY} `, `\t${KEY}`, `Bearer ${KEY}`]) {
      const client = createClient({ baseUrl: `http://127.0.0.1:${port}`, apiKey, retry: false })
      client.on('request:error', (event) => said.push(inspect(event, { depth: 10 })))
      const error = (await client.jobs.get('job_1').catch((e: unknown) => e)) as ApiError
      expect(error.message).toContain("invalid token '[redacted]'")
      said.push(inspect(error, { depth: 10 }))
    }
    server.close()
    expect(said.join('\n')).not.toContain(KEY)
  })

  it('should take out the key in base64, percent-encoded or as HTML references, however aligned', () => {
    const key = 'vt_live_9f8e+7d6c/5b4a=3210~ZZ'
    const redact = redactor(key)
    const base64 = (text: string) => Buffer.from(text).toString('base64')
    const urlSafe = (text: string) => base64(text).replaceAll('+', '-').replaceAll('/', '_')
    // `Basic` credentials, a debug header's whole `Authorization` value, the key alone: the key
    // starts at each of the three offsets of base64's groups of three bytes.
    for (const encoded of [
      base64(key),
      base64(`:${key}`),
      base64(`user:${key}`),
      base64(`Bearer ${key}`),
      urlSafe(`Bearer ${key}`),
    ]) {
      expect(redact(`Basic ${encoded}`)).not.toMatch(/[A-Za-z0-9+/_-]{20}/)
    }
    // The forms a form encoder, Python's quote, encodeURI and escape() write; HTML references
    // (Go's templates write `+` as `&#43;`).
    for (const written of [
      new URLSearchParams({ key }).toString().slice(4),
      encodeURIComponent(key).replaceAll('%2F', '/'),
      encodeURI(key),
      escape(key),
      key.replace('+', '&#43;').replace('/', '&#x2f;'),
    ]) {
      expect(redact(`<title>${written} refused</title>`)).toBe('<title>[redacted] refused</title>')
    }
    // Base64 of ordinary text is left alone.
    expect(redact(`x ${base64('an ordinary sentence of words')}`)).toBe(
      `x ${base64('an ordinary sentence of words')}`,
    )
  })

  it('should not take out short forms a key given with spaces or a Bearer would make', async () => {
    // `Bearer es` sends `es`; looked for, every language code `es` would go.
    for (const apiKey of ['Bearer es', '  abc   ']) {
      const client = createClient({
        baseUrl: 'http://api.test',
        apiKey,
        fetch: fakeFetch(() =>
          json(jobBody({ target_language: 'es', video_url: 'https://x/abc' })),
        ),
      })
      const job = await client.jobs.get('job_1')
      expect(job.target_language).toBe('es')
      expect(job.video_url).toBe('https://x/abc')
    }
  })

  it('should match a key of many signs without a pattern that backtracks', () => {
    // 1,000 `%` against a text that nearly holds it, again and again: plain search.
    const key = '%'.repeat(1_000)
    const near = `${'%'.repeat(999)}~`.repeat(100)
    expect(redactor(key)(near)).toBe(near)
    expect(redactor(key)(`a ${key} b`)).toBe('a [redacted] b')
  })

  it('should take out the key from a member name spelled in \\u escapes, and named references', async () => {
    const key = 'vt_live_S3CR&T'
    const spelled = [...key].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
    const body = JSON.stringify({ title: 'Unauthorized', status: 401 }).slice(0, -1)
    const raw = createClient({
      baseUrl: 'http://api.test',
      apiKey: key,
      retry: false,
      fetch: fakeFetch(
        () =>
          new Response(`${body},"${spelled.join('')}":"was refused"}`, {
            status: 401,
            headers: { 'content-type': 'application/problem+json' },
          }),
      ),
    })
    const error = (await raw.jobs.get('job_1').catch((e: unknown) => e)) as ApiError
    expect(inspect(error, { depth: 10 })).not.toContain(key)
    expect(error.problem).toMatchObject({ '[redacted]': 'was refused' })
    const redact = redactor(key)
    expect(redact('vt_live_S3CR&amp;T vt_live_S3CR&#038;T')).toBe('[redacted] [redacted]')
  })

  it('should keep the key out of a job id a create’s Location names', async () => {
    const warned: string[] = []
    const paths: string[] = []
    const client = createClient({
      baseUrl: 'http://api.test',
      apiKey: KEY,
      retry: false,
      logger: { warn: (message: string) => warned.push(message) },
      fetch: fakeFetch((call) => {
        paths.push(call.url)
        return new Response(null, { status: 202, headers: { location: `/v1/jobs/${KEY}` } })
      }),
    })
    const error = await client.jobs
      .create({ video_url: 'https://example.com/a.mp4', target_language: 'es' })
      .catch((e: unknown) => e)
    // Not asked for, not quoted: the create's answer is not a job.
    expect(paths).toHaveLength(1)
    expect(inspect(error, { depth: 10 }) + warned.join('\n')).not.toContain(KEY)
    // A key too short to be looked for in a job's fields, too.
    const short = 'k9Zq7x_'
    const shortKeyed = createClient({
      baseUrl: 'http://api.test',
      apiKey: short,
      retry: false,
      fetch: fakeFetch(
        () => new Response(null, { status: 202, headers: { location: `/v1/jobs/${short}` } }),
      ),
    })
    const refused = await shortKeyed.jobs
      .create({ video_url: 'https://example.com/a.mp4', target_language: 'es' })
      .catch((e: unknown) => e)
    expect(inspect(refused, { depth: 10 })).not.toContain(short)
  })

  it('should keep a short key out of a failed job’s error message', async () => {
    const short = 'k9Zq7x_'
    const client = createClient({
      baseUrl: 'http://api.test',
      apiKey: short,
      transport: 'poll',
      fetch: fakeFetch(() =>
        json(jobBody({ status: 'error', error: { code: 'auth', message: `refused ${short}` } })),
      ),
    })
    const error = (await client.jobs.wait('job_1').catch((e: unknown) => e)) as Error
    expect(error.message).toContain('auth: refused [redacted]')
    const [outcome] = await client.jobs.waitAll(['job_1'])
    expect(String((outcome as { reason: Error }).reason.message)).not.toContain(short)
  })

  it('should keep the key out of a JSON body spelling its letters as \\u escapes', async () => {
    const spelled = [...KEY].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
    const client = createClient({
      baseUrl: 'http://api.test',
      apiKey: KEY,
      retry: false,
      fetch: fakeFetch(
        () =>
          new Response(`{"title":"Unauthorized","status":401,"detail":"${spelled.join('')}"}`, {
            status: 401,
            headers: { 'content-type': 'application/problem+json' },
          }),
      ),
    })
    const error = (await client.jobs.get('job_1').catch((e: unknown) => e)) as ApiError
    expect(error.problem?.detail).toBe('[redacted]')
    expect(inspect(error, { depth: 10 })).not.toContain(KEY)
  })

  it('should make anew an error of another class, whose getters may hold the key', async () => {
    class LibraryError extends Error {
      get request() {
        return { headers: { authorization: `Bearer ${KEY}` } }
      }
    }
    const client = createClient({
      baseUrl: 'http://api.test',
      apiKey: KEY,
      retry: false,
      fetch: async () => {
        throw new LibraryError('socket hang up')
      },
    })
    const error = (await client.jobs.get('job_1').catch((e: unknown) => e)) as Error
    expect(isNetworkError(error)).toBe(true)
    expect((error.cause as { request?: unknown }).request).toBeUndefined()
    expect((error.cause as Error).message).toBe('socket hang up')
  })

  it('should not quote the key, a query or user info of a base URL without a scheme', () => {
    for (const baseUrl of [`api.test/?api_key=${KEY}`, `user:${KEY}@api.test`, `api.test/${KEY}`]) {
      expect(() => createClient({ baseUrl, apiKey: KEY })).toThrow(/starting with http/)
      try {
        createClient({ baseUrl, apiKey: 'other' })
      } catch (error) {
        if (!baseUrl.endsWith(KEY)) expect(String(error)).not.toContain(KEY)
      }
    }
  })

  it('should refuse a key no header can carry, without quoting it', () => {
    expect(() => createClient({ baseUrl: 'http://api.test', apiKey: `${KEY}\nx` })).toThrow(
      /no HTTP header can carry at position 15 \(a line break/,
    )
    expect(() => createClient({ baseUrl: 'http://api.test', apiKey: `${KEY}…` })).toThrow(
      /character no HTTP header can carry at position 15/,
    )
    for (const apiKey of [`${KEY}\nx`, `${KEY}…`]) {
      try {
        createClient({ baseUrl: 'http://api.test', apiKey })
      } catch (error) {
        expect(String(error)).not.toContain(KEY)
      }
    }
    expect(() => createClient({ baseUrl: 'http://api.test', apiKey: `${KEY}\x01` })).toThrow(
      /at position 15/,
    )
    const notText = { baseUrl: 'http://api.test', apiKey: 42 as unknown as string }
    expect(() => createClient(notText)).toThrow(
      /apiKey must be a string or a function \(got number\)/,
    )
    // Latin-1 is what a header carries: such a key is the server's to judge.
    expect(() => createClient({ baseUrl: 'http://api.test', apiKey: `${KEY}é` })).not.toThrow()
  })
})

describe('an API key a function gives', () => {
  const keys = ['vt_key_first_1111', 'vt_key_second_2222']

  it('should send the key it gives now, and keep every key it gave out of messages', async () => {
    let given = 0
    const fake = fakeFetch((call) => {
      const auth = call.headers.get('authorization') ?? ''
      // A server that echoes the key it was sent, and refuses the first.
      if (auth.endsWith(keys[0] as string)) {
        return new Response(JSON.stringify({ title: 'Unauthorized', detail: `bad ${auth}` }), {
          status: 401,
          headers: { 'content-type': 'application/problem+json', 'x-request-id': auth },
        })
      }
      return json(jobBody({ id: 'job_1', video_url: `https://x.test/?k=${auth}` }))
    })
    const apiKey = async () => keys[given++ === 0 ? 0 : 1] as string
    const client = createClient({ baseUrl: 'http://api.test', fetch: fake, apiKey })
    const refused = (await client.jobs.get('job_1').catch((e: unknown) => e)) as Error
    expect(refused.name).toBe('AuthenticationError')
    const job = await client.jobs.get('job_1')
    expect(fake.calls.map((c) => c.headers.get('authorization'))).toEqual(
      keys.map((key) => `Bearer ${key}`),
    )
    const seen = [inspect(refused, { depth: 5 }), JSON.stringify(job)].join('\n')
    for (const key of keys) expect(seen).not.toContain(key)
    expect(seen).toContain('[redacted]')
  })

  it('should fail a request whose key the function cannot give, retried, and one whose function hangs', async () => {
    const { manual, clock } = virtualClock()
    let calls = 0
    const apiKey = () => {
      calls++
      if (calls === 1) throw new Error(`token service down (last token ${keys[0]})`)
      return keys[1] as string
    }
    const fake = fakeFetch(() => json(jobBody({ id: 'job_1' })))
    const client = createClient({ baseUrl: 'http://api.test', fetch: fake, apiKey, clock })
    // The first attempt fails on the key, the retry goes with the next one.
    const job = client.jobs.get('job_1')
    await manual.tickAsync(5_000)
    expect((await job).id).toBe('job_1')
    expect(calls).toBe(2)
    expect(fake.calls).toHaveLength(1)

    const failing = createClient({
      baseUrl: 'http://api.test',
      fetch: fake,
      clock,
      retry: false,
      apiKey: () => Promise.reject(new Error(`no token for ${keys[0]}`)),
    })
    const error = (await failing.jobs.get('job_1').catch((e: unknown) => e)) as Error
    expect(error.name).toBe('VideoTranslationError')
    expect(error.message).toMatch(/apiKey function failed/)
    expect(inspect(error, { depth: 5 })).toContain('no token for')
    // What the function said is in `cause`, any key it had given redacted. (This client never
    // learned keys[0]: its own function gave none.)
    const unfit = createClient({
      baseUrl: 'http://api.test',
      fetch: fake,
      clock,
      retry: false,
      apiKey: () => 42 as never,
    })
    await expect(unfit.jobs.get('job_1')).rejects.toThrow(/gave is not a string \(got number\)/)
    const hanging = createClient({
      baseUrl: 'http://api.test',
      fetch: fake,
      clock,
      retry: false,
      requestTimeoutMs: 1_000,
      apiKey: () => new Promise<string>(() => {}),
    })
    const timedOut = hanging.jobs.get('job_1').then(
      () => undefined,
      (e: unknown) => e as Error,
    )
    await manual.tickAsync(1_000)
    // Said of the function, not of the server (which was sent nothing).
    expect((await timedOut)?.message).toBe(
      "The apiKey function gave no key within the request's time limit (1000 ms).",
    )
    expect(fake.calls).toHaveLength(1)
  })

  it('should not look for an empty key, nor hold a key failure against the server', async () => {
    const { manual, clock } = virtualClock()
    const fake = fakeFetch(() => {
      const refused = problemResponse(429, 'Too Many Requests')
      refused.headers.set('retry-after', '1')
      return refused
    })
    // A token cache not loaded yet gives ''.
    const empty = createClient({
      baseUrl: 'http://api.test',
      fetch: fake,
      retry: false,
      apiKey: () => '',
    })
    const refused = (await empty.jobs.get('job_1').catch((e: unknown) => e)) as ApiError
    expect(refused.message).toMatch(/^GET \/v1\/jobs\/job_1 failed with HTTP 429/)
    expect(refused.headers.get('retry-after')).toBe('1')
    // A token service down five times: no request sent, the breaker stays closed, and the
    // calls go through once it is back.
    let down = true
    const ok = fakeFetch(() => json(jobBody({ id: 'job_1' })))
    const client = createClient({
      baseUrl: 'http://api.test',
      fetch: ok,
      clock,
      retry: false,
      apiKey: () => {
        if (down) throw new Error('token service down')
        return 'vt_key_back_3333'
      },
    })
    for (let i = 0; i < 6; i++) {
      const failed = (await client.jobs.get('job_1').catch((e: unknown) => e)) as Error
      expect(failed.message).toMatch(/apiKey function failed/)
    }
    expect(ok.calls).toHaveLength(0)
    down = false
    const job = client.jobs.get('job_1')
    await manual.tickAsync(0)
    expect((await job).id).toBe('job_1')
  })

  it('should keep looking for its long keys in a job’s fields after a short one', async () => {
    const given = ['abc', 'rotating_key_one_111']
    let n = 0
    const fake = fakeFetch((call) => {
      const auth = call.headers.get('authorization') ?? ''
      return json(jobBody({ id: 'job_1', title: `for ${auth}` }))
    })
    const apiKey = () => given[Math.min(n++, 1)] as string
    const client = createClient({ baseUrl: 'http://api.test', fetch: fake, apiKey })
    expect((await client.jobs.get('job_1')).title).toBe('for Bearer abc')
    expect((await client.jobs.get('job_1')).title).toBe('for Bearer [redacted]')
  })

  it('should retry a key its function could not give without spending the retry budget', async () => {
    const { manual, clock } = virtualClock()
    let calls = 0
    const client = createClient({
      baseUrl: 'http://api.test',
      fetch: fakeFetch(() => json(jobBody({ id: 'job_1' }))),
      clock,
      // A budget of one retry: spent by the first key failure, the second would fail the call.
      retry: { maxRetries: 3, initialDelayMs: 1, budget: { maxTokens: 1, tokenRatio: 0 } },
      apiKey: () => {
        if (++calls <= 2) throw new Error('token service down')
        return 'vt_key_back_4444'
      },
    })
    const job = client.jobs.get('job_1')
    await manual.tickAsync(1_000)
    expect((await job).id).toBe('job_1')
  })
})
