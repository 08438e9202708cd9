/**
 * Creating a job: the request with its idempotency key, and reading what the server answered,
 * whatever its shape, into the Job (the job exists: it must not be lost to the answer's shape).
 */

import { whenAborted } from './abort.js'
import { type ClientCore, request } from './core.js'
import { DEFAULTS } from './defaults.js'
import { isApiError, isCircuitOpenError, isNetworkError, TimeoutError } from './errors.js'
import type {
  CreateBatchOptions,
  CreateJobOptions,
  CreateOutcome,
  WaitOptions,
} from './job-options.js'
import { givenUpOn, judgeFailure } from './observe/failures.js'
import type { Created } from './observe/monitor.js'
import { getJob } from './observe/sources/poll.js'
import { LAST_LOOK_MS } from './observe/subscription.js'
import { parseJob } from './parse.js'
import { hintsOf } from './polling/hints.js'
import { randomId } from './random-id.js'
import { type HttpResponse, readBody } from './request/http.js'
import { isTransient, pacedDelay } from './request/retry.js'
import type { CreateJobParams, Job } from './types.js'
import { checkCallOptions, checkParams } from './validate.js'

/**
 * Creates a job: `POST /v1/jobs` with its idempotency key (the caller's, or a new one: each retry
 * sends the same), and the hints its answer carried. No retry of it starts after `retryUntil`.
 */
export async function createJob(
  core: ClientCore,
  params: CreateJobParams,
  options: CreateJobOptions,
  retryUntil?: number,
  /** One of `createBatch`'s or `createAndWait`'s: behind checks under the rate limit (turns.ts). */
  background?: boolean,
): Promise<Created> {
  checkCallOptions(options)
  checkParams(params)
  const { idempotencyKey } = options
  const fit = typeof idempotencyKey === 'string' && /^[\x21-\x7e]{1,255}$/.test(idempotencyKey)
  if (idempotencyKey !== undefined && !fit) {
    // Sent as it is, fetch would refuse it (a retried network failure) or the server would.
    const got = JSON.stringify(String(idempotencyKey).slice(0, 40))
    throw new TypeError(`idempotencyKey must be 1 to 255 visible ASCII characters (got ${got}).`)
  }
  const response = await request(core, {
    method: 'POST',
    path: '/v1/jobs',
    body: params,
    headers: { 'idempotency-key': options.idempotencyKey ?? randomId() },
    signal: options.signal,
    retryUntil,
    background,
  })
  const { job, etag } = await createdJob(core, response, options.signal)
  core.events.emit('job:created', { job })
  const now = core.clock.now()
  core.fresh.made(job.id, now)
  const hints = hintsOf(job, response.headers, now)
  const replayed = response.headers.get('idempotent-replayed') === 'true'
  const madeWithinMs = replayed ? undefined : now - (response.sentAt ?? now)
  return { job, hints, madeWithinMs, etag }
}

/**
 * `createBatch`'s creates, at most `concurrency` at a time, one outcome each in the order given.
 * Each is made again through failures as a wait's create is (`createUntilMade`: a short outage
 * loses none). A 401 (the key is wrong for every create), a 429 or 503 asking for no request
 * until later than a create waits (`maxRetryAfterMs`), or a create that gave up on an outage
 * (the circuit open, a server never reached, failures while the server made no other job of the
 * batch) rejects the creates not sent yet with it (until that time; the others for good),
 * instead of sending each to be refused, or to wait through the same outage again; a create
 * failing alone (its params) rejects itself. A rejected
 * outcome says its idempotency key: sent again with it, a create the server made though its
 * answer was lost is found, not made twice.
 */
