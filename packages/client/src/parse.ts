/**
 * Validation at the edge: turns parsed JSON (`unknown`) into wire types, or says what is wrong.
 * Everything past this point trusts its input.
 */
import type { Job, JobStatus, Problem } from './types.js'

const STATUSES: ReadonlySet<string> = new Set<JobStatus>([
  'pending',
  'running',
  'completed',
  'error',
  'canceled',
])

/**
 * Other servers' names for the five statuses (read in lower case, `-` and spaces as `_`). Any
 * other is a step of the job's work this client does not know (`transcoding`): running.
 */
const STATUS_NAMES: Readonly<Record<string, JobStatus>> = {
  queued: 'pending',
  in_queue: 'pending',
  submitted: 'pending',
  waiting: 'pending',
  accepted: 'pending',
  created: 'pending',
  succeeded: 'completed',
  success: 'completed',
  complete: 'completed',
  done: 'completed',
  finished: 'completed',
  failed: 'error',
  failure: 'error',
  errored: 'error',
  rejected: 'error',
  expired: 'error',
  timed_out: 'error',
  cancelled: 'canceled',
  aborted: 'canceled',
}

/**
 * Why a completed job without a result does not read. The answer that says `completed` carries
 * the result (a later one will hardly bring it): a wait fails with it at once (failures.ts), as
 * a successful wait resolves with the result.
 */
export const NO_RESULT =
  '"result" must be an object with a "url" (or a URL) once the job is completed'

type Fields = Record<string, unknown>

