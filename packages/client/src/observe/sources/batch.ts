/**
 * The batch source: `GET /v1/jobs?ids=a,b,…` checks up to 100 jobs in one request (one request
 * against the rate limit, not a hundred). Each job's answer goes to its observation. What the
 * batch could not tell is asked one job at a time: a job it lists as missing (a replica may lag
 * behind the create: the job's own address says 404 for sure), one whose entry does not read,
 * and every job of a batch the server refused or whose answer did not read. Many jobs missing at
 * once that were created a while ago (a server that lost its jobs) are not asked one by one at
 * the rate limit, while their waits run out: a few are, and if their own addresses say 404 too,
 * the others listed with them are taken as not found (see `confirmLost`). A server whose
 * batch endpoint is missing (404, 405, 501), forbidden (403), refused twice in a row (429 too,
 * the second sent after the first's `Retry-After`, while a job asked alone then is answered: a
 * quota of the endpoint's own; not a 429 saying a limit batches were answered under is used
 * up: the key's), or that
 * answers something else there (a list, a page that leaves out jobs asked for) is asked one job
 * at a time for the next 10 minutes (monitor.ts), then a batch is tried again. A refusal is the
 * batch's unless one of its jobs is then refused alone (400, 422): an id the server does not
 * take, which fails that job's wait and no other's (see `batchSource`).
 */
import { type ClientCore, request } from '../../core.js'
import {
  createApiError,
  isApiError,
  isInvalidResponseError,
  isNotFoundError,
} from '../../errors.js'
import { recordCheck } from '../../history.js'
import { parseBatch } from '../../parse.js'
import { serverTimeOf } from '../../polling/hints.js'
import { readLimit } from '../../request/rate-limit-headers.js'
import type { Job } from '../../types.js'
import { isStale } from '../cursor.js'
import type { Observation } from '../observation.js'
import { requestLimitMs } from '../subscription.js'
import { checkOnce, pollSource } from './poll.js'
import type { Source } from './source.js'

/**
 * Whether a failure is tried again inside the request: not a 429 that says when to come back,
 * which the batch source must see (see `batchSource`'s `many`).
 */
function notToldRefusal(error: unknown): boolean {
  return !(isApiError(error) && error.status === 429 && error.retryAfterMs !== undefined)
}

/** Statuses that say the server has no batch endpoint for this client. */
const UNSUPPORTED = new Set([403, 404, 405, 501])
/**
 * Statuses that are about the client, the request's rate or time, not the batch: thrown, as
 * asking one job at a time would meet them too.
 */
const NOT_THE_BATCH = new Set([401, 408, 429])

/**
 * A job created this long ago that a batch lists as missing is lost, not yet to be seen on a
 * replica lagging behind its create (seconds at most).
 */
const SETTLED_AGE_MS = 30_000
/** How many such jobs of one batch answer are asked alone before the others are taken as lost. */
const SAMPLE = 3

/** Statuses of a job's own check that say the server does not take its id. */
const ID_REFUSED = new Set([400, 422])
/** How many refused batches are followed until their jobs are asked alone (the latest). */
const REFUSALS_FOLLOWED = 8

/** A refused batch whose jobs are asked alone: those not yet answered, and what the others said. */
interface Refusal {
  left: Set<Observation>
  /** One was refused alone too (400, 422): an id the server does not take. */
  byId: boolean
  /** How many were answered alone without being refused. */
  answered: number
}

/**
 * Checks jobs one request each, or up to 100 in one batch request. A batch refused (a 400, 413,
 * 414, 422...) is the batch's fault once its jobs were asked alone, some answered and none
 * refused for its id (a job whose wait ended first, or whose check got no answer, says
 * nothing); a refusal after that, no batch answered between, stops batching. Counted as they
 * came, two refusals while the first's jobs were still being asked alone (a bad id in each of
 * two `waitAll`s, a second of latency apart) stopped it too.
 */