export async function createMany(
  core: ClientCore,
  paramsList: readonly CreateJobParams[],
  { signal, idempotencyKey, concurrency = DEFAULTS.batchConcurrency }: CreateBatchOptions,
): Promise<CreateOutcome[]> {
  const outcomes: CreateOutcome[] = []
  let next = 0
  let refused: { reason: unknown; until: number } | undefined
  /**
   * Aborted (with the refusal) when the server asks the batch to wait longer than a create waits:
   * the creates out then give up too, most still waiting for a turn under the server's hold
   * (pacing.ts): each was refused in its turn, one a minute, the batch's end 7 minutes on.
   */
  let waitedOut = new AbortController()
  /** When a create of the batch was last made (createUntilMade's `batch`). */
  const batch = { madeAt: Number.NEGATIVE_INFINITY }
  const worker = async () => {
    while (next < paramsList.length) {
      const i = next++
      const params = paramsList[i] as CreateJobParams
      if (refused !== undefined && core.clock.now() < refused.until) {
        outcomes[i] = { status: 'rejected', reason: refused.reason, idempotencyKey: undefined }
        continue
      }
      let key: string | undefined
      const startedAt = core.clock.now()
      const own = new AbortController()
      const gate = waitedOut.signal
      const unlink = [gate, ...(signal ? [signal] : [])].map((s) =>
        whenAborted(s, () => own.abort(s.reason)),
      )
      if (signal?.aborted) own.abort(signal.reason)
      try {
        // A key that is not a string is refused by the create (its `TypeError`), not kept.
        const given: unknown = idempotencyKey?.(params, i) ?? randomId()
        key = typeof given === 'string' ? given : undefined
        const options = { signal: own.signal, idempotencyKey: given as string }
        const { job } = await createUntilMade(core, params, options, Infinity, undefined, batch)
        batch.madeAt = core.clock.now()
        outcomes[i] = { status: 'fulfilled', job }
      } catch (reason) {
        signal?.throwIfAborted()
        outcomes[i] = { status: 'rejected', reason, idempotencyKey: key }
        // Given up on failures while the server made no other job of the batch: an outage.
        const outage = isTransient(reason) && batch.madeAt < startedAt
        const until = refusedUntil(core, reason, outage)
        if (until !== undefined && until > (refused?.until ?? -Infinity)) {
          refused = { reason, until }
          if (Number.isFinite(until) && !gate.aborted) {
            waitedOut.abort(reason)
            waitedOut = new AbortController()
          }
        }
      } finally {
        for (const stop of unlink) stop()
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, paramsList.length) }, worker))
  return outcomes
}

/**
 * Until when a create's failure refuses every create (see `createMany`), if it does: a shorter
 * refusal is the pacer's to space (each create waits it out within `maxRetryAfterMs`).
 */
function refusedUntil(core: ClientCore, reason: unknown, outage: boolean): number | undefined {
  if (isApiError(reason) && reason.status === 401) return Infinity
  const now = core.clock.now()
  const pacedMs = pacedDelay(reason, now)
  if (pacedMs !== undefined) return pacedMs > core.retry.maxRetryAfterMs ? now + pacedMs : undefined
  // Given up on an outage (the circuit open, a server never reached, failures while no other
  // create was made); not on failures of this create alone (a job whose params the server
  // fails on).
  const unreached = isNetworkError(reason) && !core.trips.answered
  return isCircuitOpenError(reason) || unreached || outage ? Infinity : undefined
}

/**
 * A create that must be made (`createAndWait`, a resubmit, each of `createBatch`'s): when its
 * request fails after its own retries, it is made again with the same idempotency key, as a
 * wait's check would be, until `maxConsecutiveErrors` tries in a row failed or the deadline would
 * pass. They count as a wait's failed checks do (observe/failures.ts): each opening of the
 * circuit breaker once, a refusal while another call's probe is out not at all, nor one the
 * server explained (`Retry-After`) within a deadline: those are waited out here. A
 * `batch`'s create fails at once when the server made other jobs of the batch while it failed
 * (its own failure: its params), or when the server asks it to wait longer than a create waits
 * (`maxRetryAfterMs`: `createMany` refuses the rest then). The
 * create is what a wait cannot do without: a bad minute of the server must not lose it while the
 * wait would have gone on. When the wait's deadline stops the tries, a TimeoutError (the last
 * failure its `cause`) says so, as a wait's deadline does.
 */
