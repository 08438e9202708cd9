/**
 * The client in a real headless Chromium against the mock server on a loopback port: proves the
 * package runs in a browser (no Node built-ins, CORS headers readable).
 */
import { describe, expect, inject, it, vi } from 'vitest'
import {
  createClient,
  fixedInterval,
  isNetworkError,
  isNotFoundError,
  isTimeoutError,
} from '../src/index.js'
import { conditionalChecks } from '../src/request/http.js'
import { type FetchCall, fakeFetch, jobBody, json } from './fake-fetch.js'
import { virtualClock } from './virtual-time.js'

describe('client in Chromium', () => {
  it('should run in a real browser, not Node', () => {
    expect(typeof window).toBe('object')
    expect(navigator.userAgent).toMatch(/Chrome/)
    expect((globalThis as { process?: unknown }).process).toBeUndefined()
  })

  it('should create a job and fetch it across origins', async () => {
    const client = createClient({ baseUrl: inject('baseUrl'), apiKey: 'vt_dev_key' })
    const created = await client.jobs.create({
      video_url: 'https://example.com/a.mp4',
      target_language: 'it',
    })
    const fetched = await client.jobs.get(created.id)
    expect(fetched.id).toBe(created.id)
    expect(fetched.target_language).toBe('it')
  })

  it('should wait for a job to complete, following the server hints read through CORS', async () => {
    const client = createClient({ baseUrl: inject('baseUrl'), apiKey: 'vt_dev_key' })
    const statuses: string[] = []
    const job = await client.jobs.createAndWait(
      { video_url: 'https://example.com/a.mp4', target_language: 'fr' },
      { timeoutMs: 10_000, onProgress: (j) => statuses.push(j.status) },
    )
    expect(job.status).toBe('completed')
    expect(statuses.at(-1)).toBe('completed')
    expect(client.jobs.history(job.id).every((h) => h.httpStatus === 200)).toBe(true)
  })

  it('should reject at once when the wait is aborted', async () => {
    const client = createClient({ baseUrl: inject('baseUrl'), apiKey: 'vt_dev_key' })
    const job = await client.jobs.create({
      video_url: 'https://example.com/a.mp4',
      target_language: 'fr',
      simulate: { duration_ms: 60_000 },
    })
    const controller = new AbortController()
    const waiting = client.jobs.wait(job.id, { signal: controller.signal })
    controller.abort(new DOMException('left the page', 'AbortError'))
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError' })
  })

  it('should not make checks of another origin conditional: each would cost a preflight', async () => {
    // A conditional request is not cached, and Chromium sends a CORS preflight before each such
    // one: every check cost two requests. The browser's cache revalidates a plain GET itself.
    const conditional: boolean[] = []
    const client = createClient({
      baseUrl: inject('baseUrl'),
      apiKey: 'vt_dev_key',
      transport: 'poll',
      polling: fixedInterval(200),
      fetch: (input, init) => {
        if ((init.method ?? 'GET') === 'GET')
          conditional.push(new Headers(init.headers).has('if-none-match'))
        return fetch(input, init)
      },
    })
    const job = await client.jobs.createAndWait(
      {
        video_url: 'https://example.com/a.mp4',
        target_language: 'fr',
        simulate: { duration_ms: 1_500 },
      },
      { timeoutMs: 10_000 },
    )
    expect(job.status).toBe('completed')
    expect(conditional.length).toBeGreaterThan(3)
    expect(conditional.every((c) => !c)).toBe(true)
    // To its own origin, a page asks conditionally as any other client.
    expect(conditionalChecks(location.origin)).toBe(true)
    expect(conditionalChecks(inject('baseUrl'))).toBe(false)
  })

  it('should read the problem body and request id of an error response', async () => {
    const client = createClient({ baseUrl: inject('baseUrl'), apiKey: 'vt_dev_key' })
    const error = await client.jobs.get('job_missing').catch((e: unknown) => e)
    expect(isNotFoundError(error)).toBe(true)
    expect(error).toMatchObject({ status: 404, requestId: expect.stringMatching(/^req_/) })
  })
})

/** Makes the page look hidden (or shown) and tells it, as a browser does. */
function setHidden(hidden: boolean): void {
  Object.defineProperty(document, 'visibilityState', {
    configurable: true,
    get: () => (hidden ? 'hidden' : 'visible'),
  })
  document.dispatchEvent(new Event('visibilitychange'))
}

/** Makes the browser look offline (or online) and tells the page. */
function setOffline(offline: boolean): void {
  Object.defineProperty(navigator, 'onLine', { configurable: true, get: () => !offline })
  window.dispatchEvent(new Event(offline ? 'offline' : 'online'))
}

