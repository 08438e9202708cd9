/**
 * Reading the server's hints: `Retry-After` (RFC 9110: seconds or an HTTP-date), `eta_ms`, and
 * the answer's `Date` (the server's clock, which a job's age is read on).
 */
import type { Job } from '../types.js'

/** What the server said about when to ask again. */
export interface ServerHints {
  /** From `Retry-After`, in ms; undefined when absent or malformed. */
  retryAfterMs?: number | undefined
  /** From the job's `eta_ms`; undefined when absent. */
  etaMs?: number | undefined
  /**
   * The answer's `Date` (epoch ms, server clock, whole seconds): with the job's `created_at`,
   * its age even where `updated_at` moves only with its status. Undefined without one.
   */
  serverTime?: number | undefined
}

/**
 * The longest hint taken from a server, in ms (one day): a larger `Retry-After` (or a date years
 * ahead) is read as this, so no hint can overflow a timer or be mistaken for "now".
 */
const MAX_HINT_MS = 86_400_000

/**
 * Parses a `Retry-After` value into milliseconds from `now` (the client's clock, in epoch ms for
 * an HTTP-date), within [0, MAX_HINT_MS]; malformed values are ignored.
 */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (value === null || value === undefined) return undefined
  const trimmed = value.trim()
  if (/^\d+$/.test(trimmed)) return Math.min(MAX_HINT_MS, Number(trimmed) * 1000)
  const date = httpDate(trimmed)
  return date === undefined ? undefined : Math.min(MAX_HINT_MS, Math.max(0, date - now))
}

const MONTHS = 'JanFebMarAprMayJunJulAugSepOctNovDec'

/** IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) and RFC 850 (`Sunday, 06-Nov-94 …`). */
const FIXDATE = /^[A-Za-z]{3,9}, (\d\d)[ -]([A-Za-z]{3})[ -](\d{4}|\d\d) (\d\d):(\d\d):(\d\d) GMT$/

/** asctime (`Sun Nov  6 08:49:37 1994`). */
const ASCTIME = /^[A-Za-z]{3} ([A-Za-z]{3}) ([ \d]\d) (\d\d):(\d\d):(\d\d) (\d{4})$/

/**
 * An HTTP-date in epoch ms, in any of the three forms a recipient must read (RFC 9110 §5.6.7;
 * a two-digit year from 70 on is the 1900s); undefined for anything else (`Date.parse` would
 * take other text too, some of it as local time).
 */
function httpDate(text: string): number | undefined {
  const fixed = FIXDATE.exec(text)
  const asc = fixed ? undefined : ASCTIME.exec(text)
  const parts = fixed ?? (asc && [asc[0], asc[2], asc[1], asc[6], asc[3], asc[4], asc[5]])
  if (!parts) return undefined
  const [, day, month, year, h, m, s] = parts as string[]
  const monthIndex = MONTHS.indexOf(month as string) / 3
  let fullYear = Number(year)
  if (fullYear < 100) fullYear += fullYear < 70 ? 2000 : 1900
  const time = Date.UTC(fullYear, monthIndex, Number(day), Number(h), Number(m), Number(s))
  // No day, hour or minute past its end (Date.UTC would carry a 99th of November on to February).
  const fits = Number(h) < 24 && Number(m) < 60 && Number(s) < 61
  const sameDay = new Date(time).getUTCDate() === Number(day)
  return Number.isInteger(monthIndex) && fits && sameDay ? time : undefined
}

/** How far a server's `Date` and its jobs' times may disagree before the `Date` is not read. */
const DATE_SLACK_MS = 5_000

/**
 * The slack of the bound a job's change sets (its `updated_at` at most the time since the answer
 * before behind the `Date`): wider, as that answer may have been a replica's or a cache's, behind.
 */
const CHANGE_SLACK_MS = 15_000

/** How long a server's `Date` is not read after it disagreed with its jobs' times. */
const DISTRUST_MS = 600_000

/**
 * The oldest a job is taken to be (a week). A `created_at` of Go's zero time or of 1970, or a
 * `Date` a month ahead of the jobs' times, read as an age of years or weeks, put every check at
 * the longest delay (a 4 s job known 116 s late): an age past this one is not read.
 */
