/**
 * The batch source: `GET /v1/jobs?ids=a,b,…` checks up to 100 jobs in one request (one request
 * against the rate limit, not a hundred). Each job's answer goes to its observation; an id the
 * server lists as missing fails its observation with a `NotFoundError`. A server without the
 * endpoint (404, 405, 501, or a 200 that is not `{ jobs, missing }`) is asked one job at a time.
 */

import { type ClientCore, request } from '../../core.js'
import { createApiError, InvalidResponseError, isApiError } from '../../errors.js'
import { recordCheck } from '../../history.js'
import { requestIdOf } from '../../http.js'
import { parseBatch } from '../../parse.js'
import { serverTimeOf } from '../../polling/hints.js'
import { jobPath } from '../../validate.js'
import type { Source } from '../monitor.js'
import type { Observation } from '../observation.js'
import { requestLimitMs } from '../subscription.js'
import { pollSource } from './poll.js'

/** Statuses that say the server has no batch endpoint (rather than that a job is missing). */
const UNSUPPORTED = new Set([404, 405, 501])
/** Statuses that say this batch could not be asked (a list too long for a proxy, say). */
const UNASKABLE = new Set([400, 414, 431])

/** Checks jobs one request each, or up to 100 in one batch request. */
export function batchSource(core: ClientCore): Source {
  return { one: pollSource(core).one, many: (group, signal) => checkMany(core, group, signal) }
}

async function checkMany(
  core: ClientCore,
  all: Observation[],
  signal: AbortSignal,
): Promise<Observation[] | 'unsupported'> {
  const { clock, history } = core
  // An id holding a comma cannot be told apart in the list: such ids are checked alone.
  const alone = all.filter((o) => o.id.includes(','))
  const group = all.filter((o) => !o.id.includes(','))
  if (group.length < 2) return all
  const path = `/v1/jobs?ids=${group.map((o) => encodeURIComponent(o.id)).join(',')}`
  const deadline = Math.min(...group.map((o) => o.nearestDeadline()))
  const limitMs = requestLimitMs(deadline, clock.now())
  const startedAt = clock.now()
  let response: Awaited<ReturnType<typeof request>>
  try {
    const lastLook = deadline <= startedAt
    response = await request(core, { method: 'GET', path, signal, timeoutMs: limitMs, lastLook })
  } catch (error) {
    if (isApiError(error) && UNSUPPORTED.has(error.status)) return 'unsupported'
    if (isApiError(error) && UNASKABLE.has(error.status)) return all
    const at = clock.now()
    for (const o of group) {
      recordCheck(history, o.id, { startedAt, at, attempt: o.cursor.state.checks }, { error })
    }
    throw error
  }
  const parsed = parseBatch(response.data)
  // Something else lives at that address (a list, a page): this server has no batch endpoint.
  if (typeof parsed === 'string') return 'unsupported'
  const found = parsed
  const at = clock.now()
  const serverTime = serverTimeOf(response.headers)
  const byId = new Map(found.jobs.map((job) => [job.id, job]))
  const missing = new Set(found.missing)
  for (const o of group) {
    const job = byId.get(o.id)
    const check = { startedAt, at, attempt: o.cursor.state.checks }
    if (job) {
      recordCheck(history, o.id, check, { status: job.status, httpStatus: response.status })
      // The batch's `Retry-After` is about the soonest of its jobs, not this one: no such hint.
      o.answered(job, { etaMs: job.eta_ms ?? undefined, serverTime })
      continue
    }
    if (!missing.has(o.id)) {
      // Neither found nor missing: a broken answer, worth another look.
      const error = new InvalidResponseError({
        request: response.request,
        status: response.status,
        requestId: requestIdOf(response.headers, response.redact),
        reason: `job ${o.id} is neither in "jobs" nor in "missing"`,
      })
      recordCheck(history, o.id, check, { error })
      o.failed(error)
      continue
    }
    // What asking for the job alone would have answered: the batch itself answered 200.
    const error = createApiError({
      status: 404,
      problem: {
        type: 'about:blank',
        title: 'Job not found',
        status: 404,
        detail: `The batch status (${response.request.method} ${response.request.path}, HTTP ${response.status}) lists job ${o.id} as missing.`,
      },
      requestId: requestIdOf(response.headers, response.redact),
      headers: new Headers(),
      request: { method: 'GET', path: jobPath(o.id) },
    })
    recordCheck(history, o.id, check, { error })
    o.failed(error)
  }
  return alone
}
