import { describe, expect, expectTypeOf, it } from 'vitest'
import { Emitter } from './emitter.js'

interface Events {
  ping: { n: number }
  pong: { text: string }
}

describe('Emitter', () => {
  it('should call listeners of the type with the payload, until unsubscribed', () => {
    const emitter = new Emitter<Events>(() => undefined)
    const seen: number[] = []
    const off = emitter.on('ping', (e) => seen.push(e.n))
    emitter.emit('ping', { n: 1 })
    emitter.emit('pong', { text: 'x' })
    off()
    emitter.emit('ping', { n: 2 })
    expect(seen).toEqual([1])
  })

  it('should let a listener unsubscribe while being called, without skipping others', () => {
    const emitter = new Emitter<Events>(() => undefined)
    const seen: string[] = []
    const offA = emitter.on('ping', () => {
      seen.push('a')
      offA()
    })
    emitter.on('ping', () => seen.push('b'))
    emitter.emit('ping', { n: 1 })
    emitter.emit('ping', { n: 2 })
    expect(seen).toEqual(['a', 'b', 'b'])
  })

  it('should report a throwing listener and still call the rest', () => {
    const errors: unknown[] = []
    const emitter = new Emitter<Events>((error) => errors.push(error))
    const seen: number[] = []
    emitter.on('ping', () => {
      throw new Error('boom')
    })
    emitter.on('ping', (e) => seen.push(e.n))
    expect(() => emitter.emit('ping', { n: 3 })).not.toThrow()
    expect(seen).toEqual([3])
    expect(errors).toHaveLength(1)
  })

  it('should remove a listener with off', () => {
    const emitter = new Emitter<Events>(() => undefined)
    const seen: number[] = []
    const listener = (e: { n: number }) => seen.push(e.n)
    emitter.on('ping', listener)
    emitter.off('ping', listener)
    emitter.emit('ping', { n: 1 })
    expect(seen).toEqual([])
  })

  it('should call a listener of every event with its name, after those of the event, until stopped', () => {
    const errors: unknown[] = []
    const emitter = new Emitter<Events>((error, type) => errors.push([type, error]))
    const seen: string[] = []
    emitter.on('ping', ({ n }) => seen.push(`ping ${n}`))
    expect(emitter.listens('pong')).toBe(false)
    const off = emitter.onAny((event) => {
      // A union on `name`: each case narrows the payload.
      switch (event.name) {
        case 'ping':
          seen.push(`any ping ${event.payload.n}`)
          break
        case 'pong':
          seen.push(`any pong ${event.payload.text}`)
          throw new Error('listener broke')
        default:
          expectTypeOf(event).toBeNever()
      }
    })
    expect(emitter.listens('pong')).toBe(true)
    emitter.emit('ping', { n: 1 })
    emitter.emit('pong', { text: 'a' })
    off()
    emitter.emit('ping', { n: 2 })
    expect(emitter.listens('pong')).toBe(false)
    expect(seen).toEqual(['ping 1', 'any ping 1', 'any pong a', 'ping 2'])
    expect(errors).toEqual([['*', new Error('listener broke')]])
    expect(() => emitter.onAny('x' as never)).toThrow(/must be a function/)
    // One added while an event is told hears the next; none can change it for the others.
    const heard: string[] = []
    const stopAdding = emitter.on('ping', () => {
      emitter.onAny((event) => {
        heard.push(`${event.name}`)
        expect(() => Object.assign(event, { name: 'pong' })).toThrow(TypeError)
      })
      stopAdding()
    })
    emitter.emit('ping', { n: 3 })
    expect(heard).toEqual([])
    emitter.emit('ping', { n: 4 })
    expect(heard).toEqual(['ping'])
  })

  it('should type payloads by event name', () => {
    const emitter = new Emitter<Events>(() => undefined)
    emitter.on('pong', (e) => expectTypeOf(e).toEqualTypeOf<{ text: string }>())
    // @ts-expect-error: 'ping' carries { n }, not { text }
    emitter.emit('ping', { text: 'x' })
    // @ts-expect-error: no such event
    emitter.on('nope', () => undefined)
  })
})
