/**
 * The cursor: the state of one observation's schedule (what the polling strategy is told) and
 * of one wait on it (its deadline and checks), small enough to serialise. A resume token is a
 * cursor written out, so a wait can go on in another process or tab where it left off.
 */
import { parseJob } from '../parse.js'
import { type ServerHints, shownAge } from '../polling/hints.js'
import type { PollContext, PollingStrategy } from '../polling/strategy.js'
import { isTerminalStatus, type Job, stageOf } from '../types.js'
import { MAX_TIMER_MS } from '../validate.js'

/** The shortest delay a polling strategy's check is placed at. */
const MIN_DELAY_MS = 1

/** How far apart two answers' `Date`s may put a job's birth and still agree (whole seconds). */
const DATE_RESOLUTION_MS = 2_000

/** The schedule of one observation: every field is what a resume token carries. */
export interface CursorState {
  /** Status checks made so far (answered or not). */
  checks: number
  /** Delays taken so far. */
  delays: number
  previousDelayMs?: number | undefined
  /**
   * When the job was created, on the client's clock: by the answers' `Date - created_at` where
   * they have a `Date` (the earliest while they agree within its second, else the last), else the
   * latest `updated_at - created_at` allows (server times both, so no clock skew).
   */
  bornAt?: number | undefined
  /**
   * Whether `bornAt` came from a `Date` (dropped if that `Date` turns out wrong); false when the
   * job's own create dated it (no `Date` then owns it).
   */
  bornByDate?: boolean | undefined
  /** The last answer's `ETag`, sent as `If-None-Match`. */
  etag?: string | undefined
  /** The last event id of the job's event stream, sent as `Last-Event-ID` on reconnecting. */
  eventId?: string | undefined
  /** The job as last seen, and when its body came (client clock, ms). */
  job?: Job | undefined
  seenAt?: number | undefined
  /** When progress last moved, and its pace per ms then: for estimates between checks. */
  progressAt?: number | undefined
  progressRate?: number | undefined
  /** How long the caller expects the job to take (`expectedMs`), ms from its creation. */
  expectedMs?: number | undefined
}

/** A wait's own part: its deadline (client clock, ms; absent for none). */
export interface ResumeToken extends CursorState {
  id: string
  deadline?: number | undefined
}

/** The schedule of one observation. */
export class Cursor {
  state: CursorState

  constructor(state: CursorState = { checks: 0, delays: 0 }) {
    this.state = state
  }

  /** The job's age at `now`, in ms; undefined until an answer tells it. */
  ageMs(now: number): number | undefined {
    const { bornAt } = this.state
    return bornAt === undefined ? undefined : Math.max(0, now - bornAt)
  }

  /**
   * Takes in an answer about the job (`undefined` for a 304: unchanged), and the job's age as
   * the answer's `Date` tells it (`ServerDates`): null when its `Date` is not to be read.
   */
  saw(job: Job | undefined, etag: string | undefined, now: number, datedAge?: number | null): void {
    const state = this.state
    if (etag !== undefined) state.etag = etag
    if (datedAge === null && state.bornByDate) {
      // The `Date` it came from is wrong: the age goes back to what `updated_at` shows.
      state.bornByDate = undefined
      const known = job ?? state.job
      const shown = known && shownAge(known)
      state.bornAt = shown !== undefined ? now - shown : undefined
    }
    // Its own create dated it, to within the create's round trip: no answer dates it better (a
    // server whose job store dated jobs hours back made a 20 s job look hours old from its
    // first check on: checks minutes apart).
    const created = state.bornByDate === false
    if (typeof datedAge === 'number' && datedAge >= 0 && !created) {
      state.bornByDate = true
      // The answer's `Date` tells the age itself, a little short (it counts whole seconds): the
      // earliest birth stands while answers agree within that; one further off says the last
      // was wrong (a resumed token's, written on another process's clock; a wrong `Date`). An
      // answer that reached us over 2 s late (a blocked event loop) understates the age by that
      // much, until the next one.
      const bornAt = now - datedAge
      const agrees = Math.abs((state.bornAt ?? Number.NaN) - bornAt) <= DATE_RESOLUTION_MS
      state.bornAt = agrees ? Math.min(state.bornAt as number, bornAt) : bornAt
    }
    if (job === undefined) return
    const previous = state.job
    if (!previous || job.progress !== previous.progress) {
      if (previous && state.progressAt !== undefined && job.progress > previous.progress) {
        state.progressRate =
          (job.progress - previous.progress) / Math.max(1, now - state.progressAt)
      }
      state.progressAt = now
    }
    state.seenAt = now
    state.job = job
    if ((typeof datedAge === 'number' && datedAge >= 0) || created) return
    // Without one, `updated_at` says the job is at least that old: the oldest shown stands.
    const shown = shownAge(job)
    if (shown !== undefined) state.bornAt = Math.min(state.bornAt ?? Infinity, now - shown)
  }

  /** The job was made at `at` (client clock), as its own create's round trip tells. */
  bornBy(at: number): void {
    // Its own create dates it: no `Date` to take back, nor one or `updated_at` to move it later.
    this.state.bornByDate = false
    this.state.bornAt = at
  }

