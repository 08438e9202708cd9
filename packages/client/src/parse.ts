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

/** The fields of a Job that must be strings, besides `id` and `status`. */
const STRING_FIELDS = ['created_at', 'updated_at', 'video_url', 'target_language'] as const

type Fields = Record<string, unknown>

function isObject(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** A Job, or a sentence saying why `value` is not one. */
export function parseJob(value: unknown): Job | string {
  if (!isObject(value)) return 'expected a JSON object'
  const { id, status, progress, eta_ms } = value
  if (typeof id !== 'string' || id === '') return '"id" must be a non-empty string'
  if (typeof status !== 'string' || !STATUSES.has(status)) {
    return `"status" must be one of ${[...STATUSES].join(', ')}`
  }
  if (typeof progress !== 'number' || !(progress >= 0 && progress <= 1)) {
    return '"progress" must be a number from 0 to 1'
  }
  if (eta_ms !== null && eta_ms !== undefined && typeof eta_ms !== 'number') {
    return '"eta_ms" must be a number or null'
  }
  for (const field of STRING_FIELDS) {
    if (typeof value[field] !== 'string') return `"${field}" must be a string`
  }
  const result = parseResult(value.result)
  if (status === 'completed' && result === null) {
    return '"result" must be an object with a "url" once the job is completed'
  }
  return {
    id,
    status: status as JobStatus,
    progress,
    eta_ms: eta_ms ?? null,
    created_at: value.created_at as string,
    updated_at: value.updated_at as string,
    video_url: value.video_url as string,
    target_language: value.target_language as string,
    title: typeof value.title === 'string' ? value.title : null,
    result,
    error: parseJobError(value.error),
  }
}

/** A batch answer, `{ jobs: Job[], missing: string[] }`, or why the body is not that. */
export function parseBatch(data: unknown): { jobs: Job[]; missing: string[] } | string {
  const body = data as { jobs?: unknown; missing?: unknown } | undefined
  if (!Array.isArray(body?.jobs)) return '"jobs" must be an array of jobs'
  const jobs: Job[] = []
  for (const item of body.jobs) {
    const job = parseJob(item)
    if (typeof job === 'string') return `a job in "jobs" is invalid: ${job}`
    jobs.push(job)
  }
  const missing = Array.isArray(body.missing)
    ? body.missing.filter((id): id is string => typeof id === 'string')
    : []
  return { jobs, missing }
}

/**
 * A parser of the answer about job `id`: a Job with another id is as wrong as a broken one (a
 * proxy's cache or a server's mix-up must never end a wait with another job's result).
 */
export function jobParser(id: string): (value: unknown) => Job | string {
  return (value) => {
    const job = parseJob(value)
    if (typeof job === 'string' || job.id === id) return job
    // Not quoted: a server may echo anything there, the API key included.
    return '"id" is not the job asked for (an answer about another job)'
  }
}

function parseResult(value: unknown): Job['result'] {
  return isObject(value) && typeof value.url === 'string' ? { url: value.url } : null
}

function parseJobError(value: unknown): Job['error'] {
  if (!isObject(value)) return null
  return {
    code: typeof value.code === 'string' ? value.code : 'unknown',
    message: typeof value.message === 'string' ? value.message : '',
  }
}

/** An RFC 9457 problem body, or `undefined` when `value` is not one. */
export function parseProblem(value: unknown): Problem | undefined {
  if (!isObject(value)) return undefined
  const { type, title, status } = value
  if (typeof title !== 'string' || typeof status !== 'number') return undefined
  return {
    ...value,
    type: typeof type === 'string' ? type : 'about:blank',
    title,
    status,
  } as Problem
}
