/**
 * Reading one open event stream of a job (the SSE source opens it, in sse.ts): each `status` event
 * handed to the observation as it comes; a stream gone quiet, or without the job's state first,
 * dropped; what follows its end (open again after `retry:`, fall back, fail) decided here.
 */
import type { ClientCore } from '../../core.js'
import { InvalidResponseError, NetworkError, VideoTranslationError } from '../../errors.js'
import { recordCheck } from '../../history.js'
import { jobParser } from '../../parse.js'
import { hintsOf, type ServerHints } from '../../polling/hints.js'
import { parseClean, redactData, redactError } from '../../redact.js'
import { type HttpStream, requestIdOf } from '../../request/http.js'
import type { Job } from '../../types.js'
import { jobPath } from '../../validate.js'
import type { Observation } from '../observation.js'
import { getJob } from './poll.js'
import { createSseParser } from './sse-parser.js'

/**
 * How long the first event may take after the headers: then a stream that sent nothing is taken
 * as buffered, and beside one that spoke (`retry:`, keep-alives) without the job's state first,
 * as the protocol has it, the job is asked plainly.
 */
const FIRST_EVENT_MS = 5_000

/**
 * The longest a stream may go without an event before the job is asked plainly beside it (5 min,
 * the longest a server's hint may space checks): a stream of keep-alives alone may have lost the
 * job's events.
 */
const EVENTLESS_MS = 300_000
/**
 * The same for a stream of the job's end alone (`?until=terminal`), which brings no event until
 * the end: looked beside every 5 min, a 1-hour job cost 13 requests instead of 1; every 30 min, 3.
 */
const EVENTLESS_END_ONLY_MS = 1_800_000

/** Streams of an observation in a row that ended without an event. */
const emptyStreams = new WeakMap<Observation, number>()

/** How long a stream may stay silent (the server sends a comment every 15 s) before it is dropped. */
const SILENT_MS = 45_000

/**
 * The soonest a stream that ended is opened again, and the latest, whatever its `retry:` says (a
 * `retry:` of a day would leave the job unwatched that long).
 */
const MIN_REOPEN_MS = 1_000
const MAX_REOPEN_MS = 300_000
/** A `retry:` up to this is waited out; a longer one until the strategy's next check at most. */
const HONOURED_RETRY_MS = 10_000

/**
 * This job (and the client's next ones, unless `remember` is false) go to long-poll, and the job
 * is asked again at once. With `transport: 'sse'` chosen, the wait fails instead, saying why: at
 * once when the server said so (`passing` false: no stream there), or, for what a network's bad
 * minute also does (`passing`: streams that stay silent or end empty), as a failed check,
 * counted by `maxConsecutiveErrors`. `looked`: a plain look's answer just made, the job's check,
 * told before it is asked again.
 */
export function fallBack(
  observation: Observation,
  reason: string,
  how: {
    passing?: boolean
    remember?: boolean
    looked?: { job: Job | undefined; hints: ServerHints; etag: string | undefined } | undefined
  } = {},
): void {
  const { passing = false, remember = true, looked } = how
  if (!observation.planner.fallback(observation, 'long-poll', reason, remember)) {
    throw new VideoTranslationError(
      `transport 'sse' ${passing ? 'failed' : 'does not work with this server'} (${reason}); transport 'auto' would fall back to long-poll or polling.`,
      { retryable: passing },
    )
  }
  if (looked) observation.answered(looked.job, looked.hints, looked.etag, 'now')
  else observation.requeue()
}

