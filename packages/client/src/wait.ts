/**
 * The waiting loop every wait shares: check, stop on a terminal outcome, otherwise sleep as the
 * polling strategy says (clamped to the deadline), and again. A check that fails transiently is
 * a missed look, never a failed job: the loop goes on, up to `maxConsecutiveErrors` in a row.
 * Aborting rejects at once with the signal's reason, mid-sleep or mid-request. Transports that
 * push (long-poll, SSE) plug in as other `check` functions.
 */
import type { ClientCore } from './core.js'
import { isCircuitOpenError, TimeoutError } from './errors.js'
import type { ServerHints } from './polling/hints.js'
import type { PollingStrategy } from './polling/strategy.js'
import { isTransient } from './retry.js'
import type { Job } from './types.js'
import { MAX_TIMER_MS } from './validate.js'

/** How long the check at the deadline may take: a wait overruns its timeout by at most this. */
const LAST_LOOK_MS = 1_000

/** How often a wait looks again while the circuit breaker's probe is in flight. */
const PROBE_WAIT_MS = 1_000

/** What one check found. */
export interface Check<T> {
  value: T
  /** The job as seen, for the polling strategy (undefined where there is none). */
  job: Job | undefined
  outcome: 'pending' | 'completed' | 'failed'
  hints: ServerHints
}

/** Limits of one wait. */
export interface WaitLimits {
  /** Abort the wait: it rejects at once with the signal's reason and sends nothing more. */
  signal?: AbortSignal | undefined
  /** Give up after this long, in ms, with a `TimeoutError` carrying the last Job. */
  timeoutMs?: number | undefined
  /** Give up after this many checks, with a `TimeoutError`. */
  maxAttempts?: number | undefined
  /**
   * Give up after this many failed checks in a row (each already retried by the request layer),
   * rethrowing the last error. A check the open circuit breaker refuses is not a failed check:
   * the wait waits for the breaker's probe instead.
   * @default 10
   */
  maxConsecutiveErrors?: number | undefined
  /** The polling strategy of this wait. @default the client's */
  polling?: PollingStrategy | undefined
}

/** Runs `check` until it reports a terminal outcome, or a limit is reached. */
export async function pollUntilDone<T>(
  core: ClientCore,
  id: string,
  limits: WaitLimits,
  check: (attempt: number, timeoutMs: number | undefined) => Promise<Check<T>>,
  initial?: { job: Job; hints: ServerHints },
): Promise<{ value: T; outcome: 'completed' | 'failed' }> {
  const { clock } = core
  const { signal, timeoutMs, maxAttempts, maxConsecutiveErrors = 10 } = limits
  const strategy = limits.polling ?? core.polling
  const start = clock.now()
  const deadline = timeoutMs === undefined ? Infinity : start + timeoutMs
  let job: Job | undefined
  let previousDelayMs: number | undefined
  let delays = 0
  let failures = 0
  /** When the job was created, on the client's clock (the latest the answers allow). */
  let bornAt = Infinity
  const ageMs = () => (bornAt === Infinity ? undefined : Math.max(0, clock.now() - bornAt))
  /** Takes in an answer: the job, its age (it was at least `updated_at - created_at` old). */
  const saw = (seen: Job) => {
    job = seen
    const shown = Date.parse(seen.updated_at) - Date.parse(seen.created_at)
    if (shown >= 0) bornAt = Math.min(bornAt, clock.now() - shown)
    strategy.observe?.(seen, ageMs())
  }
  /** Sleeps as the strategy says after `attempt` checks, never past the deadline. */
  const pause = async (attempt: number, hints: ServerHints) => {
    const elapsedMs = clock.now() - start
    const context = {
      attempt,
      delays: delays++,
      elapsedMs,
      ageMs: ageMs(),
      job,
      hints,
      previousDelayMs,
      random: core.random,
    }
    const delay = strategy.nextDelay(context)
    if (!(delay >= 0)) throw new TypeError(`The polling strategy returned a delay of ${delay} ms.`)
    previousDelayMs = delay
    // A delay beyond what a timer holds wakes early and looks again: harmless.
    const until = Math.min(delay, deadline - clock.now(), MAX_TIMER_MS)
    await clock.sleep(Math.max(0, until), signal)
  }
  // Just created: the create's answer already says when a first look is worth making.
  if (initial) {
    saw(initial.job)
    await pause(0, initial.hints)
  }
  for (let attempt = 1; ; attempt++) {
    signal?.throwIfAborted()
    const remaining = deadline - clock.now()
    let hints: ServerHints = {}
    try {
      // The last look, at the deadline, still gets up to a second to be answered.
      const limitMs = Number.isFinite(remaining) ? Math.max(LAST_LOOK_MS, remaining) : undefined
      const found = await check(attempt, limitMs)
      failures = 0
      if (found.job) saw(found.job)
      if (found.outcome !== 'pending') return { value: found.value, outcome: found.outcome }
      hints = found.hints
    } catch (error) {
      signal?.throwIfAborted()
      if (isCircuitOpenError(error)) {
        // Refused by the open circuit, not a failed look at the job: wait for the probe (or
        // look again in a second while it is in flight), within this wait's own deadline.
        hints = { retryAfterMs: Math.max(PROBE_WAIT_MS, error.retryAfterMs) }
      } else if (!isTransient(error) || ++failures >= maxConsecutiveErrors) {
        throw error
      }
    }
    const elapsedMs = clock.now() - start
    if (clock.now() >= deadline || (maxAttempts !== undefined && attempt >= maxAttempts)) {
      core.events.emit('job:timeout', { id, job, elapsedMs, attempts: attempt })
      throw new TimeoutError({
        scope: 'wait',
        timeoutMs: timeoutMs ?? elapsedMs,
        what: `Waiting for job ${id}`,
        job,
        message:
          clock.now() < deadline
            ? `Waiting for job ${id} gave up after ${attempt} status checks (maxAttempts)`
            : undefined,
      })
    }
    await pause(attempt, hints)
  }
}
