/**
 * A request's turn under the server's rate limit: its place in the pacer's queue (soonest time
 * limit first; the creates of `createBatch` and `createAndWait` in a queue of their own, taking
 * seven turns in eight while others wait; a wait's last look before all), waiting for it within
 * the request's time limit, and telling the pacer what the answer said of the limit. The pacer
 * itself (pacing.ts) spaces the turns and shares them between its two queues.
 */
import { whenAborted } from '../abort.js'
import type { ClientCore } from '../core.js'
import { isApiError, requestLine, type ServerError, TimeoutError } from '../errors.js'
import type { HttpRequest } from './http.js'
import { notSent } from './key.js'
import type { Pacer, Ticket } from './pacing.js'
import { refusalDelay } from './rate-limit-headers.js'
import type { Outcome } from './server-limit.js'
import { stillUnavailable } from './unavailable.js'
import { isWrite } from './write-limit.js'

/**
 * Where in its queue a create of `createBatch` or `createAndWait` without a deadline goes (a
 * minute on: one due sooner goes first), and any other request at the latest.
 */
const BACKGROUND_MS = 60_000
/**
 * A request whose time limit ends this soon (a wait's last look, 1 s) is urgent: it goes ahead
 * of every turn that is not, as if due a day sooner (no turn waits that long).
 */
const URGENT_MS = 2_000
const URGENT_LEAD_MS = 86_400_000

/** Requests refused with a 429 before (their attempts share the request): see `Outcome`. */
const refusedBefore = new WeakSet<HttpRequest>()

/**
 * Makes `attempt` (one request, `request`) when the pacer gives it a turn, within `turnMs` (or
 * at once with the turn `given` it before it was made), and tells the pacer what the answer
 * (`headersOf` it) or the error said of the rate limit. `plain`: not a held request nor a
 * stream's open, whose 503 may be its route's alone (a proxy that refuses streams): only a
 * plain request's says the server is unavailable (unavailable.ts).
 */
export async function paced<T>(
  core: ClientCore,
  request: HttpRequest,
  turnMs: number | undefined,
  given: Ticket | undefined,
  attempt: () => Promise<T>,
  headersOf: (answer: T) => Headers,
  plain = true,
): Promise<T> {
  const { pacer, clock } = core
  if (!pacer) return attempt()
  const ticket = given ?? (await takeTurn(core, pacer, request, turnMs))
  const held = request.holdMs !== undefined
  try {
    const answer = await attempt()
    pacer.answered(ticket, headersOf(answer), 'ok', held)
    return answer
  } catch (error) {
    if (notSent.has(error as object)) {
      pacer.release(ticket)
      throw error
    }
    const api = isApiError(error) ? error : undefined
    // Requests are held no longer than a call waits out inside itself (then one goes alone to
    // see: a `Retry-After` of a day, by mistake, must not stop the client for a day); meanwhile
    // a request that would not wait for the whole of it fails at once (`pauseRefusal`).
    const { maxRetryAfterMs } = core.retry
    const again = refusedBefore.has(request)
    if (api?.status === 429) refusedBefore.add(request)
    const outcome: Outcome =
      api?.status === 429
        ? { refused: capped(refusalDelay(api.headers, clock.now()), maxRetryAfterMs), again }
        : plain && api?.status === 503 && api.retryAfterMs !== undefined
          ? {
              unavailable: api.retryAfterMs,
              holdMs: Math.min(api.retryAfterMs, maxRetryAfterMs),
              by: api,
            }
          : api && isTaken(api.status, api.headers)
            ? 'taken'
            : 'failed'
    pacer.answered(ticket, api?.headers, outcome, held)
    throw error
  }
}

/**
 * Waits for `request`'s turn, within `turnMs` when given, in its place in the queue (see
 * `paced`): resolves with the ticket to tell the pacer of its answer.
 */
