/**
 * The poll source: one `GET /v1/jobs/:id` per check, with `If-None-Match` once an answer gave
 * an `ETag` (a 304 says nothing changed), and the answer's hints for the schedule.
 */
import { type ClientCore, request } from '../../core.js'
import { recordCheck } from '../../history.js'
import { jobParser } from '../../parse.js'
import { hintsOf, type ServerHints } from '../../polling/hints.js'
import { type HttpResponse, readBody } from '../../request/http.js'
import type { Job, JobStatus } from '../../types.js'
import { jobPath } from '../../validate.js'
import type { Observation } from '../observation.js'
import type { Source } from './source.js'

/**
 * Every this many checks of a job, one goes without `If-None-Match` (see `checkOnce`; held
 * requests too, long-poll.ts).
 */
export const UNCONDITIONAL_EVERY = 10

/** One status check of job `id`, recorded in the history; `job` is undefined for nothing new. */
export async function getJob(
  core: ClientCore,
  id: string,
  check: {
    attempt: number
    signal?: AbortSignal | undefined
    timeoutMs?: number | undefined
    etag?: string | undefined
    /** Ask the server to hold the request up to this many seconds for a change (long-poll). */
    holdS?: number | undefined
    /** With `holdS`: for the job's end alone, not every status change (`until=terminal`). */
    endOnly?: boolean | undefined
    /** A wait's last look at its deadline (see `HttpRequest.lastLook`). */
    lastLook?: boolean | undefined
    /** Its turn under the rate limit, given before it was made (see `HttpRequest.turn`). */
    turn?: number | undefined
    /** Which failures are tried again (see `request`): all that may pass, by default. */
    retry?: ((error: unknown) => boolean) | undefined
    /** The status last seen: what an answer saying nothing new (a 304) shows in the history. */
    known?: JobStatus | undefined
  },
): Promise<{ job: Job | undefined; response: HttpResponse }> {
  const { clock, history } = core
  const { attempt, signal, timeoutMs, etag, holdS, endOnly, lastLook, turn, retry, known } = check
  const until = endOnly ? '&until=terminal' : ''
  const path = holdS === undefined ? jobPath(id) : `${jobPath(id)}?wait=${holdS}${until}`
  const startedAt = clock.now()
  try {
    const asked = {
      method: 'GET',
      path,
      signal,
      timeoutMs,
      lastLook,
      turn,
      ...(holdS !== undefined && { holdMs: holdS * 1000 }),
      ...(etag !== undefined && { headers: { 'if-none-match': etag } }),
    } as const
    const response = await request(core, asked, retry ?? true)
    // Nothing new: a 304 to an `If-None-Match`, a held request that ended without a change
    // (some long-poll servers answer a 204 or a bare 304), or a 202 without a body (a status
    // monitor's "still working", its `Retry-After` saying when to come back). Otherwise they
    // say nothing of the job.
    const { status: code } = response
    const held = holdS !== undefined
    const working = code === 202 && response.data === undefined
    const unchanged =
      (code === 304 && (etag !== undefined || held)) || (code === 204 && held) || working
    let job: Job | undefined
    try {
      job = unchanged ? undefined : readBody(response, jobParser(id))
    } catch (error) {
      // Answered with what is not a Job: a failed check, told as a failed request is.
      core.events.emit('request:error', { method: 'GET', path, error })
      throw error
    }
    const at = clock.now()
    const status = job?.status ?? (unchanged ? (known ?? null) : null)
    recordCheck(history, id, { startedAt, at, attempt }, { status, httpStatus: response.status })
    return { job, response }
  } catch (error) {
    // A check its caller ended (every wait left, or a hold widened) says nothing of the job.
    if (!signal?.aborted)
      recordCheck(history, id, { startedAt, at: clock.now(), attempt }, { error })
    throw error
  }
}

/**
 * One plain check of `observation`'s job, its answer told as `next` says (the schedule's next
 * check by default; see `Observation.answered`); `turn`: its turn under the rate limit, given.
 */
export async function checkOnce(
  core: ClientCore,
  observation: Observation,
  signal: AbortSignal,
  next?: 'look',
  turn?: number,
  retry?: (error: unknown) => boolean,
): Promise<void> {
  const { job, hints, etag } = await ask(core, observation, signal, turn, retry)
  observation.answered(job, hints, etag, next)
}

/** One plain check of `observation`'s job, its answer returned, not told (see `checkOnce`). */
export async function ask(
  core: ClientCore,
  observation: Observation,
  signal: AbortSignal,
  turn?: number,
  retry?: (error: unknown) => boolean,
): Promise<{ job: Job | undefined; hints: ServerHints; etag: string | undefined }> {
  const { state } = observation.cursor
  const now = core.clock.now()
  const lastLook = observation.nearestDeadline() <= now
  // Without a job to fall back on, a 304 would say nothing: ask for the body. The last look, and
  // every UNCONDITIONAL_EVERY-th check, ask for it too: a cache (or a server) that answers 304
  // whatever changed must not hide the job's end until the deadline, or for ever.
  // (Never from a page to another origin: http.ts, `conditionalChecks`.)
  const conditional =
    core.http.conditional && state.job && !lastLook && state.checks % UNCONDITIONAL_EVERY !== 0
  const { job, response } = await getJob(core, observation.id, {
    attempt: state.checks,
    signal,
    timeoutMs: observation.requestLimitMs(now),
    lastLook,
    etag: conditional ? state.etag : undefined,
    turn,
    retry,
    known: state.job?.status,
  })
  // Unchanged, the job's own hints stand (its ETA); a 202 without a body ("still working") says
  // only when to come back, which nothing moves sooner (its job's old ETA had the checks every
  // few seconds against a `Retry-After` of 30).
  const shown = job ?? (response.status === 202 ? undefined : state.job)
  const hints = hintsOf(shown, response.headers, core.clock.now())
  return { job, hints, etag: response.headers.get('etag') ?? undefined }
}

/** Checks jobs one request each. */
export function pollSource(core: ClientCore): Source {
  return {
    one: (observation, signal, turn) => checkOnce(core, observation, signal, undefined, turn),
    look: (observation, signal) => checkOnce(core, observation, signal, 'look'),
  }
}
