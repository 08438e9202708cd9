/**
 * The SSE source: `GET /v1/jobs/:id/events`, one stream per observed job; every `status` event
 * is the Job as it changed, so the end is known the moment the server sends it. A stream that
 * drops is opened again with `Last-Event-ID` (after the server's `retry:`, or the strategy's
 * backoff when it failed); one that sends nothing for a while (a proxy buffering it, or a
 * connection gone quiet) is dropped. A server without the endpoint, or whose first event does
 * not arrive in time, is asked by long-poll instead.
 */
import { type ClientCore, paced } from '../../core.js'
import { InvalidResponseError, isApiError, NetworkError } from '../../errors.js'
import { recordCheck } from '../../history.js'
import { type HttpRequest, type HttpStream, openStream } from '../../http.js'
import { parseJob } from '../../parse.js'
import { jobPath } from '../../validate.js'
import type { Source } from '../monitor.js'
import type { Observation } from '../observation.js'
import { pollSource } from './poll.js'
import { createSseParser } from './sse-parser.js'

/** How long the first bytes may take after the headers before the stream is taken as buffered. */
export const FIRST_EVENT_MS = 5_000

/** How long a stream may stay silent (the server sends a comment every 15 s) before it is dropped. */
export const SILENT_MS = 45_000

/** Statuses that say the server has no event streams. */
const UNSUPPORTED = new Set([404, 405, 406, 501])

/** Checks jobs by listening to their event streams. */
export function sseSource(core: ClientCore): Source {
  const poll = pollSource(core)
  return {
    async one(observation, signal) {
      const { state } = observation.cursor
      const path = `${jobPath(observation.id)}/events`
      let stream: HttpStream
      // A stream has no time limit of its own: each wait still ends at its deadline.
      observation.guardDeadlines()
      const request: HttpRequest = {
        method: 'GET',
        path,
        signal,
        ...(state.eventId !== undefined && { headers: { 'last-event-id': state.eventId } }),
      }
      try {
        stream = await paced(
          core,
          request,
          () => openStream(core.http, request),
          (opened) => opened.response.headers,
        )
      } catch (error) {
        if (isApiError(error) && UNSUPPORTED.has(error.status)) {
          return fallBack(observation, `GET ${path} answered ${error.status}`)
        }
        throw error
      }
      const { response } = stream
      // The job ended and the stream has nothing newer: its last state is one GET away.
      if (response.status === 204) {
        stream.close()
        return poll.one(observation, signal)
      }
      const type = response.headers.get('content-type') ?? ''
      if (!/^text\/event-stream\b/i.test(type) || !response.body) {
        stream.close()
        return fallBack(observation, `GET ${path} answered ${type || 'no content type'}`)
      }
      await listen(core, observation, stream, signal)
    },
  }
}

/** This job (and the client's next ones) go to long-poll; the job is asked again at once. */
function fallBack(observation: Observation, reason: string): void {
  observation.planner.fallback(observation, 'long-poll', reason)
  observation.requeue()
}

/** Reads the stream until it ends, handing each status to the observation. */
async function listen(
  core: ClientCore,
  observation: Observation,
  stream: HttpStream,
  signal: AbortSignal,
): Promise<void> {
  const { clock } = core
  const { state } = observation.cursor
  const info = { method: 'GET', path: `${jobPath(observation.id)}/events` }
  let retryMs: number | undefined
  let events = 0
  let invalid: string | undefined
  const parser = createSseParser(
    (event) => {
      if (event.event !== 'status') return
      const job = parseJob(safeJson(event.data))
      if (typeof job === 'string') {
        invalid = job
        return
      }
      events++
      if (event.id !== '') state.eventId = event.id
      const at = clock.now()
      const check = { startedAt: at, at, attempt: state.checks }
      recordCheck(core.history, observation.id, check, {
        status: job.status,
        httpStatus: stream.response.status,
        pushed: true,
      })
      observation.answered(job, {}, undefined, 'stream')
    },
    (ms) => {
      retryMs = ms
    },
  )
  const reader = (stream.response.body as ReadableStream<Uint8Array>).getReader()
  // Cancelled as well as aborted: a fetch that is not the runtime's (a test double, a wrapper)
  // may not end its body when the request is aborted.
  const cancel = () => {
    reader.cancel().catch(() => {})
    stream.close()
  }
  signal.addEventListener('abort', cancel, { once: true })
  const decoder = new TextDecoder()
  /** Set when the stream went quiet for too long: why it was dropped. */
  let silence: string | undefined
  let watchdog = new AbortController()
  const watch = (ms: number, why: string) => {
    watchdog.abort()
    watchdog = new AbortController()
    clock.sleep(ms, watchdog.signal).then(
      () => {
        silence = why
        cancel()
      },
      () => {},
    )
  }
  watch(FIRST_EVENT_MS, 'first event')
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done || observation.ended) break
      parser.feed(decoder.decode(value, { stream: true }))
      if (invalid) break
      if (events > 0) watch(SILENT_MS, 'silence')
    }
  } catch (error) {
    if (!silence && !observation.ended) {
      signal.throwIfAborted()
      throw new NetworkError(info, error)
    }
  } finally {
    signal.removeEventListener('abort', cancel)
    watchdog.abort()
    stream.close()
  }
  if (observation.ended) return
  if (invalid) {
    const requestId = stream.response.headers.get('x-request-id') ?? undefined
    const reason = `a status event is not a Job: ${invalid}`
    throw new InvalidResponseError({ request: info, status: 200, requestId, reason })
  }
  if (silence === 'first event' && events === 0) {
    return fallBack(observation, `no event within ${FIRST_EVENT_MS} ms (a buffering proxy?)`)
  }
  // Dropped or ended without the job's end: open it again after the server's `retry:`.
  observation.answered(undefined, { retryAfterMs: retryMs })
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch {
    return undefined
  }
}
