/**
 * A Server-Sent Events parser following the WHATWG rules ("Interpreting an event stream"):
 * lines end in CR, LF or CRLF (a CR at the end of one chunk and an LF at the start of the next
 * are one line end); a leading BOM is dropped; `:` starts a comment; `field: value` loses one
 * space after the colon; `data` lines join with LF; `id` persists across events (one with a NUL
 * is ignored); `retry` takes digits only; a blank line dispatches, an event without data is not.
 * Fed decoded text in chunks cut anywhere. A line or an event's data longer than `MAX_EVENT_CHARS`
 * is refused (`feed` throws a RangeError): a stream that never ends a line would grow the buffer
 * without bound.
 */

/** The longest line, and the longest data of one event, a stream may send (1 Mi characters). */
export const MAX_EVENT_CHARS = 1 << 20

/** One dispatched event. */
export interface SseEvent {
  /** `message` unless the stream named it. */
  event: string
  data: string
  /** The last event id the stream set (it persists across events), or ''. */
  id: string
}

/** A parser that calls `onEvent` for every dispatched event and `onRetry` for every `retry:`. */
export interface SseParser {
  /** Takes the next decoded chunk of the stream. */
  feed(chunk: string): void
}

export function createSseParser(
  onEvent: (event: SseEvent) => void,
  onRetry: (ms: number) => void = () => {},
): SseParser {
  let buffer = ''
  let started = false
  /** The last chunk ended in CR: an LF starting the next one belongs to it. */
  let afterCr = false
  let data = ''
  let hasData = false
  let type = ''
  let lastId = ''

  const line = (text: string) => {
    if (text === '') {
      if (hasData) onEvent({ event: type || 'message', data, id: lastId })
      data = ''
      hasData = false
      type = ''
      return
    }
    if (text.startsWith(':')) return
    const colon = text.indexOf(':')
    const field = colon === -1 ? text : text.slice(0, colon)
    let value = colon === -1 ? '' : text.slice(colon + 1)
    if (value.startsWith(' ')) value = value.slice(1)
    switch (field) {
      case 'event':
        type = value
        break
      case 'data':
        data = hasData ? `${data}\n${value}` : value
        hasData = true
        if (data.length > MAX_EVENT_CHARS) throw new RangeError(tooLong('an event'))
        break
      case 'id':
        if (!value.includes('\0')) lastId = value
        break
      case 'retry':
        if (/^\d+$/.test(value)) onRetry(Number(value))
        break
    }
  }

  return {
    feed(chunk) {
      let text = chunk
      if (!started && text !== '') {
        started = true
        if (text.startsWith('\uFEFF')) text = text.slice(1)
      }
      if (afterCr && text.startsWith('\n')) text = text.slice(1)
      afterCr = false
      // What is left of the last chunk holds no line end: only the new text is searched.
      const searched = buffer.length
      buffer += text
      let start = 0
      for (let i = searched; i < buffer.length; i++) {
        const c = buffer[i]
        if (c !== '\r' && c !== '\n') continue
        line(buffer.slice(start, i))
        if (c === '\r') {
          if (i + 1 === buffer.length) afterCr = true
          else if (buffer[i + 1] === '\n') i++
        }
        start = i + 1
      }
      buffer = buffer.slice(start)
      if (buffer.length > MAX_EVENT_CHARS) throw new RangeError(tooLong('a line'))
    },
  }
}

function tooLong(what: string): string {
  return `${what} of the event stream is longer than ${MAX_EVENT_CHARS} characters`
}
