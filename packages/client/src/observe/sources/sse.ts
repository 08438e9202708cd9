/**
 * The SSE source: `GET /v1/jobs/:id/events`, one stream per observed job; every `status` event
 * is the Job as it changed, so the end is known the moment the server sends it. A stream that
 * drops after it spoke is opened again with `Last-Event-ID` after the server's `retry:` (the
 * strategy's delay when it sent none); one that fails before a word is a failed check, with the
 * strategy's backoff; one that sends nothing for a while (a proxy buffering it, or a connection
 * gone quiet) is dropped, and beside one that brings no event for 5 minutes (only keep-alives: a
 * server that lost the job's events?) the job is asked plainly (sse-stream.ts), so a wait is
 * never without news for longer. Under 'auto', a server without the endpoint, or whose streams
 * are refused, fail before their headers, or whose headers or first bytes do not arrive in time
 * (a proxy holding the answer back), is asked by long-poll instead, at the first such failure.
 * A stream that speaks (`retry:`, keep-alives) but does not send the job's state first is kept,
 * the job asked plainly beside it.
 * While the circuit breaker is not closed, the job is asked plainly. A stream still open at a
 * wait's deadline is interrupted, and the last look is a plain check (so it is with under a
 * second left before one). While nobody wants the job's every change (`Observation.endOnly`),
 * the stream asks for its end alone (`?until=terminal`: the job as it is, then its end, not each
 * progress step: 200 streams of jobs moving every half second filled a 1 Mbit/s link); someone
 * joining who wants them opens it again without (`widen`). A server refusing the parameter
 * (a 400 or 422, then answering the open without it) has its streams opened without it from
 * then on.
 */
import { type ClientCore, requestStream } from '../../core.js'
import {
  isApiError,
  isCircuitOpenError,
  isNetworkError,
  isTimeoutError,
  shown,
} from '../../errors.js'
import { recordCheck } from '../../history.js'
import type { HttpRequest, HttpStream } from '../../request/http.js'
import { pacedDelay } from '../../request/retry.js'
import { isTerminalStatus } from '../../types.js'
import { jobPath } from '../../validate.js'
import type { Observation } from '../observation.js'
import { LAST_LOOK_MS } from '../subscription.js'
import { firstOpen } from './first-open.js'
import { holdOpen, UntilTerminal } from './held.js'
import { ask, pollSource } from './poll.js'
import type { Source } from './source.js'
import { fallBack, listen } from './sse-stream.js'

/** Statuses that say the server has no event streams. */
const UNSUPPORTED = new Set([404, 405, 406, 501])

/** The longest `Retry-After` of a refused open waited out for a stream (see `stream`). */
const COME_BACK_MS = 5_000

/** Statuses of an open asking for the end alone that say the server refuses the parameter. */
const PARAMETER_REFUSED = new Set([400, 422])