export function batchSource(core: ClientCore): Source {
  const poll = pollSource(core)
  let refusals: Refusal[] = []
  /** Whether a batch was refused by the batch's fault since the last batch answered. */
  let refusedForBatch = false
  /** When the last batch refused with 429 (none answered since) asked to be sent again. */
  let rateLimitedUntil: number | undefined
  /**
   * A job asked alone after a second such refusal, or a batch failing with a 5xx: answered, the
   * quota or the failure is the batch endpoint's own (`ownFault`: the next batch stops batching
   * for a while); refused or failing too, the client's or the server's.
   */
  let probe: Observation | undefined
  let ownFault = false
  /** The quota of the limit the last batch answered stated. */
  let answeredQuota: number | undefined
  const answeredWith = (headers: Headers) => {
    answeredQuota = readLimit(headers, core.clock.now(), true)?.quota
  }
  /** `observation` was asked alone (`said`: answered, refused for its id, or nothing), or ended. */
  const settle = (observation?: Observation, said?: 'answered' | 'id refused') => {
    for (const refusal of refusals) {
      if (observation && refusal.left.delete(observation)) {
        if (said === 'id refused') refusal.byId = true
        if (said === 'answered') refusal.answered++
      }
      // Ended before being asked alone: nothing to learn from it.
      for (const o of refusal.left) if (o.ended) refusal.left.delete(o)
      if (refusal.left.size === 0 && !refusal.byId && refusal.answered > 0) {
        refusedForBatch = true
      }
    }
    refusals = refusals.filter((refusal) => refusal.left.size > 0)
  }
  /** The first of `group` asked alone (`probe`); the others' checks failed with `error`. */
  const probeAlone = (group: Observation[], error: unknown) => {
    const [first, ...rest] = group as [Observation, ...Observation[]]
    for (const o of rest) o.failed(error)
    probe = first
    return { alone: [first] }
  }
  return {
    ...poll,
    async one(observation, signal, turn) {
      let said: 'answered' | 'id refused' | undefined
      const probing = observation === probe
      if (probing) probe = undefined
      try {
        // The job asked alone after batches refused: its own refusal must be seen, not waited out.
        if (probing) await checkOnce(core, observation, signal, undefined, turn, notToldRefusal)
        else await poll.one(observation, signal, turn)
        said = 'answered'
        if (probing) ownFault = true
      } catch (error) {
        // An answer about the job, whatever it said, but its id refused; no answer says nothing.
        if (isApiError(error)) said = ID_REFUSED.has(error.status) ? 'id refused' : 'answered'
        throw error
      } finally {
        if (refusals.length > 0) settle(observation, said)
      }
    },
    async many(group, signal, turn) {
      if (ownFault) {
        ownFault = false
        rateLimitedUntil = undefined
        // No batch request: the turn given for one goes back (kept, the pacer counted it out
        // for ever, and took the server's tokens left for one fewer than they were).
        if (turn !== undefined) core.pacer?.release(turn)
        return { alone: group, stop: true }
      }
      let asked: Awaited<ReturnType<typeof checkMany>>
      try {
        asked = await checkMany(core, group, signal, turn, answeredWith)
      } catch (error) {
        // A batch refused with 429 again when sent after the last one's `Retry-After` (none
        // answered between): one job is asked alone. Answered, the quota is the batch
        // endpoint's own (a waitAll of 20 jobs behind one learned nothing in 4 hours): its jobs
        // go alone for a while. Refused too, it is the client's, and batches go on (one turn
        // for many jobs). The other jobs' checks come after the `Retry-After`.
        // A batch failing (a 5xx, its retries spent): so too, a job asked alone at once. A gateway
        // failing the batch route alone opened the circuit for every call, none asked alone
        // (100 waits of 20 s: each failed after 318 s, 13 requests); the whole server down, the
        // job alone fails too, and batches go on.
        if (isApiError(error) && error.status >= 500 && group.length >= 2) {
          return probeAlone(group, error)
        }
        const refused = isApiError(error) && error.status === 429
        if (!refused || error.retryAfterMs === undefined) throw error
        const now = core.clock.now()
        // Not one saying a limit batches were answered under is used up: that is the key's
        // (another client on it took the tokens), whatever a job asked alone after it says (two
        // so, a job alone then answered as tokens came back: its jobs were asked alone for 10
        // minutes). A quota of the batch route's own is another (its batches never answered).
        const stated = readLimit(error.headers, now, true)
        const keys = stated?.remaining === 0 && stated.quota === answeredQuota
        const again = !keys && rateLimitedUntil !== undefined && now >= rateLimitedUntil
        rateLimitedUntil = again || keys ? undefined : now + error.retryAfterMs
        if (!again || group.length < 2) throw error
        return probeAlone(group, error)
      }
      rateLimitedUntil = undefined
      if (asked !== 'refused') {
        refusals = []
        refusedForBatch = false
        return asked
      }
      settle()
      const refusal: Refusal = { left: new Set(group), byId: false, answered: 0 }
      refusals = [...refusals, refusal].slice(-REFUSALS_FOLLOWED)
      // Stopped for a while (monitor.ts): the count starts again when batches are tried again.
      const stop = refusedForBatch
      if (stop) {
        refusals = []
        refusedForBatch = false
      }
      return { alone: group, stop }
    },
  }
}