/**
 * Moves a virtual clock on by `ms` in 10 ms steps, letting the browser run its tasks in between:
 * a fake response's body is read in a task, not a microtask, in Chromium.
 */
async function advance(manual: ReturnType<typeof virtualClock>['manual'], ms: number) {
  for (let left = ms; left >= 0; left -= 10) {
    await manual.tickAsync(Math.min(10, left))
    await new Promise((resolve) => setTimeout(resolve, 0))
    if (left === 0) break
  }
}

/** Moves a virtual clock on (as `advance`) until `promise` settles, `maxMs` at most. */
async function settleWithin<T>(
  manual: ReturnType<typeof virtualClock>['manual'],
  promise: Promise<T>,
  maxMs: number,
): Promise<T> {
  let settled = false
  promise.then(
    () => {
      settled = true
    },
    () => {
      settled = true
    },
  )
  for (let ms = 0; ms <= maxMs && !settled; ms += 10) await advance(manual, 10)
  return promise
}

/** A client polling every `everyMs` on a virtual clock, against a fake server's `answer`. */
function polledClient(everyMs: number, answer: (call: FetchCall) => Response) {
  const { manual, clock } = virtualClock()
  const fetch = fakeFetch(answer)
  const polling = fixedInterval(everyMs)
  const client = createClient({
    baseUrl: 'http://api.test',
    fetch,
    clock,
    polling,
    transport: 'poll',
  })
  return { manual, fetch, client }
}

/** A client polling every 200 ms against a fake server answering `body`. */
function polledEvery200ms(body: Record<string, unknown>) {
  return polledClient(200, () => json(body))
}

