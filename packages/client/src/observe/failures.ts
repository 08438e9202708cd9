/**
 * What a failed check means for the waits on its job, once the request layer's own retries are
 * spent: the rules behind `maxConsecutiveErrors` and the circuit breaker's refusals. The
 * observation acts on them (observation.ts).
 */
import { isApiError, isCircuitOpenError, isNetworkError } from '../errors.js'
import type { CircuitBreaker } from '../request/breaker.js'
import { isTransient, pacedDelay } from '../request/retry.js'

/** How often a wait looks again while the circuit breaker's probe is in flight. */
export const PROBE_WAIT_MS = 1_000

/** A failed check, judged. */
export type FailedCheck =
  /**
   * A 429 or 503 with `Retry-After` (left to the wait when its retries are spent, or off): the
   * server pacing its clients, a check made but no failure; the next after `retryAfterMs`.
   */
  | { kind: 'paced'; retryAfterMs: number }
  /**
   * A wait's last look refused while another call probes the circuit: looked again within the
   * look's second (the probe's verdict may close it), not ended at once.
   */
  | { kind: 'look-again'; inMs: number }
  /**
   * Refused by the open circuit: wait for its probe (or look again in a second while the probe
   * is out). Each opening (the server failing, once more when a probe failed) is one failed
   * check of each wait, however often it is refused meanwhile, so a server that stays down ends
   * the wait after `maxConsecutiveErrors` openings; a refusal while the probe is out (no
   * `opening`) counts for nothing.
   */
  | { kind: 'refused'; retryAfterMs: number; opening: number | undefined }
  /**
   * Not worth another try (a client error, a broken answer; a server never reached while none
   * ever answered this client): every wait on the job ends, with `error` when it says more
   * than the failure judged (the network's failure behind an open circuit's refusal).
   */
  | { kind: 'fatal'; error?: unknown }
  /**
   * A transient failure: one failed check of each wait, or, when it opened the circuit (a
   * probe's, again), that opening's, so the refusals that follow in it count no more.
   */
  | { kind: 'failed'; opening: number | undefined }

/**
 * Answers that say a job just created is not readable yet (fresh-jobs.ts): not there, too early.
 * (Not a 409: a conflict is no lag.)
 */
const NOT_YET = new Set([404, 425])

/** The longest a job just created that is not readable yet waits for its next look. */
export const FRESH_LOOK_MS = 2_000

/**
 * Judges `error`; `lastLooking`: a wait is within the second after its deadline; `answered`:
 * whether the server ever answered this client (round-trips.ts); `freshMs`: how long ago this
 * client created the job, if lately (fresh-jobs.ts).
 */
export function judgeFailure(
  error: unknown,
  now: number,
  breaker: CircuitBreaker | undefined,
  lastLooking: boolean,
  answered: boolean,
  freshMs?: number,
): FailedCheck {
  // A server that could not be reached (refused, no such host) and never answered this client,
  // nor the circuit breaker's first probe, is more likely a wrong `baseUrl` or one not started
  // than an outage: the wait fails with why then (the breaker's second opening: ~7 s in), not
  // after minutes of openings (a wrong port: 318 s, then a CircuitOpenError that spoke of server
  // failures). A server up within its first probe's seconds is waited for (failing at the first
  // check's retries, a second in, ended waits on one starting late); any outage once it answered.
  const shown = givenUpOn(error, false)
  const opening = isCircuitOpenError(error)
    ? error.opening
    : breaker?.state.state === 'open'
      ? breaker.openings
      : 0
  // (Not a refusal while the probe is out: its verdict may be the server's first answer.)
  const probing = isCircuitOpenError(error) && error.retryAfterMs === 0
  if (!answered && isNetworkError(shown) && opening >= 2 && !probing) {
    return { kind: 'fatal', error: shown }
  }
  const pacedMs = pacedDelay(error, now)
  if (pacedMs !== undefined) return { kind: 'paced', retryAfterMs: pacedMs }
  // A job this client created moments ago that the server cannot show yet (a store catching up):
  // looked at again soon, later the older it is, as a check made and no failure. (It failed the
  // wait at once; a job not there FRESH_MS after its create, or once read, fails it.)
  if (freshMs !== undefined && isApiError(error) && NOT_YET.has(error.status)) {
    return { kind: 'paced', retryAfterMs: Math.min(FRESH_LOOK_MS, Math.max(250, freshMs / 2)) }
  }
  if (isCircuitOpenError(error)) {
    if (error.retryAfterMs === 0 && lastLooking)
      return { kind: 'look-again', inMs: PROBE_WAIT_MS / 4 }
    const retryAfterMs = Math.max(PROBE_WAIT_MS, error.retryAfterMs)
    return {
      kind: 'refused',
      retryAfterMs,
      opening: error.retryAfterMs > 0 ? error.opening : undefined,
    }
  }
  // Also a completed job without its result: no later answer is waited for (see NO_RESULT).
  if (!isTransient(error)) return { kind: 'fatal' }
  return { kind: 'failed', opening: breaker?.state.state === 'open' ? breaker.openings : undefined }
}

/**
 * What a wait giving up on `error` ends with: for a client the server never answered, behind an
 * open circuit's refusal, the network's failure itself, which says what is wrong (a wrong port,
 * no such host), not a refusal of the client's own.
 */
export function givenUpOn(error: unknown, answered: boolean): unknown {
  const behind = isCircuitOpenError(error) ? error.cause : undefined
  return !answered && isNetworkError(behind) ? behind : error
}
