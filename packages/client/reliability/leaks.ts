/**
 * Leaks: thousands of waits that finish, time out or are aborted, then a look at what is left:
 * the client's timers (real: request limits; virtual: its sleeps), the listeners on the signal
 * every wait was given, and the heap once garbage is collected (with `--expose-gc`).
 */
import { getEventListeners } from 'node:events'
import { createManualClock, sleep } from '@video-translation/mock-server'
import { createClient, type FetchLike, fixedInterval } from '../src/index.js'
import { jobBody } from '../test/fake-fetch.js'

/** What was left after the waits. */
export interface LeakReport {
  waits: number
  completed: number
  timedOut: number
  aborted: number
  /** Client timers still pending (request time limits), and virtual sleeps still planned. */
  realTimers: number
  virtualTimers: number
  /** Abort listeners left on the signal every wait shared. */
  listeners: number
  /** Event streams still open (with `transport: 'sse'`). */
  openStreams: number
  /** Heap growth per wait once collected, in bytes; undefined without `--expose-gc`. */
  heapPerWait: number | undefined
}

/**
 * Runs `waits` waits on one client against a fake server, a third of each kind. `leaky` swaps
 * in a deliberately broken signal that never lets its listeners go (a test of the test).
 */
export async function runLeaks(
  waits: number,
  options: { leaky?: boolean; transport?: 'poll' | 'sse' } = {},
): Promise<LeakReport> {
  const { leaky = false, transport = 'poll' } = options
  const gc = (globalThis as { gc?: () => void }).gc
  const manual = createManualClock(Date.UTC(2026, 0, 1))
  const start = manual.now()
  const FINISH_MS = 5_000
  // Jobs `job_<n>` complete 5 s after the start when n is even, never when odd.
  const finishes = (id: string) => Number(id.slice(4)) % 2 === 0
  const bodyOf = (id: string) => {
    const done = finishes(id) && manual.now() - start >= FINISH_MS
    const end = {
      status: 'completed',
      progress: 1,
      result: { url: 'https://cdn.example.com/a.mp4' },
    }
    return jobBody({ id, ...(done ? end : {}) })
  }
  let openStreams = 0
  const encoder = new TextEncoder()
  const fetch: FetchLike = async (input, init) => {
    const path = new URL(input).pathname
    const id = path.split('/')[3] ?? ''
    if (!path.endsWith('/events')) {
      return new Response(JSON.stringify(bodyOf(id)), {
        headers: { 'content-type': 'application/json' },
      })
    }
    // An event stream: the job now, its end when it comes; open until then or the abort.
    const signal = init.signal ?? undefined
    let open = true
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        openStreams++
        const close = () => {
          if (!open) return
          open = false
          openStreams--
          controller.close()
        }
        const send = () =>
          controller.enqueue(
            encoder.encode(`event: status\ndata: ${JSON.stringify(bodyOf(id))}\n\n`),
          )
        send()
        signal?.addEventListener('abort', close, { once: true })
        if (bodyOf(id).status === 'completed') return close()
        if (!finishes(id)) return
        sleep(manual, FINISH_MS - (manual.now() - start), signal).then(
          () => {
            if (!open) return
            send()
            close()
          },
          () => {},
        )
      },
      cancel() {
        if (open) openStreams--
        open = false
      },
    })
    return new Response(body, { headers: { 'content-type': 'text/event-stream' } })
  }
  const pending = new Set<ReturnType<typeof setTimeout>>()
  const realSetTimeout = globalThis.setTimeout
  const realClearTimeout = globalThis.clearTimeout
  globalThis.setTimeout = ((callback: () => void, ms?: number) => {
    const timer = realSetTimeout(() => {
      pending.delete(timer)
      callback()
    }, ms)
    pending.add(timer)
    return timer
  }) as typeof setTimeout
  globalThis.clearTimeout = ((timer: ReturnType<typeof setTimeout>) => {
    pending.delete(timer)
    realClearTimeout(timer)
  }) as typeof clearTimeout
  try {
    const client = createClient({
      baseUrl: 'http://leaks.test',
      fetch,
      transport,
      polling: fixedInterval(1_000),
      clock: { now: () => manual.now(), sleep: (ms, signal) => sleep(manual, ms, signal) },
    })
    const shared = leaky ? leakySignal() : new AbortController().signal
    gc?.()
    const heapBefore = process.memoryUsage().heapUsed
    const outcomes = { completed: 0, timedOut: 0, aborted: 0 }
    const controllers: AbortController[] = []
    const all = Array.from({ length: waits }, (_, i) => {
      const kind = i % 3
      // Kind 0 finishes (an even job), 1 times out (an odd one), 2 is aborted (odd, no limit).
      const id = `job_${kind === 0 ? 2 * i : 2 * i + 1}`
      const controller = new AbortController()
      controllers.push(controller)
      const signal = kind === 2 ? controller.signal : shared
      return client.jobs.wait(id, { signal, ...(kind === 1 && { timeoutMs: 3_000 }) }).then(
        () => outcomes.completed++,
        () => (kind === 1 ? outcomes.timedOut++ : outcomes.aborted++),
      )
    })
    let done = false
    const settled = Promise.all(all).finally(() => {
      done = true
    })
    for (let step = 0; !done && step < 10_000; step++) {
      if (step === 20) for (const [i, c] of controllers.entries()) if (i % 3 === 2) c.abort()
      await new Promise((resolve) => setImmediate(resolve))
      const next = manual.nextDueAt()
      if (next !== undefined) manual.advance(Math.max(0, next - manual.now()))
    }
    await settled
    gc?.()
    const heapAfter = process.memoryUsage().heapUsed
    return {
      waits,
      ...outcomes,
      realTimers: pending.size,
      virtualTimers: manual.nextDueAt() === undefined ? 0 : 1,
      listeners: getEventListeners(shared, 'abort').length,
      heapPerWait: gc ? (heapAfter - heapBefore) / waits : undefined,
      openStreams,
    }
  } finally {
    globalThis.setTimeout = realSetTimeout
    globalThis.clearTimeout = realClearTimeout
  }
}

/** A signal whose `removeEventListener` does nothing: every wait's listener stays. */
function leakySignal(): AbortSignal {
  const signal = new AbortController().signal
  signal.removeEventListener = () => {}
  return signal
}