  /**
   * The delay before the next check, the shortest any of `strategies` asks for (waits sharing an
   * observation may bring their own); one that throws, or gives no delay, is left out and told
   * to `failed` (Infinity when every one was).
   */
  nextDelay(...args: Parameters<Cursor['peekDelay']>): number {
    const delay = this.peekDelay(...args)
    this.state.delays++
    this.state.previousDelayMs = delay
    return delay
  }

  /** `nextDelay` as it would be now, taken back: the plan stays as it was unless moved. */
  peekDelay(
    strategies: Iterable<PollingStrategy>,
    hints: ServerHints,
    now: number,
    startedAt: number,
    random: () => number,
    failed: (strategy: PollingStrategy, error: unknown) => void,
  ): number {
    const state = this.state
    const context: PollContext = {
      attempt: state.checks,
      delays: state.delays,
      elapsedMs: now - startedAt,
      ageMs: this.ageMs(now),
      job: state.job,
      hints,
      previousDelayMs: state.previousDelayMs,
      random,
      expectedMs: state.expectedMs,
    }
    let delay = Infinity
    for (const strategy of strategies) {
      try {
        const ms = strategy.nextDelay(context)
        if (!(ms >= 0)) throw new TypeError(`The polling strategy returned a delay of ${ms} ms.`)
        // A millisecond at least, as the built-in strategies' `minIntervalMs`: a strategy of
        // 0 asked in a loop (with an in-process fetch, the event loop starved: the wait hung).
        delay = Math.min(delay, Math.max(MIN_DELAY_MS, ms))
      } catch (error) {
        failed(strategy, error)
      }
    }
    return delay
  }
}

const PREFIX = 'vt1.'

/** Writes a resume token: `vt1.` and the cursor as base64url JSON. */
export function encodeToken(token: ResumeToken): string {
  const bytes = new TextEncoder().encode(JSON.stringify(token))
  let binary = ''
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return PREFIX + btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

/**
 * Reads a resume token, or throws a `TypeError` saying it is not one (an argument the call
 * cannot mean, as a token of another job is).
 */
export function decodeToken(text: unknown): ResumeToken {
  const bad = () =>
    new TypeError(
      'resume is not a resume token of this client (a string from resumeToken(), starting vt1.)',
    )
  if (typeof text !== 'string' || !text.startsWith(PREFIX)) throw bad()
  let raw: Record<string, unknown>
  try {
    const binary = atob(text.slice(PREFIX.length).replace(/-/g, '+').replace(/_/g, '/'))
    const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0))
    raw = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>
  } catch {
    throw bad()
  }
  // Read from storage a user controls: only known fields, each checked, steer requests.
  const count = (value: unknown) =>
    Number.isSafeInteger(value) && (value as number) >= 0 ? (value as number) : undefined
  const time = (value: unknown) => (Number.isFinite(value) ? (value as number) : undefined)
  const { id, checks, delays, etag, job } = raw ?? {}
  if (typeof id !== 'string' || count(checks) === undefined || count(delays) === undefined)
    throw bad()
  const parsed = job === undefined ? undefined : parseJob(job)
  if (typeof parsed === 'string' || (parsed && parsed.id !== id)) throw bad()
  const token: ResumeToken = { id, checks: checks as number, delays: delays as number }
  for (const field of ['deadline', 'previousDelayMs', 'bornAt', 'progressAt'] as const) {
    if (raw[field] === undefined) continue
    const value = time(raw[field])
    if (value === undefined) throw bad()
    token[field] = value
  }
  const rate = time(raw.progressRate)
  if (rate !== undefined && rate > 0) token.progressRate = rate
  // In the range the option takes (a token edited to 1e300 had a job checked at the ceiling).
  const expected = time(raw.expectedMs)
  if (expected !== undefined && expected >= 1 && expected <= MAX_TIMER_MS) {
    token.expectedMs = expected
  }
  if (raw.bornByDate === true && token.bornAt !== undefined) token.bornByDate = true
  // A finished job's last answer is not taken on trust: the first check fetches it again.
  if (parsed && !isTerminalStatus(parsed.status)) {
    token.job = parsed
    const seenAt = time(raw.seenAt)
    if (seenAt !== undefined) token.seenAt = seenAt
    // Both go back into headers (`If-None-Match`, `Last-Event-ID`): one no header can carry
    // would fail every request, so it is left out (the first answer brings a new one).
    const headerSafe = (value: unknown): value is string =>
      typeof value === 'string' && /^[\x20-\x7e]*$/.test(value)
    if (headerSafe(etag)) token.etag = etag
    if (headerSafe(raw.eventId)) token.eventId = raw.eventId
  }
  return token
}

/**
 * Whether `answer` is the job as it was before `previous` (a replica behind the others, events
 * put out of order on the way): no news. Never an end, nor a later stage (replicas' clocks may
 * disagree by more than a step); an earlier stage at the same time too (a job does not go back).
 */
export function isStale(answer: Job, previous: Job): boolean {
  if (isTerminalStatus(answer.status)) return false
  const [stage, before] = [stageOf(answer.status), stageOf(previous.status)]
  const [at, seenAt] = [Date.parse(answer.updated_at), Date.parse(previous.updated_at)]
  return stage < before ? at <= seenAt : stage === before && at < seenAt
}