export function takeTurn(
  core: ClientCore,
  pacer: Pacer,
  request: HttpRequest,
  turnMs: number | undefined,
): Promise<Ticket> {
  const { clock } = core
  // Turns go soonest limit first: the request's, or the client's when shorter (a create that may
  // retry for an hour is still one request of `requestTimeoutMs`), and a minute at most: behind
  // those due sooner, never for ever (a place once taken only ages). A create of a batch or of a
  // wait (`background`) waits in the creates' queue (pacing.ts). One that fails
  // within URGENT_MS (a wait's last look) goes before all of those: behind a backlog older than
  // its place, it would fail (waits on jobs ended 26 s before their deadline timed out behind
  // 2,500 creates with an hour each).
  // A create with time to spare goes in its queue by half the time its caller gives it (a
  // minute on without a deadline): the other half is the job's to run. Behind a backlog of
  // creates with an hour each, placed a minute on, those of waits with 30 s timed out unsent once
  // the backlog was older than 30 s; placed by the whole deadline, a wait of 10 min went behind
  // every create of a `createBatch` started after it, and timed out too.
  const orderMs = request.background
    ? turnMs === undefined
      ? BACKGROUND_MS
      : turnMs / 2
    : Math.min(turnMs ?? Infinity, core.http.timeoutMs, BACKGROUND_MS)
  const urgent = turnMs !== undefined && turnMs <= URGENT_MS
  const by = clock.now() + orderMs - (urgent ? URGENT_LEAD_MS : 0)
  return waitForTurn(core, pacer, request, turnMs, by)
}

/**
 * The error `request` fails with, unsent, while the server says it takes no request for
 * `pausedMs` more (a 503's `Retry-After` to another request): longer than a request waits one
 * out inside itself (`maxRetryAfterMs`; a create of `createAndWait`, up to its `retryUntil`), or
 * than its time left (`turnMs`). Undefined while it may wait for its turn. Queued instead, calls
 * sat silent for a minute, then went against the server's word (a 503 asking for two minutes: a
 * `get` took 60 s to fail, creates resolved after 61 s).
 */
function pauseRefusal(
  core: ClientCore,
  request: HttpRequest,
  pausedMs: number,
  turnMs: number | undefined,
): ServerError | undefined {
  if (pausedMs <= 0) return undefined
  const untilMs = (request.retryUntil ?? Number.NEGATIVE_INFINITY) - core.clock.now()
  const waitsOut = pausedMs <= core.retry.maxRetryAfterMs || pausedMs < untilMs
  if (waitsOut && (turnMs === undefined || pausedMs < turnMs)) return undefined
  return stillUnavailable(request, pausedMs, core.pacer?.pausedBy(isWrite(request)))
}

/**
 * Whether an error answer shows the server took the request (a 404, a 409): as a success does,
 * it raises a limit learned from refusals (streams answered 404 never raised one: 20 waits
 * behind 5 s of refused reads were not all known within a minute, now in 33 s). Not one that
 * says when to come back (a 403 of a rate limit, as GitHub's secondary limits answer), nor a 408.
 */
function isTaken(status: number, headers: Headers): boolean {
  return status < 500 && status !== 408 && !headers.has('retry-after')
}

function capped(ms: number | undefined, max: number): number | undefined {
  return ms === undefined ? undefined : Math.min(ms, max)
}

/**
 * Waits for the pacer's turn within `timeoutMs` (what is left of the request's own time limit: a
 * wait's deadline, say): a turn that would come later fails the request with a `TimeoutError`
 * instead of holding it. `by`: when its turn must come, its place in the queue.
 */
async function waitForTurn(
  core: ClientCore,
  pacer: Pacer,
  request: HttpRequest,
  timeoutMs: number | undefined,
  by: number,
): Promise<Ticket> {
  const { clock } = core
  const { signal } = request
  const write = isWrite(request)
  const askedAt = clock.now()
  // Against what is left of its time when the server speaks, not what it had when it asked.
  const refuse = (pausedMs: number) => {
    const leftMs = timeoutMs === undefined ? undefined : timeoutMs - (clock.now() - askedAt)
    return pauseRefusal(core, request, pausedMs, leftMs)
  }
  const refusal = refuse(pacer.pausedMs(write))
  if (refusal) throw refusal
  const asking = {
    held: request.holdMs !== undefined,
    background: request.background === true,
    write,
    lastLook: request.lastLook === true,
    refuse,
  }
  if (timeoutMs === undefined) return pacer.take(signal, by, asking)
  // An aborted signal fires no more 'abort': the gate below would wait for the turn.
  signal?.throwIfAborted()
  const gate = new AbortController()
  const unlink = signal ? whenAborted(signal, () => gate.abort(signal.reason)) : () => {}
  const timer = new AbortController()
  const what = `${requestLine(request)} (waiting for its turn under the rate limit)`
  clock.sleep(timeoutMs, timer.signal).then(
    () => gate.abort(new TimeoutError({ scope: 'request', timeoutMs, what })),
    () => {},
  )
  try {
    return await pacer.take(gate.signal, by, asking)
  } finally {
    timer.abort()
    unlink()
  }
}