describe('browser manners', () => {
  it('should follow a job on its event stream: one request, every status pushed', async () => {
    const client = createClient({
      baseUrl: inject('baseUrl'),
      apiKey: 'vt_dev_key',
      transport: 'sse',
    })
    const job = await client.jobs.createAndWait(
      { video_url: 'https://example.com/a.mp4', target_language: 'de' },
      { timeoutMs: 10_000 },
    )
    expect(job.status).toBe('completed')
    const history = client.jobs.history(job.id)
    expect(history.at(-1)).toMatchObject({ status: 'completed', pushed: true })
    expect(history.every((h) => h.pushed)).toBe(true)
  })

  it('should hold at most four streams open in a page, and poll the other jobs', async () => {
    const streams: string[] = []
    const client = createClient({
      baseUrl: inject('baseUrl'),
      apiKey: 'vt_dev_key',
      transport: 'sse',
      fetch: (input, init) => {
        if (input.includes('/events')) streams.push(input)
        return fetch(input, init)
      },
    })
    const params = {
      video_url: 'https://example.com/a.mp4',
      target_language: 'ja',
      simulate: { duration_ms: 800, outcome: 'completed' as const },
    }
    const done = await Promise.all(
      Array.from({ length: 6 }, () => client.jobs.createAndWait(params, { timeoutMs: 10_000 })),
    )
    expect(done.every((job) => job.status === 'completed')).toBe(true)
    expect(new Set(streams).size).toBe(4)
  })

  it('should hold at most four streams for all the tabs of an origin, polling the others', async () => {
    // Two clients of one page share its origin's Web Locks as two tabs would.
    const params = (ms: number) => ({
      video_url: 'https://example.com/a.mp4',
      target_language: 'ja',
      simulate: { duration_ms: ms, outcome: 'completed' as const },
    })
    const opened: string[] = []
    const first = createClient({
      baseUrl: inject('baseUrl'),
      apiKey: 'vt_dev_key',
      fetch: (input, init) => {
        if (input.includes('/events')) opened.push(input)
        return fetch(input, init)
      },
    })
    const firstDone = Promise.all(
      Array.from({ length: 4 }, () =>
        first.jobs.createAndWait(params(4_000), { timeoutMs: 20_000 }),
      ),
    )
    await vi.waitFor(() => expect(opened).toHaveLength(4), { timeout: 3_000 })
    const second = createClient({ baseUrl: inject('baseUrl'), apiKey: 'vt_dev_key' })
    const fellBack: string[] = []
    second.on('transport:fallback', (event) => fellBack.push(`${event.to}: ${event.reason}`))
    const secondDone = await Promise.all(
      Array.from({ length: 2 }, () =>
        second.jobs.createAndWait(params(500), { timeoutMs: 20_000 }),
      ),
    )
    expect(secondDone.every((job) => job.status === 'completed')).toBe(true)
    expect(fellBack).toHaveLength(2)
    expect(fellBack[0]).toMatch(/^poll: the tabs of this origin hold/)
    expect((await firstDone).every((job) => job.status === 'completed')).toBe(true)
  })

  it('should check less often while the page is hidden, and as a shown page when shown', async () => {
    const { manual, fetch, client } = polledEvery200ms(jobBody({ status: 'running', eta_ms: null }))
    const controller = new AbortController()
    const waiting = client.jobs.wait('job_1', { signal: controller.signal }).catch(() => {})
    try {
      await advance(manual, 1_100)
      // At 0, 200, …, 1,000 ms.
      expect(fetch.calls).toHaveLength(6)
      setHidden(true)
      await advance(manual, 2_000)
      // At 1,200 (planned while shown), then every 800 ms: 2,000 and 2,800; shown, it would be 10.
      expect(fetch.calls).toHaveLength(9)
      // Shown at 3,100: the check due at 3,000 goes at once.
      setHidden(false)
      await advance(manual, 10)
      expect(fetch.calls).toHaveLength(10)
      // Hidden and shown again and again: nothing more than a shown page's checks (3,300).
      for (let i = 0; i < 5; i++) {
        setHidden(true)
        setHidden(false)
      }
      await advance(manual, 150)
      expect(fetch.calls).toHaveLength(10)
      await advance(manual, 60)
      expect(fetch.calls).toHaveLength(11)
    } finally {
      setHidden(false)
      controller.abort()
      await waiting
    }
  })

  it('should add no checks for a page hidden and shown again, when answers are 304s too', async () => {
    const { manual, fetch, client } = polledClient(1_000, (call) =>
      call.headers.get('if-none-match') === '"v1"'
        ? new Response(null, { status: 304, headers: { etag: '"v1"' } })
        : json(jobBody({ status: 'running', eta_ms: null }), 200, { etag: '"v1"' }),
    )
    const controller = new AbortController()
    const waiting = client.jobs.wait('job_1', { signal: controller.signal }).catch(() => {})
    try {
      // At 0, 1,000 and 2,000 (304s after the first).
      await advance(manual, 2_500)
      expect(fetch.calls).toHaveLength(3)
      for (let i = 0; i < 4; i++) {
        setHidden(true)
        setHidden(false)
        await advance(manual, 100)
      }
      // The next is due at 3,000, as if the page had been shown all along.
      expect(fetch.calls).toHaveLength(3)
      await advance(manual, 110)
      expect(fetch.calls).toHaveLength(4)
    } finally {
      setHidden(false)
      controller.abort()
      await waiting
    }
  })

  it('should send nothing while offline and check at once when back online', async () => {
    const { manual, fetch, client } = polledEvery200ms(
      jobBody({ status: 'completed', progress: 1 }),
    )
    setOffline(true)
    try {
      const waiting = client.jobs.wait('job_1', { timeoutMs: 20_000 })
      await advance(manual, 1_500)
      expect(fetch.calls).toHaveLength(0)
      setOffline(false)
      await advance(manual, 0)
      await expect(waiting).resolves.toMatchObject({ status: 'completed' })
      expect(fetch.calls).toHaveLength(1)
    } finally {
      setOffline(false)
    }
  })

  it('should check a waitAll’s jobs in batches when back online', async () => {
    const { manual, clock } = virtualClock()
    const fetch = fakeFetch((call) => {
      const ids = new URL(call.url).searchParams.get('ids')?.split(',') ?? []
      const jobs = ids.map((id) => jobBody({ id, status: 'completed', progress: 1 }))
      return json({ jobs, missing: [] })
    })
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock, transport: 'poll' })
    const ids = Array.from({ length: 150 }, (_, i) => `job_${i}`)
    setOffline(true)
    try {
      const waiting = client.jobs.waitAll(ids, { timeoutMs: 20_000 })
      await advance(manual, 1_500)
      expect(fetch.calls).toHaveLength(0)
      setOffline(false)
      await advance(manual, 0)
      const outcomes = await waiting
      expect(outcomes.every((o) => o.status === 'fulfilled')).toBe(true)
      // Two batch requests (100 and 50 ids), not one request a job.
      expect(
        fetch.calls.map((c) => new URL(c.url).searchParams.get('ids')?.split(',').length),
      ).toEqual([100, 50])
    } finally {
      setOffline(false)
    }
  })

  it('should send a create made offline once back online, within its wait’s time', async () => {
    const { manual, clock } = virtualClock()
    const events: string[] = []
    const fetch = fakeFetch((call) =>
      call.method === 'POST'
        ? json(jobBody({ id: 'job_made', status: 'pending' }), 201)
        : json(jobBody({ id: 'job_made', status: 'completed', progress: 1 })),
    )
    const client = createClient({
      baseUrl: 'http://api.test',
      fetch,
      clock,
      transport: 'poll',
      polling: fixedInterval(200),
    })
    client.on('request:retry', () => events.push('retry'))
    client.on('circuit:open', () => events.push('open'))
    setOffline(true)
    try {
      const params = { video_url: 'https://example.com/a.mp4', target_language: 'es' }
      const waiting = client.jobs.createAndWait(params, { timeoutMs: 120_000 })
      // It failed within 10 s, its retries sent while offline, the circuit opened. (Nothing to
      // read meanwhile: one step.)
      await manual.tickAsync(12_000)
      expect(fetch.calls).toHaveLength(0)
      setOffline(false)
      await expect(settleWithin(manual, waiting, 1_000)).resolves.toMatchObject({
        id: 'job_made',
        status: 'completed',
      })
      expect(events).toEqual([])
    } finally {
      setOffline(false)
    }
  })

  it('should try a request cut as the browser went offline again when it is back, no retry spent', async () => {
    const { manual, clock } = virtualClock()
    let cut = true
    const fetch = fakeFetch(() => {
      if (!cut) return json(jobBody({ status: 'completed', progress: 1 }))
      cut = false
      setOffline(true)
      throw new TypeError('Failed to fetch')
    })
    const retries: unknown[] = []
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock, transport: 'poll' })
    client.on('request:retry', (event) => retries.push(event))
    try {
      const job = client.jobs.get('job_1')
      await advance(manual, 2_000)
      expect(fetch.calls).toHaveLength(1)
      setOffline(false)
      await expect(settleWithin(manual, job, 1_000)).resolves.toMatchObject({ status: 'completed' })
      expect(retries).toEqual([])
    } finally {
      setOffline(false)
    }
  })

  it('should not send again a request cut by going offline when retries are off', async () => {
    const { manual, clock } = virtualClock()
    const fetch = fakeFetch(() => {
      setOffline(true)
      throw new TypeError('Failed to fetch')
    })
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock, retry: false })
    try {
      const failed = client.jobs.get('job_1').catch((e: unknown) => e)
      await advance(manual, 100)
      setOffline(false)
      expect(isNetworkError(await settleWithin(manual, failed, 1_000))).toBe(true)
      expect(fetch.calls).toHaveLength(1)
    } finally {
      setOffline(false)
    }
  })

  it('should fail a request the browser stays offline for past its time limit, saying so', async () => {
    const { manual, clock } = virtualClock()
    const fetch = fakeFetch(() => json(jobBody({ status: 'running' })))
    const client = createClient({
      baseUrl: 'http://api.test',
      fetch,
      clock,
      requestTimeoutMs: 5_000,
    })
    setOffline(true)
    try {
      const failed = client.jobs.get('job_1').catch((e: unknown) => e)
      await advance(manual, 5_000)
      const error = await failed
      expect(isNetworkError(error)).toBe(true)
      expect((error as Error).message).toMatch(/was not sent: the browser stayed offline/)
      expect(fetch.calls).toHaveLength(0)
    } finally {
      setOffline(false)
    }
  })

  it('should still end a wait at its deadline while offline', async () => {
    const { manual, clock } = virtualClock()
    const fetch = fakeFetch(() => json(jobBody({ status: 'running' })))
    const client = createClient({ baseUrl: 'http://api.test', fetch, clock, transport: 'poll' })
    setOffline(true)
    try {
      const waiting = client.jobs.wait('job_1', { timeoutMs: 3_000 }).catch((e: unknown) => e)
      await advance(manual, 3_000)
      expect(isTimeoutError(await waiting)).toBe(true)
      expect(fetch.calls).toHaveLength(0)
    } finally {
      setOffline(false)
    }
  })
})

