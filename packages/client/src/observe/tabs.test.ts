/**
 * Tabs that share (`shareTabs`), in Node: each "tab" is a client made in its own fake page, with
 * Node's BroadcastChannel and a fake Web Locks manager, so that one tab can be hidden while
 * another is shown (the browser tests run every tab in one page).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { fakeFetch, jobBody, json } from '../../test/fake-fetch.js'
import { type FakePage, fakePage, inPage } from '../../test/fake-page.js'
import { drive, virtualClock } from '../../test/virtual-time.js'
import { createClient } from '../client.js'
import { fixedInterval } from '../polling/strategy.js'

/** Web Locks, first come first served: a lock is held until its callback's promise settles. */
function fakeLocks() {
  const queues = new Map<string, (() => void)[]>()
  return {
    request(name: string, options: { signal?: AbortSignal }, callback: () => unknown) {
      return new Promise((resolve, reject) => {
        const queue = queues.get(name) ?? []
        queues.set(name, queue)
        const { signal } = options
        const onAbort = () => {
          const at = queue.indexOf(granted)
          // Only a request still waiting is given up; a held lock stays held.
          if (at > 0) queue.splice(at, 1)
          if (at > 0) reject(signal?.reason)
        }
        const granted = () => {
          signal?.removeEventListener('abort', onAbort)
          Promise.resolve()
            .then(callback)
            .then(resolve, reject)
            .finally(() => {
              queue.shift()
              queue[0]?.()
            })
        }
        signal?.addEventListener('abort', onAbort, { once: true })
        queue.push(granted)
        if (queue.length === 1) granted()
      })
    },
  }
}

const globals = globalThis as Record<string, unknown>
let saved: PropertyDescriptor | undefined

beforeEach(() => {
  saved = Object.getOwnPropertyDescriptor(globalThis, 'navigator')
  const navigator = { locks: fakeLocks(), onLine: true }
  Object.defineProperty(globalThis, 'navigator', { value: navigator, configurable: true })
})

afterEach(() => {
  if (saved) Object.defineProperty(globalThis, 'navigator', saved)
  else delete globals.navigator
})

/**
 * A tab: a client made in `page`, polling every second, counting its checks; the server takes
 * `roundTripMs` to answer, and says the job completed from `completedAt` (virtual ms) on.
 */
function tab(
  page: FakePage,
  clock: ReturnType<typeof virtualClock>['clock'],
  server: { roundTripMs?: number; completedAt?: number } = {},
) {
  let checks = 0
  const start = clock.now()
  const fetch = fakeFetch(async () => {
    checks++
    if (server.roundTripMs) await clock.sleep(server.roundTripMs)
    const done = clock.now() - start >= (server.completedAt ?? Infinity)
    return json(jobBody({ id: 'job_1', status: done ? 'completed' : 'running', eta_ms: null }))
  })
  const client = inPage(page, () =>
    createClient({
      baseUrl: 'http://tabs.test',
      fetch,
      clock,
      shareTabs: true,
      transport: 'poll',
      polling: fixedInterval(1_000),
    }),
  )
  return { client, checks: () => checks }
}

describe('shareTabs outside a page', () => {
  it('should open no channel where there is no page (Deno has both APIs; its process would never end)', () => {
    const globals = globalThis as { BroadcastChannel?: unknown }
    const real = globals.BroadcastChannel
    let opened = 0
    globals.BroadcastChannel = class extends (real as typeof BroadcastChannel) {
      constructor(name: string) {
        super(name)
        opened++
      }
    }
    const scope = globalThis as { WorkerGlobalScope?: unknown }
    try {
      createClient({ baseUrl: 'http://tabs.test', shareTabs: true })
      expect(opened).toBe(0)
      inPage(fakePage(true), () => createClient({ baseUrl: 'http://tabs.test', shareTabs: true }))
      expect(opened).toBe(1)
      // A browser's worker has no page, and shares all the same.
      scope.WorkerGlobalScope = class {}
      createClient({ baseUrl: 'http://tabs.test', shareTabs: true })
      expect(opened).toBe(2)
    } finally {
      globals.BroadcastChannel = real
      delete scope.WorkerGlobalScope
    }
  })
})