export async function createUntilMade(
  core: ClientCore,
  params: CreateJobParams,
  options: CreateJobOptions & Pick<WaitOptions, 'maxConsecutiveErrors' | 'timeoutMs'>,
  deadline: number,
  /** For a resubmit: the job that failed, the last one the wait saw. */
  resubmitting?: Job,
  /** For a batch's create: when another create of the batch was last made (see below). */
  batch?: { madeAt: number },
): Promise<Created> {
  const maxTries = options.maxConsecutiveErrors ?? DEFAULTS.maxConsecutiveErrors
  const idempotencyKey = options.idempotencyKey ?? randomId()
  const startedAt = core.clock.now()
  /** The wait's time ran out before a create went through: its TimeoutError, the create's cause. */
  /** The wait's `TimeoutError`; `askedMs`: the server asked for no request that long. */
  const outOfTime = (cause: unknown, askedMs?: number) => {
    const { timeoutMs } = options
    const now = core.clock.now()
    // Without a timeoutMs of its own, the deadline is a resume token's (a resubmit's wait).
    const which =
      timeoutMs === undefined
        ? 'the deadline its resume token carried'
        : `the wait's deadline (timeoutMs: ${timeoutMs} ms)`
    const what = timeoutMs === undefined ? 'Creating the job again' : 'Creating the job'
    // Given up before the deadline, as the server asked to wait past it: said so, not as if the
    // time had run out (it read "gave up within the wait's 60000 ms" 50 ms in).
    const before = `${what} gave up ${Math.max(1, Math.round(deadline - now))} ms before ${which}`
    return new TimeoutError({
      scope: 'wait',
      timeoutMs: timeoutMs ?? Math.round(now - startedAt),
      what: 'Creating the job',
      message:
        now >= deadline
          ? `${what} gave up at ${which}`
          : askedMs !== undefined
            ? `${before}: the server asked for no request until ${Math.round(askedMs)} ms on`
            : `${before}: too little time left for another try`,
      job: resubmitting,
      cause,
    })
  }
  let failed = 0
  /** The circuit's opening that was counted last. */
  let counted: number | undefined
  for (;;) {
    const triedAt = core.clock.now()
    try {
      return await createJob(core, params, { ...options, idempotencyKey }, deadline, true)
    } catch (error) {
      options.signal?.throwIfAborted()
      const { breaker, trips } = core
      const verdict = judgeFailure(error, core.clock.now(), breaker, false, trips.answered)
      if (verdict.kind === 'fatal') throw verdict.error ?? error
      if (verdict.kind === 'look-again') throw error
      // Refusals the request waited out already end it: to the deadline (its next try would
      // have passed it), or, without one, for minutes (give a `timeoutMs` to ride out longer).
      // Others are waited out here, as the server asks: one that asked for longer than the
      // request waits out inside itself, or one it did not retry at all (`maxRetries: 0`). A
      // batch's creates (no deadline to give) ride out short refusals too, unless retries are
      // off, each few minutes of them one try (a 10-minute maintenance asking for 30 s lost 16
      // of 20); asked for longer
      // than a create waits, one fails, and the batch's rest with it until then (`createMany`):
      // said at once, not waited out by each.
      if (verdict.kind === 'paced') {
        const { maxRetryAfterMs, maxRetries } = core.retry
        const long = verdict.retryAfterMs > maxRetryAfterMs
        if (batch !== undefined ? long || maxRetries === 0 : !long && maxRetries > 0) {
          throw Number.isFinite(deadline) ? outOfTime(error) : error
        }
      }
      // Sent and failed, its retries spent, while the server made other jobs of the batch: this
      // create's failure alone (the server failing on its params), which must not hold the batch
      // for minutes. Otherwise an outage, waited through (before the breaker opens too: one
      // below its threshold, or without a breaker, lost every create).
      const othersMade = (batch?.madeAt ?? Number.NEGATIVE_INFINITY) >= triedAt
      const alone = verdict.kind === 'failed' && verdict.opening === undefined && othersMade
      if (alone) throw error
      // A refusal the server explained (`Retry-After`) is no failure within a deadline, as for a
      // wait's checks (counted, a maintenance asking for 61 s ended a 5 h createAndWait 9
      // minutes in); without one, a try (minutes of refusals each), so that a quota used up
      // does not hold the call for ever.
      const paced = verdict.kind === 'paced'
      let counts = verdict.kind === 'failed' || (paced && !Number.isFinite(deadline))
      if (verdict.kind !== 'paced' && verdict.opening !== undefined) {
        counts = verdict.opening !== counted
        counted = verdict.opening
      }
      if (counts && ++failed >= maxTries) throw givenUpOn(error, trips.answered)
      const now = core.clock.now()
      // After a failure, when the usual pause would pass the deadline, the next try comes a
      // quarter to three quarters of the way there (with a second left at least): a short
      // outage must not end a wait with time, and waits failed together do not try together.
      let delayMs = verdict.kind === 'failed' ? 0 : verdict.retryAfterMs
      if (verdict.kind === 'failed') {
        const spread = 0.5 + core.random() / 2
        delayMs = Math.min(core.retry.maxDelayMs * spread, (deadline - now) * (spread - 0.25))
      }
      const tooLate = verdict.kind === 'failed' ? deadline - now < LAST_LOOK_MS : false
      if (tooLate || now + delayMs >= deadline) {
        throw outOfTime(error, verdict.kind === 'paced' ? verdict.retryAfterMs : undefined)
      }
      core.logger.debug?.('creating again', { attempt: failed + 1, delayMs, error: String(error) })
      await core.clock.sleep(delayMs, options.signal)
    }
  }
}

