import { createParser } from 'eventsource-parser'
import { describe, expect, it } from 'vitest'
import { createSseParser, MAX_EVENT_CHARS, type SseEvent } from './sse-parser.js'

/** What our parser makes of `chunks`: its events and its retries. */
function ours(chunks: string[]) {
  const events: SseEvent[] = []
  const retries: number[] = []
  const parser = createSseParser(
    (e) => events.push(e),
    (ms) => retries.push(ms),
  )
  for (const chunk of chunks) parser.feed(chunk)
  return { events, retries }
}

/** What eventsource-parser (a widely used implementation) makes of the whole `text`. */
function reference(text: string) {
  const events: SseEvent[] = []
  const retries: number[] = []
  let lastId = ''
  const parser = createParser({
    onId: (id) => {
      lastId = id
    },
    onEvent: (e) => events.push({ event: e.event ?? 'message', data: e.data, id: lastId }),
    onRetry: (ms) => retries.push(ms),
  })
  parser.feed(text)
  return { events, retries }
}

/** A small seeded generator (mulberry32). */
function random(seed: number) {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

/** A random stream: fields, comments, odd lines, every kind of line end. */
function randomStream(next: () => number): string {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T
  const ends = ['\n', '\r', '\r\n']
  const values = [
    '',
    ' ',
    'x',
    ' spaced',
    '  two',
    'a:b',
    'é ☃ 字',
    '{"id":"job_1"}',
    '12',
    '3000',
    'x1',
  ]
  const lines = [
    'data',
    'data:',
    'data: ',
    'event',
    'id',
    'retry',
    ':',
    ': keep-alive',
    'unknown',
    'DATA',
  ]
  let text = next() < 0.2 ? '\uFEFF' : ''
  const count = 1 + Math.floor(next() * 12)
  for (let i = 0; i < count; i++) {
    const kind = next()
    if (kind < 0.5) text += `${pick(['data', 'event', 'id', 'retry'])}:${pick(values)}`
    else if (kind < 0.7) text += pick(lines)
    else if (kind < 0.8) text += `id:${pick(['7', 'a\0b', ''])}`
    // else: a blank line, which dispatches
    text += pick(ends)
  }
  return text
}

describe('createSseParser', () => {
  it('should follow the WHATWG examples', () => {
    const stream =
      'data: YHOO\ndata: +2\ndata: 10\n\n: comment\nevent: add\ndata\n\nid: 1\ndata:x\n\n'
    expect(ours([stream]).events).toEqual([
      { event: 'message', data: 'YHOO\n+2\n10', id: '' },
      { event: 'add', data: '', id: '' },
      { event: 'message', data: 'x', id: '1' },
    ])
  })

  it('should refuse a line, or an event, longer than it will hold', () => {
    const events: SseEvent[] = []
    const flood = createSseParser((event) => events.push(event))
    const chunk = 'x'.repeat(64 * 1024)
    // A line that never ends, a chunk at a time: refused once it passes the bound.
    expect(() => {
      for (let i = 0; i <= MAX_EVENT_CHARS / chunk.length; i++) flood.feed(chunk)
    }).toThrow(RangeError)
    const many = createSseParser((event) => events.push(event))
    const line = `data: ${'y'.repeat(1_000)}\n`
    expect(() => {
      for (let i = 0; i <= MAX_EVENT_CHARS / 1_000; i++) many.feed(line)
    }).toThrow(/an event of the event stream is longer than/)
    // Up to the bound, all is read.
    const big = createSseParser((event) => events.push(event))
    big.feed(`data: ${'z'.repeat(MAX_EVENT_CHARS - 10)}\n\n`)
    expect(events).toHaveLength(1)
  })

  it('should join a CR at the end of one chunk with an LF at the start of the next', () => {
    const { events } = ours(['data: a\r', '\ndata: b\r', '\r'])
    expect(events).toEqual([{ event: 'message', data: 'a\nb', id: '' }])
  })

  it('should keep the id across events, ignore one with a NUL, and drop a BOM once', () => {
    const { events, retries } = ours([
      '\uFEFFid: 5\ndata: a\n\nid: x\0y\ndata: b\n\nretry: 1x\nretry: 250\n\n',
    ])
    expect(events.map((e) => e.id)).toEqual(['5', '5'])
    expect(retries).toEqual([250])
  })

  it('should agree with eventsource-parser on random streams cut at every point', () => {
    const next = random(20261204)
    let cuts = 0
    for (let n = 0; n < 300; n++) {
      const text = randomStream(next)
      const expected = reference(text)
      expect(ours([text]), JSON.stringify(text)).toEqual(expected)
      for (let cut = 1; cut < text.length; cut++) {
        expect(ours([text.slice(0, cut), text.slice(cut)]), JSON.stringify([text, cut])).toEqual(
          expected,
        )
        cuts++
      }
      // And in one-character chunks.
      expect(ours([...text])).toEqual(expected)
    }
    expect(cuts).toBeGreaterThan(1_000)
  })
})