/** Reads the stream until it ends, handing each status to the observation. */
export async function listen(
  core: ClientCore,
  observation: Observation,
  stream: HttpStream,
  signal: AbortSignal,
  /** Whether it was opened with `Last-Event-ID`. */
  resumed: boolean,
  /** Whether it asked for the job's end alone (`?until=terminal`). */
  endOnly = false,
): Promise<void> {
  const { clock } = core
  const eventlessMs = endOnly ? EVENTLESS_END_ONLY_MS : EVENTLESS_MS
  const { state } = observation.cursor
  const info = { method: 'GET', path: `${jobPath(observation.id)}/events` }
  let retryMs: number | undefined
  let events = 0
  let bytes = false
  let invalid: string | undefined
  const parseJob = jobParser(observation.id)
  const parser = createSseParser(
    (event) => {
      // The protocol's `status` events; a stream without event names sends `message` ones.
      const named = event.event === 'status'
      if (!named && event.event !== 'message') return
      // As a response's body: whatever the event echoes, not the key.
      const { redact } = core.http
      const job = parseJob(unwrap(safeJson(redactData(redact, event.data), redact.data)))
      if (typeof job === 'string') {
        // A `message` that is no Job may be about something else.
        // Quoting the event: a key too short to be looked for in its fields is, in a message.
        if (named) invalid = core.http.redact(`a status event is not a Job: ${job}`)
        return
      }
      events++
      eventless.start(eventlessMs, 'no event')
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
      // Not sooner than MIN_REOPEN_MS: a `retry: 0` on a stream that ends after each event would
      // be a request loop.
      retryMs = Math.min(MAX_REOPEN_MS, Math.max(MIN_REOPEN_MS, ms))
    },
  )
  const reader = (stream.response.body as ReadableStream<Uint8Array>).getReader()
  // Cancelled as well as aborted: a fetch that is not the runtime's (a test double, a wrapper)
  // may not end its body when the request is aborted.
  const cancel = () => {
    reader.cancel().catch(() => {})
    stream.close()
  }
  /** Until the stream ends. */
  let reading = true
  /** A look beside the stream, while one is out. */
  let looking: AbortController | undefined
  const stop = () => {
    cancel()
    looking?.abort()
  }
  signal.addEventListener('abort', stop, { once: true })
  // Aborted while the stream was being opened: a fetch that ignores aborts still gets it closed.
  if (signal.aborted) stop()
  const decoder = new TextDecoder()
  /** Set when the stream went quiet for too long: why it was dropped. */
  let silence: 'first event' | 'silence' | undefined
  /** Set when the connection broke: how. */
  let broken: NetworkError | undefined
  /**
   * Drops the stream, saying why (or, with no event for long, looks at the job), unless what it
   * waits for comes first (and starts it again).
   */
  const watchdog = () => {
    let timer = new AbortController()
    return {
      start(ms: number, why: NonNullable<typeof silence> | 'no event') {
        timer.abort()
        timer = new AbortController()
        clock.sleep(ms, timer.signal).then(
          () => {
            // A stream that spoke is no buffered one: kept, and the job asked beside it (a server
            // that sends changes only was taken for a buffering proxy, and dropped for the
            // client's next jobs too).
            if (why === 'no event' || (why === 'first event' && bytes)) return look()
            silence = why
            cancel()
          },
          () => {},
        )
      },
      stop: () => timer.abort(),
    }
  }
  /**
   * No event for EVENTLESS_MS, keep-alives alone (a server that lost the job's events?): the job
   * is asked plainly beside the stream, which stays open (one connection a job), and again each
   * EVENTLESS_MS it stays without an event. A look that fails leaves it to the stream; an event
   * that comes while it is out is newer than its answer, which is then not told; the stream's
   * end (or the wait's) ends it.
   */
  const look = () => {
    // One at a time: one still out (a slow answer, a long turn under the rate limit) plans the
    // next when it ends.
    if (!reading || looking) return
    const controller = new AbortController()
    looking = controller
    const seen = events
    getJob(core, observation.id, {
      attempt: state.checks,
      signal: controller.signal,
      timeoutMs: observation.requestLimitMs(clock.now()),
    })
      .then(
        ({ job, response }) => {
          if (!job || events !== seen) return
          const hints = hintsOf(job, response.headers, clock.now())
          // Told as the stream's news: no status check of a wait's (`maxAttempts` counts none
          // beside a live stream, as the README says of streams).
          observation.answered(job, hints, response.headers.get('etag') ?? undefined, 'stream')
        },
        (error: unknown) => {
          if (controller.signal.aborted) return
          core.logger.debug?.('a look beside an eventless stream failed', { error: String(error) })
        },
      )
      .finally(() => {
        if (looking === controller) looking = undefined
        if (!reading) return
        if (observation.ended) cancel()
        else eventless.start(eventlessMs, 'no event')
      })
      // Nothing of a look's escapes as an unhandled rejection (a subscriber that threw, say).
      .catch((error: unknown) => {
        core.logger.error?.('a look beside an eventless stream failed', { error: String(error) })
      })
  }
  const quiet = watchdog()
  const eventless = watchdog()
  // The job's state comes first, unless the stream resumes after an event id (then only newer
  // events come, perhaps none for a while: any bytes, `retry:` or a keep-alive, will do).
  eventless.start(FIRST_EVENT_MS, 'first event')
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done || observation.ended) break
      try {
        parser.feed(decoder.decode(value, { stream: true }))
      } catch (error) {
        // A line or an event too long to hold.
        invalid = (error as Error).message
      }
      if (invalid) break
      // Bytes came (an event, `retry:` or a keep-alive): the stream is not buffered, and alive.
      if (!bytes && resumed && events === 0) eventless.start(eventlessMs, 'no event')
      bytes = true
      quiet.start(SILENT_MS, 'silence')
    }
  } catch (error) {
    if (!silence && !observation.ended) {
      signal.throwIfAborted()
      broken = new NetworkError(info, redactError(error, core.http.redact), true)
    }
  } finally {
    reading = false
    looking?.abort()
    signal.removeEventListener('abort', stop)
    quiet.stop()
    eventless.stop()
    stream.close()
  }
  if (observation.ended) return
  // Interrupted (a wait's deadline) or left: the caller decides what follows.
  signal.throwIfAborted()
  if (invalid) {
    // Events this client cannot read (another shape, a broken server): under 'auto', the job's
    // own address may read, held (long-poll) or polled.
    if (observation.planner.fallback(observation, 'long-poll', invalid)) {
      return observation.requeue()
    }
    const requestId = requestIdOf(stream.response.headers, core.http.redact)
    throw new InvalidResponseError({ request: info, status: 200, requestId, reason: invalid })
  }
  if (silence === 'first event') {
    // Nothing at all: held back on the way.
    return fallBack(observation, `nothing within ${FIRST_EVENT_MS} ms (a buffering proxy?)`, {
      passing: true,
    })
  }
  // A stream that ends (or breaks) without a word, twice in a row, is not one to keep opening.
  const empties = events === 0 && !silence ? (emptyStreams.get(observation) ?? 0) + 1 : 0
  emptyStreams.set(observation, empties)
  if (empties >= 2)
    return fallBack(observation, `the event stream ${broken ? 'breaks' : 'ends'} empty`, {
      passing: true,
    })
  // Broken before it said anything: a failed check, as a request's would be.
  if (broken && !bytes) throw broken
  // Dropped or ended without the job's end, after it spoke: open it again after the server's
  // `retry:`, as a browser's EventSource would.
  if (broken) core.logger.debug?.('event stream dropped: opened again', { error: String(broken) })
  observation.dropped(retryMs, HONOURED_RETRY_MS)
}

/** An event's Job, also when wrapped in an envelope (`{ "type": …, "job": {…} }`, `data`). */
function unwrap(value: unknown): unknown {
  const body = value as { status?: unknown; job?: unknown; data?: unknown } | undefined
  return body && body.status === undefined ? (body.job ?? body.data ?? body) : body
}

function safeJson(text: string, clean: (text: string) => string): unknown {
  try {
    return parseClean(text, clean)
  } catch {
    return undefined
  }
}