const MAX_AGE_MS = 7 * 86_400_000

/**
 * How old `job` is at least, by its own times (`updated_at - created_at`); undefined when they
 * do not read or tell no plausible age (past MAX_AGE_MS, or negative).
 */
export function shownAge(job: Job): number | undefined {
  const shown = Date.parse(job.updated_at) - Date.parse(job.created_at)
  return shown >= 0 && shown <= MAX_AGE_MS ? shown : undefined
}

/**
 * A server's `Date`, read as its jobs' age (`Date - created_at`) while it agrees with their
 * times: a job this client just created is no older by it than the create took, no answer's
 * `updated_at` is past its `Date`, and a job that changed since the last answer changed no
 * earlier by it than that answer. A disagreement by more than DATE_SLACK_MS (a `Date` from
 * another clock than the jobs' times, a timezone slip in them, one replica's clock off) and the
 * client does not read it for DISTRUST_MS, each disagreement anew: ages then come from
 * `updated_at` alone, which lags but never misleads.
 */
export class ServerDates {
  readonly #clock: { now(): number }
  #distrustedUntil = Number.NEGATIVE_INFINITY

  /** `clock`: the client's, to time the distrust by (not the server's clock: it is the suspect). */
  constructor(clock: { now(): number }) {
    this.#clock = clock
  }

  /**
   * The age of `job` by an answer's `serverTime`: undefined without one (or past a week), null
   * while it is not read (it disagreed). Bounds the answer gives: `madeWithinMs`, it is the
   * create's own (not an idempotent replay), which took this long, so the job is at most about
   * that old; `changedWithinMs`, the job's `updated_at` moved since an answer this long ago, so
   * it is at most about that far behind the `Date`.
   */
  ageOf(
    job: Job,
    serverTime: number | undefined,
    bounds: { madeWithinMs?: number | undefined; changedWithinMs?: number | undefined } = {},
  ): number | null | undefined {
    const created = Date.parse(job.created_at)
    if (serverTime === undefined || Number.isNaN(created)) return undefined
    const { madeWithinMs, changedWithinMs } = bounds
    // A `Date` counts whole seconds: within a second of the job's times (and the slack), the
    // same clock.
    const dated = serverTime - created
    // Older than a week by it (a job of last week's, a zero `created_at`): no age told, and no
    // sign of a wrong clock either (distrusted, one old job's answer stopped every job's `Date`
    // from being read for 10 minutes).
    if (dated > MAX_AGE_MS) return undefined
    const updated = Date.parse(job.updated_at) - created
    const disagrees =
      dated < -DATE_SLACK_MS ||
      dated < updated - DATE_SLACK_MS ||
      (madeWithinMs !== undefined && dated > madeWithinMs + DATE_SLACK_MS) ||
      (changedWithinMs !== undefined && dated - updated > changedWithinMs + CHANGE_SLACK_MS)
    const now = this.#clock.now()
    if (disagrees) this.#distrustedUntil = now + DISTRUST_MS
    if (now < this.#distrustedUntil) return null
    return Math.max(0, dated, shownAge(job) ?? 0)
  }
}

/** The hints of an answer about `job`: its `Retry-After`, the job's `eta_ms`, its `Date`. */
export function hintsOf(job: Job | undefined, headers: Headers, now: number): ServerHints {
  return {
    retryAfterMs: retryAfterOf(headers, now),
    etaMs: job?.eta_ms ?? undefined,
    serverTime: serverTimeOf(headers),
  }
}

/** A response's `Date`, in epoch ms (server clock); undefined when absent or malformed. */
export function serverTimeOf(headers: Headers): number | undefined {
  return httpDate(headers.get('date')?.trim() ?? '')
}

/**
 * A response's `Retry-After`, in ms from `now` on the client's clock. An HTTP-date is read
 * against the response's own `Date` (RFC 9110): both are the server's clock, so one ahead of the
 * client's by minutes does not stretch a 1 s wait into minutes (nor one behind cut it to none).
 */
export function retryAfterOf(headers: Headers, now: number): number | undefined {
  const value = headers.get('retry-after')
  return value === null ? undefined : parseRetryAfter(value, serverTimeOf(headers) ?? now)
}
