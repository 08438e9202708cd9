/**
 * Reading an answer's body, within a bound: a body past it is cut, not read whole.
 */

/**
 * The most of a body read, unpacked (8 MiB: a batch of 100 jobs is some 100 kB). A gzip of
 * 800 kB unpacking to 800 MB took that much memory, then failed as a lost connection, and was
 * retried; a body streamed without end grew the heap by it.
 */
export const MAX_BODY_BYTES = 8 * 1024 * 1024

/** An answer's body as text, cut at MAX_BODY_BYTES (`cut`: there was more). */
export interface Body {
  text: string
  cut: boolean
}

/**
 * Errors of requests whose body was cut at its bound while its bytes kept coming (http.ts): the
 * request does not try again, as the next would be as slow (a `jobs.get` of a body sending a
 * byte every 2 s failed after four minutes, its retries each a minute: now one), retry.ts.
 */
export const tooSlow = new WeakSet<object>()

/**
 * A body this long or shorter is read whole: a job's answer (about 1 kB) on the hot path; a
 * longer one (a batch's, 27 kB for 100 jobs) in chunks, each telling `progress`.
 */
const WHOLE_BYTES = 16 * 1024

/**
 * The body of `response`, read whole by the runtime when it says it is small and packs nothing
 * (a length within WHOLE_BYTES, no `Content-Encoding`: almost every answer), else read in chunks
 * up to the bound, the rest left unread and the stream cancelled; `progress` is called at each
 * chunk (the request's limit starts over: on a slow link, 20 batches of 27 kB shared 64 kbit/s,
 * and each, its bytes coming all the while, was cut at 10 s and asked again from nothing).
 */
export async function bodyOf(response: Response, progress?: () => void): Promise<Body> {
  const { headers, body } = response
  const length = Number(headers.get('content-length') ?? Number.NaN)
  // A body that is no web stream (node-fetch 2's Node stream, a polyfill's none) is read whole.
  const streams = typeof body?.getReader === 'function'
  if (!streams || (length <= WHOLE_BYTES && !headers.has('content-encoding'))) {
    return { text: await response.text(), cut: false }
  }
  const reader = (body as ReadableStream<Uint8Array>).getReader()
  const decoder = new TextDecoder()
  let text = ''
  let bytes = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) return { text: text + decoder.decode(), cut: false }
    progress?.()
    bytes += value.byteLength
    if (bytes > MAX_BODY_BYTES) {
      reader.cancel().catch(() => {})
      return { text: text + decoder.decode(), cut: true }
    }
    text += decoder.decode(value, { stream: true })
  }
}