/** Checks jobs by listening to their event streams. */
export function sseSource(core: ClientCore): Source {
  const poll = pollSource(core)
  /** Stream opens in a row whose headers did not come in time. */
  let lateOpens = 0
  /** Whether a stream was read here: the server (and the way to it) has them. */
  let streamed = false
  /** Observations whose last open was refused with a time to come back (a 429 or 503). */
  const paced = new WeakSet<object>()
  /**
   * Streams of the end alone (`?until=terminal`) while the server takes them: a job's open with
   * it refused (400, 422) is opened once without it (held.ts); a 400 may be about the job (its
   * id), and then every stream of the client lost the end alone.
   */
  const until = new UntilTerminal(() =>
    core.logger.debug?.('the server refuses until=terminal on streams: every change streamed'),
  )
  const first = firstOpen(core.clock)

  /** The job asked plainly, with a check's guard: nothing to interrupt at the deadline. */
  function plainCheck(observation: Observation, signal: AbortSignal, turn?: number): Promise<void> {
    observation.interrupt = undefined
    observation.holding = undefined
    observation.guardDeadlines()
    return poll.one(observation, signal, turn)
  }

  /**
   * Opens the job's stream and reads it until it ends; `signal` ends both. `turn`: the open's
   * turn under the rate limit, given before (see `HttpRequest.turn`); `endOnly`: asking for the
   * job's end alone; `leads`: the client's first open, which the others wait for.
   */
  async function streamOnce(
    observation: Observation,
    signal: AbortSignal,
    turn: number | undefined,
    endOnly: boolean,
    leads: boolean,
  ): Promise<void> {
    const { state } = observation.cursor
    const path = `${jobPath(observation.id)}/events${endOnly ? '?until=terminal' : ''}`
    // As reasons (events, logs) quote it: a long id cut short.
    const said = `GET ${shown(path)}`
    let stream: HttpStream
    const request: HttpRequest = {
      method: 'GET',
      path,
      signal,
      turn,
      ...(state.eventId !== undefined && { headers: { 'last-event-id': state.eventId } }),
    }
    // While the circuit breaker is not closed (the server failing lately, or this very route),
    // no stream is opened: the job is asked plainly, which may be the breaker's probe.
    if (core.breaker && core.breaker.state.state !== 'closed') {
      return plainCheck(observation, signal, turn)
    }
    const startedAt = core.clock.now()
    // Under 'auto', an open that fails is not tried again: the job's own address is asked
    // instead (by long-poll), which is what a failure below leads to anyway.
    const retry = !observation.planner.mayFallBack(observation, 'long-poll')
    try {
      // Another job's open may show meanwhile that streams do not work here (monitor.ts).
      observation.opening = true
      const opened = async () => {
        if (!retry && !leads) await first.settled(signal)
        return requestStream(core, request, retry)
      }
      stream = await opened().finally(() => {
        observation.opening = false
      })
    } catch (error) {
      signal.throwIfAborted()
      // The circuit opened meanwhile (retries of the open failing): so too.
      if (isCircuitOpenError(error)) return plainCheck(observation, signal)
      // A server strict about parameters it does not know? This job's stream opens without it.
      if (endOnly && isApiError(error) && PARAMETER_REFUSED.has(error.status)) {
        until.suspect(observation)
        return observation.requeue()
      }
      // Refused without it too: the refusal was about something else.
      until.cleared(observation)
      // A job that does not exist (or not for this key) is not a server without streams.
      if (isApiError(error) && UNSUPPORTED.has(error.status) && !isJobNotFound(error)) {
        // A 404 worded otherwise may be the job's absence, not the endpoint's: a plain look
        // tells (a job not there fails the wait, as a poll's would, and streams stay in use).
        // It is the job's check: the held request that follows at once sends its `ETag` (a
        // server ignoring `wait` answers it 304 at once, not as news to ask again at once for).
        const looked = error.status === 404 ? await ask(core, observation, signal) : undefined
        return fallBack(observation, `${said} answered ${error.status}`, { looked })
      }
      // Refused otherwise, the request layer's retries spent: not for this key or plan (403,
      // 410: the client's next jobs too), too many streams (429, 503), a proxy in front of them
      // failing (5xx). The job's own address may answer: it is asked by long-poll instead (or
      // the wait fails, with 'sse' chosen). A wrong key (401) fails there too: it fails here.
      // Refused with a time to come back soon (a 429 or 503 with a `Retry-After` of seconds,
      // before the wait's deadline): opened again then, once (at its `Retry-After`, not at the
      // strategy's next check: observation.ts); refused so again in a row, or for longer, long-poll
      // (the job's own address may answer meanwhile). A burst limit on opens put jobs off
      // streams for good; a gateway's minutes of refusal must not leave the job unwatched.
      const now = core.clock.now()
      const comeBackMs = pacedDelay(error, now) ?? Infinity
      const soon = comeBackMs <= COME_BACK_MS && now + comeBackMs < observation.nearestDeadline()
      const again = soon && !paced.has(observation)
      paced.delete(observation)
      if (again) paced.add(observation)
      else if (isApiError(error) && error.status !== 401 && !isJobNotFound(error)) {
        const remember = error.status === 403 || error.status === 410
        const reason = `${said} answered ${error.status}`
        const moved = observation.planner.fallback(observation, 'long-poll', reason, remember)
        // Told to come back only past the wait's deadline, and no request goes before it (the
        // rate limit stated used up): the failure below ends the wait now, saying so (a quota's
        // 429: the held request that followed waited for its turn, the wait silent to its
        // deadline). Otherwise the job's own address may answer (a limit of streams alone):
        // asked at once.
        const deadline = observation.nearestDeadline()
        const untilFree = core.pacer?.untilFree() ?? 0
        const blocked = untilFree < Infinity && now + untilFree >= deadline
        const pastDeadline = Number.isFinite(comeBackMs) && now + comeBackMs >= deadline
        if (moved && !(pastDeadline && blocked)) return observation.requeue()
      }
      // No headers within the request's limit: held back on the way (a proxy that forwards a
      // response once it ends), or a server too slow to stream; or the connection refused or
      // reset before them (a proxy that takes no streams). With 'sse' chosen, a failure. Once
      // may be a slow moment (a cold start, a pause): this job alone falls back; twice in a row
      // late, the client's next jobs too.
      if (isTimeoutError(error) || isNetworkError(error)) {
        const late = isTimeoutError(error)
        const why = late
          ? `no answer to ${said} within the request's limit (a buffering proxy?)`
          : error.message
        // A connection that fails may be the whole server's (a restart): this job alone.
        const remember = late && ++lateOpens >= 2
        if (observation.planner.fallback(observation, 'long-poll', why, remember)) {
          return observation.requeue()
        }
      }
      const check = { startedAt, at: core.clock.now(), attempt: state.checks }
      recordCheck(core.history, observation.id, check, { error })
      throw error
    }
    lateOpens = 0
    paced.delete(observation)
    // Answered without `until` after a refusal with it: every stream without it now.
    until.answered(observation)
    const { response } = stream
    // The job ended and the stream has nothing newer: its last state is one GET away.
    if (response.status === 204) {
      stream.close()
      await plainCheck(observation, signal)
      // Said of a job still running (a proxy, a server that streams nothing): each check
      // would cost a stream and a GET. Streams do not work here.
      const { job } = state
      if (job && !isTerminalStatus(job.status) && !observation.ended) {
        // This job alone: the GET may have met a replica behind the stream's.
        const reason = `${said} answered 204 No Content for a job still ${job.status}`
        observation.planner.fallback(observation, 'long-poll', reason, false)
      }
      return
    }
    const type = response.headers.get('content-type') ?? ''
    if (!/^text\/event-stream\b/i.test(type) || !response.body) {
      stream.close()
      const answered = core.http.redact(type) || 'no content type'
      // Where this client read streams before, a page in their place is passing (a proxy's
      // maintenance page served with 200 during an outage): a failed check with 'sse' chosen
      // (it failed every wait at once), and this job alone long-polled with 'auto'.
      const how = { passing: streamed, remember: !streamed }
      return fallBack(observation, `${said} answered ${answered}`, how)
    }
    streamed = true
    if (leads) first.done(true)
    await listen(core, observation, stream, signal, request.headers !== undefined, endOnly)
  }

  /** `streamOnce`, the client's first open going alone (see `firstOpen`). */
  async function stream(
    observation: Observation,
    signal: AbortSignal,
    turn: number | undefined,
    endOnly: boolean,
  ): Promise<void> {
    // Under 'auto' (with 'sse' chosen, every open is the stream or the wait's failure).
    const leads = observation.planner.mayFallBack(observation, 'long-poll') && first.claim()
    try {
      await streamOnce(observation, signal, turn, endOnly, leads)
    } finally {
      if (leads) first.done(false)
    }
  }

  return {
    async one(observation, signal, turn) {
      // Nothing a stream could say in time (a wait resumed past its deadline, or one whose
      // stream was interrupted at it): one plain check, so a job that ended meanwhile is not
      // reported as timed out.
      if (observation.nearestDeadline() - core.clock.now() < LAST_LOOK_MS) {
        // A check's guard, not a stream's: each wait ends after the last look, not before it.
        return plainCheck(observation, signal, turn)
      }
      // A stream has no time limit of its own: at a wait's deadline it is interrupted (its
      // opening too), and the job asked plainly again: the wait's last look.
      const endOnly = until.asks(observation)
      const open = holdOpen(observation, signal, endOnly)
      observation.guardDeadlines(0)
      try {
        await stream(observation, open.signal, turn, endOnly)
      } catch (error) {
        if (open.interrupted()) return observation.requeue()
        throw error
      } finally {
        open.done()
      }
    },
  }
}

/** The protocol's problem for a job that does not exist (or not for this key). */
function isJobNotFound(error: { status: number; problem?: { type: string } | undefined }): boolean {
  return error.status === 404 && /(?:^|[:/])job-not-found$/.test(error.problem?.type ?? '')
}
