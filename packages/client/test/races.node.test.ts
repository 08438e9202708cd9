/**
 * Races, with fast-check's scheduler: answers, an abort, deadlines and a watch on one shared job,
 * in every order it draws. Whatever the order: each wait settles once, with what it was told; a
 * watch never goes from a terminal status back; once every waiter is gone, nothing more is sent.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createClient } from '../src/client.js'
import { fixedInterval } from '../src/polling/strategy.js'
import { isTerminalStatus, type Job } from '../src/types.js'
import { fakeFetch, jobBody, json } from './fake-fetch.js'
import { virtualClock } from './virtual-time.js'

describe('races on one shared job', () => {
  it('should settle each wait once and send nothing once every waiter is gone, in any order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        // Sometimes the job ends while waited for, sometimes only long after everyone left.
        fc.integer({ min: 1, max: 40 }),
        fc.constantFrom<Job['status']>('completed', 'error', 'canceled'),
        fc.boolean(),
        async (s, completesAt, end, breakEarly) => {
          const { manual, clock } = virtualClock()
          let calls = 0
          const answer = s.scheduleFunction(async () => {
            calls++
            const done = calls >= completesAt
            return json(jobBody({ status: done ? end : 'running', progress: done ? 1 : 0.5 }))
          })
          const fetch = fakeFetch(() => answer())
          const client = createClient({
            baseUrl: 'http://api.test',
            fetch,
            clock,
            transport: 'poll',
            polling: fixedInterval(100),
          })
          const settles = [0, 0, 0]
          const outcomes: string[] = []
          const track = (i: number, p: Promise<unknown>) =>
            p.then(
              (job) => {
                settles[i] = (settles[i] ?? 0) + 1
                outcomes[i] = `resolved ${(job as Job).status}`
              },
              (error: unknown) => {
                settles[i] = (settles[i] ?? 0) + 1
                outcomes[i] = `rejected ${String((error as Error)?.name ?? error)}`
              },
            )
          const controller = new AbortController()
          const aborted = track(0, client.jobs.wait('job_1', { signal: controller.signal }))
          const timed = track(1, client.jobs.wait('job_1', { timeoutMs: 250, throwOnError: false }))
          const seen: Job['status'][] = []
          const watching = track(
            2,
            (async () => {
              for await (const job of client.jobs.watch('job_1', { timeoutMs: 400 })) {
                seen.push(job.status)
                if (breakEarly) break
              }
              return { status: seen.at(-1) }
            })(),
          )
          s.schedule(Promise.resolve('abort')).then(() => controller.abort(new Error('abort')))
          // What had been sent when the last waiter left.
          let sentWhenAllLeft: number | undefined
          Promise.all([aborted, timed, watching]).then(() => {
            sentWhenAllLeft = fetch.calls.length
          })
          // Run everything: the scheduler's answers and the clock's timers, in the drawn order.
          for (let step = 0, idle = 0; step < 500 && idle < 5; step++) {
            if (s.count() > 0) {
              idle = 0
              await s.waitOne()
            } else if (manual.nextDueAt() !== undefined) {
              idle = 0
              await manual.tickAsync(100)
            } else {
              // A request may be on its way to the scheduler still.
              idle++
              await new Promise((resolve) => setImmediate(resolve))
            }
          }
          await Promise.all([aborted, timed, watching])
          expect(settles).toEqual([1, 1, 1])
          // A watch never leaves a terminal status.
          const firstEnd = seen.findIndex((status) => isTerminalStatus(status))
          expect(firstEnd === -1 || firstEnd === seen.length - 1).toBe(true)
          // Nobody waits any more: nothing more was sent, nor is.
          await manual.tickAsync(10_000)
          expect(s.count()).toBe(0)
          expect(fetch.calls).toHaveLength(sentWhenAllLeft as number)
        },
      ),
      { numRuns: 100, seed: 20261204 },
    )
  }, 60_000)
})