describe('tabs sharing a job while the asking one is hidden', () => {
  async function run(
    followerShown: boolean,
    showAfterMs?: number,
    {
      hideAfterMs,
      leaveAfterMs,
      another = false,
    }: { hideAfterMs?: number; leaveAfterMs?: number; another?: boolean } = {},
  ) {
    const { manual, clock } = virtualClock()
    const asking = tab(fakePage(false), clock)
    const followingPage = fakePage(followerShown)
    const following = tab(followingPage, clock)
    // Another tab following the job, shown all along.
    const others = another ? [tab(fakePage(true), clock)] : []
    const controller = new AbortController()
    // The following tab's own wait: it may stop following while shown.
    const leaving = new AbortController()
    controller.signal.addEventListener('abort', () => leaving.abort())
    const waits = [asking, following, ...others].map(async (t) => {
      const signal = t === following ? leaving.signal : controller.signal
      await t.client.jobs.wait('job_1', { signal }).catch(() => {})
      await manual.tickAsync(0)
    })
    const checksAt: number[] = []
    for (let ms = 0; ms < 12_000; ms += 100) {
      if (ms === showAfterMs) followingPage.setVisible(true)
      if (ms === hideAfterMs) followingPage.setVisible(false)
      if (ms === leaveAfterMs) leaving.abort()
      await manual.tickAsync(100)
      checksAt.push(asking.checks())
    }
    if (leaveAfterMs === undefined) expect(followingPage.listeners()).toBeGreaterThan(0)
    controller.abort()
    await Promise.all(waits)
    expect(following.checks() + others.reduce((sum, t) => sum + t.checks(), 0)).toBe(0)
    // Nothing left listening to the page once no job is shared.
    expect(followingPage.listeners()).toBe(0)
    return checksAt
  }

  it('should space its checks four times wider when no tab shows the job', async () => {
    const checks = await run(false)
    // At 0, 4, 8 and 12 s.
    expect(checks.at(-1)).toBe(4)
  })

  it('should keep a shown page’s pace while another tab following the job is shown', async () => {
    const checks = await run(true)
    expect(checks.at(-1)).toBeGreaterThanOrEqual(11)
  })

  it('should slow from its next check once the tab that showed the job is hidden or gone, unless another shows it', async () => {
    // Every second until 3 s; the check planned then (4 s), and 4 s apart after it.
    const hidden = await run(true, undefined, { hideAfterMs: 3_000 })
    expect(hidden[39]).toBe(5)
    expect(hidden.at(-1)).toBeLessThanOrEqual(7)
    // Another tab still shows it: the pace stays.
    const stillShown = await run(true, undefined, { hideAfterMs: 3_000, another: true })
    expect(stillShown.at(-1)).toBeGreaterThanOrEqual(11)
    // The tab showing it stops following it (its wait ends), shown: the same as hidden.
    const left = await run(true, undefined, { leaveAfterMs: 3_000 })
    expect(left.at(-1)).toBeLessThanOrEqual(7)
  })

  it('should check at once when a following tab is shown again, if a shown page would have', async () => {
    // Hidden both: checks at 0 and 4 s; the following tab shown at 6 s: the check due at 5 s.
    const checks = await run(false, 6_000)
    expect(checks[59]).toBe(2)
    expect(checks[61]).toBe(3)
    // Then every second.
    expect(checks.at(-1)).toBeGreaterThanOrEqual(8)
  })
})

describe('a tab asking for a shared job', () => {
  it('should give a check out at its wait’s deadline its second, as an unshared tab does', async () => {
    const { manual, clock } = virtualClock()
    // Checks at 0 and 1,200 (a second after the first answer, sent 200 ms early); the second
    // answers at 1,600, past the 1,500 ms deadline, with the job done.
    const alone = tab(fakePage(true), clock, { roundTripMs: 400, completedAt: 1_000 })
    const waiting = alone.client.jobs.wait('job_1', { timeoutMs: 1_500 })
    await expect(drive(manual, waiting, 100, 30)).resolves.toMatchObject({ status: 'completed' })
  })

  it('should answer a tab’s ask to that tab alone', async () => {
    const { manual, clock } = virtualClock()
    const asking = tab(fakePage(true), clock)
    const controller = new AbortController()
    const heard = [0, 0, 0]
    const wait = (t: typeof asking, i: number) =>
      t.client.jobs
        .wait('job_1', {
          signal: controller.signal,
          onProgress: () => {
            heard[i] = (heard[i] ?? 0) + 1
          },
        })
        .catch(() => {})
    const waits = [wait(asking, 0)]
    await manual.tickAsync(100)
    // Two tabs join after the first answer (the next is a second away): each asks for it.
    waits.push(wait(tab(fakePage(true), clock), 1), wait(tab(fakePage(true), clock), 2))
    await manual.tickAsync(500)
    controller.abort()
    await Promise.all(waits)
    // Each told once, not once for every tab's ask.
    expect(heard).toEqual([1, 1, 1])
  })
})
