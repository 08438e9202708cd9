/**
 * The SSE source: `GET /v1/jobs/:id/events`, one stream per observed job; every `status` event
 * is the Job as it changed, so the end is known the moment the server sends it. A stream that
 * drops after it spoke is opened again with `Last-Event-ID` after the server's `retry:` (the
 * strategy's delay when it sent none); one that fails before a word is a failed check, with the
 * strategy's backoff; one that sends nothing for a while (a proxy buffering it, or a connection
 * gone quiet) is dropped. A server without the endpoint, or whose stream's headers or first
 * event do not arrive in time (a proxy holding the answer back), is asked by long-poll instead.
 * With under a second left before a wait's deadline, the last look is a plain check.
 */
import { type ClientCore, requestStream } from '../../core.js'
import {
  InvalidResponseError,
  isApiError,
  isTimeoutError,
  NetworkError,
  VideoTranslationError,
} from '../../errors.js'
import { recordCheck } from '../../history.js'
import { type HttpRequest, type HttpStream, requestIdOf } from '../../http.js'
import { jobParser } from '../../parse.js'
import { redactError } from '../../redact.js'
import { jobPath } from '../../validate.js'
import type { Source } from '../monitor.js'
import type { Observation } from '../observation.js'
import { LAST_LOOK_MS } from '../subscription.js'
import { pollSource } from './poll.js'
import { createSseParser } from './sse-parser.js'

/** How long the first bytes may take after the headers before the stream is taken as buffered. */
export const FIRST_EVENT_MS = 5_000

/** Streams of an observation in a row that ended without an event. */
const emptyStreams = new WeakMap<Observation, number>()

/** How long a stream may stay silent (the server sends a comment every 15 s) before it is dropped. */
export const SILENT_MS = 45_000

/** Statuses that say the server has no event streams. */
const UNSUPPORTED = new Set([404, 405, 406, 501])

/** Checks jobs by listening to their event streams. */
export function sseSource(core: ClientCore): Source {
  const poll = pollSource(core)
  /** Stream opens in a row whose headers did not come in time. */
  let lateOpens = 0
  return {
    async one(observation, signal) {
      const { state } = observation.cursor
      const path = `${jobPath(observation.id)}/events`
      // Nothing a stream could say in time (a wait resumed past its deadline, say): one plain
      // check, so a job that ended meanwhile is not reported as timed out.
      if (observation.nearestDeadline() - core.clock.now() < LAST_LOOK_MS) {
        // A check's guard, not a stream's: each wait ends after the last look, not before it.
        observation.guardDeadlines()
        return poll.one(observation, signal)
      }
      let stream: HttpStream
      // A stream has no time limit of its own, and nothing to look at past a deadline: each wait
      // ends at its own.
      observation.guardDeadlines(0)
      const request: HttpRequest = {
        method: 'GET',
        path,
        signal,
        ...(state.eventId !== undefined && { headers: { 'last-event-id': state.eventId } }),
      }
      const startedAt = core.clock.now()
      try {
        stream = await requestStream(core, request)
      } catch (error) {
        // A job that does not exist (or not for this key) is not a server without streams.
        if (isApiError(error) && UNSUPPORTED.has(error.status) && !isJobNotFound(error)) {
          return fallBack(observation, `GET ${path} answered ${error.status}`)
        }
        // No headers within the request's limit: held back on the way (a proxy that forwards a
        // response once it ends), or a server too slow to stream. With 'sse' chosen, a failure.
        // Once may be a slow moment (a cold start, a pause): this job alone falls back; twice in
        // a row, the client's next jobs too.
        const late = `no answer to GET ${path} within the request's limit (a buffering proxy?)`
        const remember = isTimeoutError(error) && ++lateOpens >= 2
        if (
          isTimeoutError(error) &&
          observation.planner.fallback(observation, 'long-poll', late, remember)
        ) {
          return observation.requeue()
        }
        const check = { startedAt, at: core.clock.now(), attempt: state.checks }
        recordCheck(core.history, observation.id, check, { error })
        throw error
      }
      lateOpens = 0
      const { response } = stream
      // The job ended and the stream has nothing newer: its last state is one GET away.
      if (response.status === 204) {
        stream.close()
        observation.guardDeadlines()
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

/** The protocol's problem for a job that does not exist (or not for this key). */
function isJobNotFound(error: { status: number; problem?: { type: string } | undefined }): boolean {
  return error.status === 404 && /(?:^|[:/])job-not-found$/.test(error.problem?.type ?? '')
}

/**
 * This job (and the client's next ones) go to long-poll, and the job is asked again at once; with
 * `transport: 'sse'` chosen, the wait fails instead, saying why.
 */
function fallBack(observation: Observation, reason: string): void {
  if (!observation.planner.fallback(observation, 'long-poll', reason)) {
    throw new VideoTranslationError(
      `transport 'sse' does not work with this server (${reason}); transport 'auto' would fall back to long-poll or polling.`,
    )
  }
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
  let bytes = false
  let invalid: string | undefined
  const parseJob = jobParser(observation.id)
  const parser = createSseParser(
    (event) => {
      if (event.event !== 'status') return
      // As a response's body: whatever the event echoes, not the key.
      const { redact } = core.http
      const job = parseJob(safeJson(redact.inData ? redact(event.data) : event.data))
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
  // Aborted while the stream was being opened: a fetch that ignores aborts still gets it closed.
  if (signal.aborted) cancel()
  const decoder = new TextDecoder()
  /** Set when the stream went quiet for too long: why it was dropped. */
  let silence: string | undefined
  /** Set when the connection broke: how. */
  let broken: NetworkError | undefined
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
      // Bytes came (an event, `retry:` or a keep-alive): the stream is not buffered, and alive.
      bytes = true
      watch(SILENT_MS, 'silence')
    }
  } catch (error) {
    if (!silence && !observation.ended) {
      signal.throwIfAborted()
      broken = new NetworkError(info, redactError(error, core.http.redact), true)
    }
  } finally {
    signal.removeEventListener('abort', cancel)
    watchdog.abort()
    stream.close()
  }
  if (observation.ended) return
  if (invalid) {
    const requestId = requestIdOf(stream.response.headers, core.http.redact)
    const reason = `a status event is not a Job: ${invalid}`
    throw new InvalidResponseError({ request: info, status: 200, requestId, reason })
  }
  if (silence === 'first event' && !bytes) {
    return fallBack(observation, `nothing within ${FIRST_EVENT_MS} ms (a buffering proxy?)`)
  }
  // A stream that ends (or breaks) without a word, twice in a row, is not one to keep opening.
  const empties = events === 0 && !silence ? (emptyStreams.get(observation) ?? 0) + 1 : 0
  emptyStreams.set(observation, empties)
  if (empties >= 2)
    return fallBack(observation, `the event stream ${broken ? 'breaks' : 'ends'} empty`)
  // Broken before it said anything: a failed check, as a request's would be.
  if (broken && !bytes) throw broken
  // Dropped or ended without the job's end, after it spoke: open it again after the server's
  // `retry:`, as a browser's EventSource would.
  if (broken) core.logger.debug?.('event stream dropped: opened again', { error: String(broken) })
  observation.dropped({ retryAfterMs: retryMs })
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch {
    return undefined
  }
}
