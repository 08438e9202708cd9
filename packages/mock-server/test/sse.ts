/** Reading Server-Sent Events from a response body, for tests. */

/** One parsed event. */
export interface SseEvent {
  event: string
  id: string
  data: string
}

/** Parses complete events (and counts comments) in an SSE text. */
export function parseSse(text: string): { events: SseEvent[]; comments: number } {
  const events: SseEvent[] = []
  let comments = 0
  for (const block of text.split('\n\n')) {
    if (block.trim() === '') continue
    const event: SseEvent = { event: 'message', id: '', data: '' }
    let hasField = false
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) comments++
      const match = /^(event|id|data): ?(.*)$/.exec(line)
      if (!match) continue
      hasField = true
      const [, field, value] = match as unknown as [string, keyof SseEvent, string]
      event[field] = field === 'data' && event.data !== '' ? `${event.data}\n${value}` : value
    }
    if (hasField) events.push(event)
  }
  return { events, comments }
}

/** Collects a response body as text in the background; `done` says whether it ended. */
export function collect(response: Response) {
  const state = { text: '', done: false, error: undefined as unknown }
  const decoder = new TextDecoder()
  const reader = response.body?.getReader()
  const finished = (async () => {
    if (!reader) return
    try {
      for (;;) {
        const { value, done } = await reader.read()
        if (done) break
        state.text += decoder.decode(value, { stream: true })
      }
    } catch (error) {
      state.error = error
    } finally {
      state.done = true
    }
  })()
  return { state, finished, cancel: () => reader?.cancel() }
}
