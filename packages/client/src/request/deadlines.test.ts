import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { jobBody } from '../../test/fake-fetch.js'
import { systemClock } from '../clock.js'
import { startDeadline } from './deadlines.js'

beforeEach(() => {
  vi.useFakeTimers({ now: 0 })
})

afterEach(() => {
  vi.useRealTimers()
})

describe('startDeadline', () => {
  it('should abort with the parent, not as a timeout, and leave nothing behind', () => {
    const parent = new AbortController()
    const deadline = startDeadline(parent.signal, 1_000, systemClock)
    const reason = new Error('stop')
    parent.abort(reason)
    expect(deadline.signal.reason).toBe(reason)
    expect(deadline.timedOut()).toBe(false)
    deadline.dispose()
    expect(vi.getTimerCount()).toBe(0)
  })

  it('should time out after its limit, and not before', async () => {
    const deadline = startDeadline(undefined, 50, systemClock)
    await vi.advanceTimersByTimeAsync(49)
    expect(deadline.signal.aborted).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    expect(deadline.signal.aborted).toBe(true)
    expect(deadline.timedOut()).toBe(true)
    deadline.dispose()
  })

  it('should set no timer for no limit, and keep the parent linked once the timer stops', () => {
    const parent = new AbortController()
    const endless = startDeadline(parent.signal, Number.POSITIVE_INFINITY, systemClock)
    expect(vi.getTimerCount()).toBe(0)
    const stream = startDeadline(parent.signal, 100, systemClock)
    stream.stopTimer()
    vi.advanceTimersByTime(1_000)
    expect(stream.signal.aborted).toBe(false)
    parent.abort('gone')
    expect([endless.signal.reason, stream.signal.reason]).toEqual(['gone', 'gone'])
    for (const deadline of [endless, stream]) deadline.dispose()
  })

  it('should set no timer for a limit longer than a timer holds, which would fire at once', () => {
    const deadline = startDeadline(undefined, 2 ** 31 + 30_000, systemClock)
    expect(vi.getTimerCount()).toBe(0)
    vi.advanceTimersByTime(1_000)
    expect(deadline.signal.aborted).toBe(false)
    deadline.dispose()
  })

  it('should start aborted under a parent that already is', () => {
    const parent = new AbortController()
    parent.abort('early')
    expect(startDeadline(parent.signal, 100, systemClock).signal.reason).toBe('early')
  })
})

describe('a body that comes slowly', () => {
  /** A JSON body of 40 kB in 40 chunks, one every `everyMs`, `chunks` of them (or endless). */
  function trickle(everyMs: number, chunks = 40) {
    const json = JSON.stringify({ ...jobBody({ id: 'job_1' }), pad: 'x'.repeat(40 * 1024) })
    const size = Math.ceil(json.length / 40)
    let sent = 0
    return new Response(
      new ReadableStream<Uint8Array>({
        async pull(controller) {
          await new Promise((resolve) => setTimeout(resolve, everyMs))
          if (sent >= chunks) return controller.close()
          const piece = sent < 40 ? json.slice(sent * size, (sent + 1) * size) : ' '
          controller.enqueue(new TextEncoder().encode(piece))
          sent++
        },
      }),
      { headers: { 'content-type': 'application/json' } },
    )
  }

  it('should read a body whose bytes keep coming past the limit, and cut one that trickles on', async () => {
    const { createClient } = await import('../client.js')
    const { isTimeoutError } = await import('../errors.js')
    // 40 chunks 125 ms apart: 5 s for a body under a 1 s limit (a slow link shared by many).
    const slow = createClient({
      baseUrl: 'http://api.test',
      fetch: async () => trickle(125),
      requestTimeoutMs: 1_000,
      retry: false,
    })
    const got = slow.jobs.get('job_1').catch((e: unknown) => e)
    await vi.advanceTimersByTimeAsync(6_000)
    expect(await got).toMatchObject({ id: 'job_1' })
    // A space each 500 ms without end: cut at six limits.
    const endless = createClient({
      baseUrl: 'http://api.test',
      fetch: async () => trickle(500, Number.POSITIVE_INFINITY),
      requestTimeoutMs: 1_000,
      retry: false,
    })
    const cut = endless.jobs.get('job_1').catch((e: unknown) => e)
    await vi.advanceTimersByTimeAsync(7_100)
    expect(isTimeoutError(await cut)).toBe(true)
  })

  it('should not ask again for a body cut after its bytes kept coming for six limits', async () => {
    const { createClient } = await import('../client.js')
    const { isTimeoutError } = await import('../errors.js')
    let asked = 0
    const client = createClient({
      baseUrl: 'http://api.test',
      fetch: async () => {
        asked++
        return trickle(500, Number.POSITIVE_INFINITY)
      },
      requestTimeoutMs: 1_000,
    })
    const cut = client.jobs.get('job_1').catch((e: unknown) => e)
    await vi.advanceTimersByTimeAsync(20_000)
    const error = await cut
    expect(isTimeoutError(error)).toBe(true)
    expect((error as Error).message).toMatch(/its bytes coming all the while/)
    expect(asked).toBe(1)
    // Still a transient failure: a wait's next check may find the link faster.
    expect((error as { retryable: boolean }).retryable).toBe(true)
    // A body that stops coming is the connection's failure: asked again.
    asked = 0
    const stalled = createClient({
      baseUrl: 'http://api.test',
      fetch: async () => {
        asked++
        return trickle(60_000)
      },
      requestTimeoutMs: 1_000,
      retry: { maxRetries: 2, initialDelayMs: 10 },
    })
    const failed = stalled.jobs.get('job_1').catch((e: unknown) => e)
    await vi.advanceTimersByTimeAsync(20_000)
    expect(isTimeoutError(await failed)).toBe(true)
    expect(asked).toBe(3)
  })

  it('should end a wait at its deadline while a body trickles on', async () => {
    const { createClient } = await import('../client.js')
    const { isTimeoutError } = await import('../errors.js')
    // A space every 500 ms without end, under the default limit (10 s): a wait of 3 s took 18 s
    // (six of its requests' limits, cut to its time left).
    const client = createClient({
      baseUrl: 'http://api.test',
      fetch: async () => trickle(500, Number.POSITIVE_INFINITY),
      transport: 'poll',
    })
    const wait = client.jobs.wait('job_1', { timeoutMs: 3_000 }).catch((e: unknown) => e)
    // Its deadline, and its last look's second.
    await vi.advanceTimersByTimeAsync(4_100)
    const error = await wait
    expect(isTimeoutError(error) && error.scope).toBe('wait')
  })
})

describe('a request whose fetch ignores its abort', () => {
  it('should still end at its limit, a TimeoutError, whether the answer or its body hangs', async () => {
    const { createClient } = await import('../client.js')
    const { isTimeoutError } = await import('../errors.js')
    const never = new Promise<Response>(() => {})
    // A body that never ends and does not stop when cancelled.
    const endless = () => new Response(new ReadableStream({ pull: () => new Promise(() => {}) }))
    for (const fetch of [() => never, async () => endless()]) {
      const client = createClient({
        baseUrl: 'http://api.test',
        fetch,
        requestTimeoutMs: 1_000,
        retry: false,
      })
      const get = client.jobs.get('job_1').catch((e: unknown) => e)
      await vi.advanceTimersByTimeAsync(1_000)
      expect(isTimeoutError(await get)).toBe(true)
    }
  })
})
