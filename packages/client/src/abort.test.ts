import { getEventListeners } from 'node:events'
import { describe, expect, it } from 'vitest'
import { fakeFetch, jobBody, json } from '../test/fake-fetch.js'
import { whenAborted } from './abort.js'
import { createClient } from './client.js'

describe('whenAborted', () => {
  it('should put one listener on a signal for every callback, and take it off with the last', () => {
    const controller = new AbortController()
    const { signal } = controller
    const calls: string[] = []
    const stopA = whenAborted(signal, () => calls.push('a'))
    const callback = () => calls.push('b')
    whenAborted(signal, callback)
    // The same function twice is two waits, each stopped alone.
    const stopB = whenAborted(signal, callback)
    expect(getEventListeners(signal, 'abort')).toHaveLength(1)
    stopA()
    stopB()
    controller.abort()
    expect(calls).toEqual(['b'])
    const other = new AbortController()
    const stop = whenAborted(other.signal, () => calls.push('c'))
    stop()
    expect(getEventListeners(other.signal, 'abort')).toHaveLength(0)
  })

  it('should run every callback when one throws, and report its error after', async () => {
    const controller = new AbortController()
    const calls: string[] = []
    whenAborted(controller.signal, () => {
      throw new Error('first')
    })
    whenAborted(controller.signal, () => calls.push('second'))
    // Node reports a listener's error as uncaught, on the next tick: caught here to look at it.
    const reported: unknown[] = []
    const onUncaught = (error: unknown) => reported.push(error)
    process.prependListener('uncaughtException', onUncaught)
    controller.abort()
    await new Promise((resolve) => setImmediate(resolve))
    process.off('uncaughtException', onUncaught)
    expect(calls).toEqual(['second'])
    expect(reported).toMatchObject([{ message: 'first' }])
  })

  it('should keep a caller’s signal shared by a hundred calls at one listener', async () => {
    let release = () => {}
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    const fetch = fakeFetch(async (call) => {
      await gate
      return json(jobBody({ id: call.url.split('/').at(-1) }))
    })
    const client = createClient({ baseUrl: 'http://api.test', fetch, transport: 'poll' })
    const controller = new AbortController()
    const { signal } = controller
    const gets = Array.from({ length: 100 }, (_, i) => client.jobs.get(`job_${i}`, { signal }))
    await new Promise((resolve) => setTimeout(resolve, 10))
    expect(getEventListeners(signal, 'abort').length).toBeLessThanOrEqual(1)
    release()
    await Promise.all(gets)
    expect(getEventListeners(signal, 'abort')).toHaveLength(0)
  })
})