async function checkMany(
  core: ClientCore,
  all: Observation[],
  signal: AbortSignal,
  turn: number | undefined,
  answeredWith: (headers: Headers) => void,
): Promise<{ alone: Observation[]; stop?: boolean; unsent?: boolean } | 'refused'> {
  const { clock, history } = core
  // An id holding a comma cannot be told apart in the list: such ids are checked alone.
  const alone = all.filter((o) => o.id.includes(','))
  const group = all.filter((o) => !o.id.includes(','))
  if (group.length < 2) {
    // No batch request: the turn given for one goes back.
    if (turn !== undefined) core.pacer?.release(turn)
    return { alone: all, unsent: true }
  }
  const path = `/v1/jobs?ids=${group.map((o) => encodeURIComponent(o.id)).join(',')}`
  const deadline = Math.min(...group.map((o) => o.nearestDeadline()))
  const limitMs = requestLimitMs(deadline, clock.now())
  const startedAt = clock.now()
  let response: Awaited<ReturnType<typeof request>>
  try {
    const lastLook = deadline <= startedAt
    const asked = { method: 'GET', path, signal, timeoutMs: limitMs, lastLook, turn } as const
    // A 429 saying when to come back is not tried again inside the request: the batch source
    // sees each (above), and the jobs' next check comes then all the same (observation.ts).
    response = await request(core, asked, notToldRefusal)
    answeredWith(response.headers)
  } catch (error) {
    if (isApiError(error) && UNSUPPORTED.has(error.status)) return { alone: all, stop: true }
    // Too many ids for a proxy or the server (413, 414, 431, a 400 or 422 of its own): refused.
    // So is a 2xx whose body does not read, retries and all: its jobs' own addresses may.
    if (
      (isApiError(error) && error.status < 500 && !NOT_THE_BATCH.has(error.status)) ||
      isInvalidResponseError(error)
    ) {
      return 'refused'
    }
    const at = clock.now()
    for (const o of group) {
      recordCheck(history, o.id, { startedAt, at, attempt: o.cursor.state.checks }, { error })
    }
    throw error
  }
  const parsed = parseBatch(response.data)
  // Something else lives at that address (a list, a page): this server has no batch endpoint.
  if (typeof parsed === 'string') return { alone: all, stop: true }
  const at = clock.now()
  const serverTime = serverTimeOf(response.headers)
  // A job listed twice: the newer copy (a lagging one after it made 184 of 200 waits time out,
  // their ends passed over), and an end over any other.
  const byId = new Map<string, Job>()
  for (const job of parsed.jobs) {
    const other = byId.get(job.id)
    if (!other || isStale(other, job)) byId.set(job.id, job)
  }
  const told = new Set([...parsed.missing, ...parsed.unreadable])
  // A job neither answered nor listed: the server does not answer for the ids asked.
  let stop = false
  const lost: Observation[] = []
  for (const o of group) {
    const job = byId.get(o.id)
    const listed = told.has(o.id) && !parsed.unreadable.has(o.id)
    if (!job && listed && core.fresh.ageOf(o.id, at) !== undefined) {
      // Made by this client moments ago: the batch's "missing" is the server catching up, as a
      // 404 of its own address would be (fresh-jobs.ts); not asked alone (1,000 jobs of a
      // `createBatch` deleted at once: 7,000 single requests).
      const error = missingError(o.id, 'listed as missing, moments after this client created it')
      recordCheck(history, o.id, { startedAt, at, attempt: o.cursor.state.checks }, { error })
      o.failed(error)
      continue
    }
    if (!job) {
      const settled = (o.cursor.ageMs(at) ?? 0) >= SETTLED_AGE_MS
      if (settled && told.has(o.id) && !parsed.unreadable.has(o.id)) lost.push(o)
      else alone.push(o)
      if (!told.has(o.id)) stop = true
      continue
    }
    const check = { startedAt, at, attempt: o.cursor.state.checks }
    recordCheck(history, o.id, check, { status: job.status, httpStatus: response.status })
    // The batch's `Retry-After` is about the soonest of its jobs, not this one: no such hint.
    o.answered(job, { etaMs: job.eta_ms ?? undefined, serverTime })
  }
  if (lost.length > SAMPLE) alone.push(...(await confirmLost(core, lost, signal)))
  else alone.push(...lost)
  return { alone, stop }
}

/** The `NotFoundError` of job `id`, which a batch listed as missing, `detail` saying more. */
function missingError(id: string, detail: string) {
  return createApiError({
    status: 404,
    problem: { type: 'about:blank', title: 'Not Found', status: 404, detail },
    requestId: undefined,
    headers: new Headers(),
    request: { method: 'GET', path: `/v1/jobs?ids=${encodeURIComponent(id)},…` },
  })
}

/**
 * Jobs a batch listed as missing, created a while ago: the first few are asked alone; when each
 * of their own addresses says 404, the others are not found either (a `NotFoundError` naming the
 * batch and how many were confirmed) rather than asked one by one. Resolves with those still to
 * ask alone: every one but the sample when any of the sample was found, or did not answer.
 */
async function confirmLost(
  core: ClientCore,
  lost: Observation[],
  signal: AbortSignal,
): Promise<Observation[]> {
  const sample = lost.slice(0, SAMPLE)
  const rest = lost.slice(SAMPLE)
  const errors = await Promise.all(
    sample.map((o) =>
      checkOnce(core, o, signal).then(
        () => undefined,
        (error: unknown) => error,
      ),
    ),
  )
  // Told after all have come back: the rest's fate is known before any wait hears.
  for (const [i, error] of errors.entries()) {
    if (error !== undefined) (sample[i] as Observation).failed(error)
  }
  const confirmed = errors.filter((error) => isNotFoundError(error))
  if (confirmed.length < sample.length) return rest
  const at = core.clock.now()
  for (const o of rest) {
    const detail = `listed as missing, with ${sample.length} jobs whose own addresses then said 404`
    const error = missingError(o.id, detail)
    recordCheck(
      core.history,
      o.id,
      { startedAt: at, at, attempt: o.cursor.state.checks },
      { error },
    )
    o.failed(error)
  }
  return []
}