describe('tabs that share (shareTabs)', () => {
  /** A client as one tab would have it, counting the requests it sends. */
  function tab(everyMs = 100) {
    const sent: string[] = []
    const client = createClient({
      baseUrl: inject('baseUrl'),
      apiKey: 'vt_dev_key',
      shareTabs: true,
      transport: 'poll',
      polling: fixedInterval(everyMs),
      fetch: (input, init) => {
        if ((init.method ?? 'GET') === 'GET') sent.push(input)
        return fetch(input, init)
      },
    })
    return { client, sent }
  }

  it('should have one tab ask for a job while the others listen', async () => {
    const tabs = [tab(), tab(), tab()]
    const job = await tabs[0]?.client.jobs.create({
      video_url: 'https://example.com/a.mp4',
      target_language: 'sv',
      simulate: { duration_ms: 1_000, outcome: 'completed' },
    })
    const id = job?.id as string
    const done = await Promise.all(tabs.map((t) => t.client.jobs.wait(id, { timeoutMs: 10_000 })))
    expect(done.map((j) => j.status)).toEqual(['completed', 'completed', 'completed'])
    const asking = tabs.filter((t) => t.sent.length > 0)
    expect(asking).toHaveLength(1)
  })

  it('should say a transport is selected in the tab that asks, not in those that listen', async () => {
    const selected = new Set<number>()
    const streamed = new Set<number>()
    const tabs = Array.from({ length: 3 }, (_, i) => {
      const client = createClient({
        baseUrl: inject('baseUrl'),
        apiKey: 'vt_dev_key',
        shareTabs: true,
        transport: 'sse',
        fetch: (input, init) => {
          if (input.includes('/events')) streamed.add(i)
          return fetch(input, init)
        },
      })
      client.on('transport:selected', () => selected.add(i))
      return client
    })
    const job = await tabs[0]?.jobs.create({
      video_url: 'https://example.com/a.mp4',
      target_language: 'sv',
      simulate: { duration_ms: 1_000, outcome: 'completed' },
    })
    const id = job?.id as string
    const done = await Promise.all(tabs.map((t) => t.jobs.wait(id, { timeoutMs: 10_000 })))
    expect(done.map((j) => j.status)).toEqual(['completed', 'completed', 'completed'])
    // Every tab said it, each listening to the one asking; now only those that led (one, or one
    // more taking over as the first ended), every tab that opened a stream among them.
    expect(selected.size).toBeLessThan(3)
    for (const tab of streamed) expect(selected.has(tab)).toBe(true)
  })

  it('should hand the job to another tab when the asking one stops waiting', async () => {
    const [first, second] = [tab(), tab()]
    const job = await first.client.jobs.create({
      video_url: 'https://example.com/a.mp4',
      target_language: 'fi',
      simulate: { duration_ms: 1_500, outcome: 'completed' },
    })
    const controller = new AbortController()
    const leaving = first.client.jobs
      .wait(job.id, { signal: controller.signal })
      .catch(() => 'left')
    // The first tab leads once it asks.
    await vi.waitFor(() => expect(first.sent.length).toBeGreaterThan(0))
    const staying = second.client.jobs.wait(job.id, { timeoutMs: 10_000 })
    const asked = first.sent.length
    await vi.waitFor(() => expect(first.sent.length).toBeGreaterThan(asked + 1))
    expect(second.sent).toHaveLength(0)
    controller.abort()
    expect(await leaving).toBe('left')
    await expect(staying).resolves.toMatchObject({ status: 'completed' })
    expect(second.sent.length).toBeGreaterThan(0)
  })

  /** A job of `durationMs`, and a first tab asking for it every 10 s (its first check at once). */
  async function slowLeader(durationMs: number) {
    const leader = tab(10_000)
    const job = await leader.client.jobs.create({
      video_url: 'https://example.com/a.mp4',
      target_language: 'et',
      simulate: { duration_ms: durationMs, outcome: 'completed' },
    })
    const controller = new AbortController()
    const leading = leader.client.jobs.wait(job.id, { signal: controller.signal }).catch(() => {})
    await vi.waitFor(() => expect(leader.sent).toHaveLength(1))
    const stop = async () => {
      controller.abort()
      await leading
    }
    return { id: job.id, stop }
  }

  it('should tell a tab that starts following the job as last seen, at once', async () => {
    const { id, stop } = await slowLeader(60_000)
    const follower = tab()
    const seen: string[] = []
    const controller = new AbortController()
    const following = follower.client.jobs
      .wait(id, { signal: controller.signal, onProgress: (job) => seen.push(job.status) })
      .catch(() => {})
    try {
      // Not at the leading tab's next answer, 10 s away: it answers the follower's ask.
      await vi.waitFor(() => expect(seen.length).toBeGreaterThan(0), { timeout: 2_000 })
      expect(follower.sent).toHaveLength(0)
    } finally {
      controller.abort()
      await following
      await stop()
    }
  })

  it('should look once itself at a following tab’s deadline', async () => {
    const { id, stop } = await slowLeader(500)
    const follower = tab()
    try {
      // The job ends in time; the leading tab would only know 10 s later.
      const job = await follower.client.jobs.wait(id, { timeoutMs: 1_500 })
      expect(job.status).toBe('completed')
      expect(follower.sent).toHaveLength(1)
    } finally {
      await stop()
    }
  })
})