/**
 * The job a create answered: its body, or, when the body is not a Job (empty, as a `202` with
 * a `Location` may be, only an id, a status of its own), the job its `Location` or its id
 * names, asked for once. The job exists and must not be lost to the answer's shape: if that
 * look fails too, it is taken as `pending` (the wait that follows, if any, asks again). With
 * its `ETag` (the protocol's create answers with the job's): the first check is conditional.
 */
async function createdJob(
  core: ClientCore,
  response: HttpResponse,
  signal: AbortSignal | undefined,
): Promise<{ job: Job; etag?: string | undefined }> {
  const parsed = parseJob(response.data)
  if (typeof parsed !== 'string') return { job: parsed, etag: etagOf(response) }
  const located = /\/jobs\/([\w.~-]+)\/?(?:[?#]|$)/.exec(response.headers.get('location') ?? '')
  const given = (response.data as { id?: unknown } | undefined)?.id
  const id = located?.[1] ?? (typeof given === 'number' ? String(given) : given)
  // (Not an id holding the key, however short: a `Location` is not redacted, and the id goes in
  // messages.)
  const unfit = typeof id !== 'string' || id === '' || core.http.redact(id) !== id
  if (unfit) return { job: readBody(response, parseJob) }
  try {
    const looked = await getJob(core, id, { attempt: 0, signal })
    if (looked.job) return { job: looked.job, etag: etagOf(looked.response) }
    // Answered "still working" (a 202 without a body): pending, as far as anyone knows.
    return { job: parseJob({ id, status: 'pending' }) as Job }
  } catch (error) {
    signal?.throwIfAborted()
    core.logger.warn?.(`job ${id} was created; its status did not read: taken as pending`, {
      error: String(error),
    })
    return { job: parseJob({ id, status: 'pending' }) as Job }
  }
}

function etagOf(response: HttpResponse): string | undefined {
  return response.headers.get('etag') ?? undefined
}