function isObject(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * A Job, or a sentence saying why `value` is not one. What a wait needs must be there: an id, a
 * status (in any case, by another server's name for it: `queued`, `failed`...; one it does not
 * know is a step of the work, running) and, once completed, a result. The rest is read as well as it can be, so that a server sending
 * less (no progress, times as epoch numbers, progress in per cent) fails no check: missing
 * strings read as '', a missing progress as 0 (1 once completed), a missing ETA as null.
 */
export function parseJob(value: unknown): Job | string {
  if (!isObject(value)) return 'expected a JSON object'
  const id = typeof value.id === 'number' ? String(value.id) : value.id
  if (typeof id !== 'string' || id === '') return '"id" must be a non-empty string'
  const status = statusOf(value.status)
  // Quoted short: the body was redacted when read (an API key echoed there reads [redacted]).
  if (!status) {
    const said = JSON.stringify(value.status)?.slice(0, 40) ?? 'missing'
    return `"status" must be a string: ${[...STATUSES].join(', ')} (it was ${said})`
  }
  const result = parseResult(value.result)
  if (status === 'completed' && result === null) return NO_RESULT
  const { progress, eta_ms } = value
  // A Job: a completed one has its result (checked above).
  return {
    id,
    status,
    progress: status === 'completed' ? 1 : (progressOf(progress) ?? 0),
    eta_ms: typeof eta_ms === 'number' && eta_ms >= 0 ? eta_ms : null,
    created_at: timeOf(value.created_at),
    updated_at: timeOf(value.updated_at),
    video_url: typeof value.video_url === 'string' ? value.video_url : '',
    target_language: typeof value.target_language === 'string' ? value.target_language : '',
    title: typeof value.title === 'string' ? value.title : null,
    result,
    error: parseJobError(value.error),
  } as Job
}

function statusOf(value: unknown): JobStatus | undefined {
  if (typeof value !== 'string' || value === '') return undefined
  // The protocol's own names first: no new string for every answer.
  if (STATUSES.has(value)) return value as JobStatus
  const name = value.toLowerCase().replace(/[- ]/g, '_')
  return STATUSES.has(name) ? (name as JobStatus) : (STATUS_NAMES[name] ?? 'running')
}

/**
 * The progress of a job not completed: a fraction from 0 to 1, or per cent up to 100. A whole 1
 * is 1 %: a server counting in fractions says 1 once the job is completed (as the protocol's
 * does), one counting in per cent says it at 1 % (after more, see `afterPrevious`). A hair over
 * 1 is float noise on a fraction.
 */
function progressOf(value: unknown): number | undefined {
  if (typeof value !== 'number' || !(value >= 0 && value <= 100)) return undefined
  return value === 1 || value > 1.000_001 ? value / 100 : Math.min(1, value)
}

/**
 * `job` beside the answer before it: a whole 1 read as 1 % (`progressOf`) after more than that
 * is a fraction's 1, the work done before the status says so (a job at 60 % then showed 1 %).
 */
export function afterPrevious(job: Job, previous: Job | undefined): Job {
  const wholeOne = job.progress === 0.01 && job.status === 'running'
  return wholeOne && previous && previous.progress > 0.01 ? { ...job, progress: 1 } : job
}

/** An ISO-8601 date and time without an offset (`2026-01-01T00:00:05.123000`, a space for `T`). */
const NO_OFFSET = /^(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d(?::\d\d(?:\.\d+)?)?)$/

/**
 * An ISO-8601 time as given, one without an offset read as UTC (the protocol's times are UTC,
 * and Python's `utcnow().isoformat()` writes them so: read as local time, as `Date.parse` does,
 * a job seemed 9 hours old in Tokyo, and each wait's second check went at the longest delay);
 * epoch seconds or milliseconds, as numbers or digits, as ISO-8601; otherwise ''.
 */
function timeOf(value: unknown): string {
  const digits = typeof value === 'string' && /^\d+(?:\.\d+)?$/.test(value)
  if (typeof value === 'string' && !digits) {
    const local = NO_OFFSET.exec(value)
    return local ? `${local[1]}T${local[2]}Z` : value
  }
  const epoch = digits ? Number(value) : value
  if (typeof epoch !== 'number' || !(epoch > 0 && epoch < 1e14)) return ''
  return new Date(epoch < 1e11 ? epoch * 1000 : epoch).toISOString()
}

/**
 * A batch answer, `{ jobs: Job[], missing: string[] }`, or why the body is not that. A job in it
 * that does not read is left out, its id (when it has one) in `unreadable`: one odd job is that
 * job's problem, not the batch's.
 */
export function parseBatch(
  data: unknown,
): { jobs: Job[]; missing: string[]; unreadable: Set<string> } | string {
  const body = data as { jobs?: unknown; missing?: unknown } | undefined
  if (!Array.isArray(body?.jobs)) return '"jobs" must be an array of jobs'
  const jobs: Job[] = []
  const unreadable = new Set<string>()
  for (const item of body.jobs) {
    const job = parseJob(item)
    if (typeof job !== 'string') jobs.push(job)
    else if (isObject(item) && (typeof item.id === 'string' || typeof item.id === 'number')) {
      unreadable.add(String(item.id))
    }
  }
  const missing = Array.isArray(body.missing)
    ? body.missing.filter((id): id is string => typeof id === 'string')
    : []
  return { jobs, missing, unreadable }
}

/**
 * A parser of the answer about job `id`: a Job with another id is as wrong as a broken one (a
 * proxy's cache or a server's mix-up must never end a wait with another job's result).
 */
export function jobParser(id: string): (value: unknown) => Job | string {
  return (value) => {
    // The id first: an answer about another job is wrong whatever else it says.
    const given = isObject(value) ? value.id : undefined
    const other = (typeof given === 'string' || typeof given === 'number') && String(given) !== id
    // Not quoted: a server may echo anything there, the API key included.
    if (other) return '"id" is not the job asked for (an answer about another job)'
    return parseJob(value)
  }
}

/** `{ url }`, or a bare URL string as one. */
function parseResult(value: unknown): Job['result'] {
  if (typeof value === 'string' && value !== '') return { url: value }
  return isObject(value) && typeof value.url === 'string' ? { url: value.url } : null
}

/** `{ code, message }`, or a bare message string as one. */
function parseJobError(value: unknown): Job['error'] {
  if (typeof value === 'string' && value !== '') return { code: 'unknown', message: value }
  if (!isObject(value)) return null
  return {
    code: typeof value.code === 'string' ? value.code : 'unknown',
    message: typeof value.message === 'string' ? value.message : '',
  }
}

/**
 * An RFC 9457 problem body, or `undefined` when `value` is not one. Another server's error body
 * (`{ "message" }`, `{ "error" }`, `{ "error": { "message" } }`, `{ "detail" }`) becomes one of
 * HTTP `status` with its message as the detail, so the error says what the server said.
 */
export function parseProblem(value: unknown, status: number): Problem | undefined {
  if (!isObject(value)) return undefined
  const { type, title } = value
  if (typeof title === 'string' && typeof value.status === 'number') {
    return {
      ...value,
      type: typeof type === 'string' ? type : 'about:blank',
      title,
      status: value.status,
    } as Problem
  }
  const error = isObject(value.error) ? value.error.message : value.error
  const detail = [value.detail, value.message, error].find((text) => typeof text === 'string')
  if (detail === undefined) return undefined
  return { type: 'about:blank', title: `HTTP ${status}`, status, detail: detail as string }
}

/**
 * The problem a failed answer's body says that is not JSON (a proxy's page, a plain-text
 * refusal): its text, or an HTML page's title, whitespace collapsed and 200 characters at most.
 */
export function textProblem(text: string, status: number): Problem | undefined {
  const title = /<title[^>]*>([^<]*)<\/title>/i.exec(text)?.[1]
  const plain = title ?? (/^\s*</.test(text) ? '' : text)
  const said = plain.slice(0, 1_000).replace(/\s+/g, ' ').trim()
  if (said === '') return undefined
  const detail = said.length > 200 ? `${said.slice(0, 200)}…` : said
  return { type: 'about:blank', title: `HTTP ${status}`, status, detail }
}
