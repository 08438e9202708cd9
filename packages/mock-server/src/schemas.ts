/**
 * Validation of request bodies. Each rule names the field it rejects, so a 400 tells the caller
 * exactly what to fix.
 */

/** A valid `POST /v1/jobs` body. */
export interface CreateJobBody {
  video_url: string
  target_language: string
  title?: string
  simulate?: { duration_ms?: number; outcome?: 'completed' | 'error' }
}

/** Why a body was rejected: the field (a JSON pointer) and what is wrong with it. */
export interface Invalid {
  field: string
  message: string
}

/** The longest simulated duration a job may ask for: one day. */
export const MAX_SIMULATED_DURATION_MS = 86_400_000

const LANGUAGE_TAG = /^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$/

type Fields = Record<string, unknown>

function isObject(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function isHttpUrl(value: string): boolean {
  try {
    const { protocol } = new URL(value)
    return protocol === 'http:' || protocol === 'https:'
  } catch {
    return false
  }
}

/** Checks a create body; returns it typed, or the first problem found. */
export function parseCreateJobBody(body: unknown): CreateJobBody | Invalid {
  if (!isObject(body)) return { field: '/', message: 'the body must be a JSON object' }
  const { video_url, target_language, title, simulate } = body
  if (typeof video_url !== 'string' || video_url.length > 2048 || !isHttpUrl(video_url)) {
    return {
      field: '/video_url',
      message: 'must be an http or https URL of at most 2048 characters',
    }
  }
  if (typeof target_language !== 'string' || !LANGUAGE_TAG.test(target_language)) {
    return { field: '/target_language', message: 'must be a language tag such as "es" or "pt-BR"' }
  }
  if (title !== undefined && (typeof title !== 'string' || title.length > 200)) {
    return { field: '/title', message: 'must be a string of at most 200 characters' }
  }
  const parsed: CreateJobBody = { video_url, target_language }
  if (title !== undefined) parsed.title = title
  if (simulate !== undefined) {
    const checked = parseSimulate(simulate)
    if ('field' in checked) return checked
    parsed.simulate = checked
  }
  return parsed
}

function parseSimulate(value: unknown): NonNullable<CreateJobBody['simulate']> | Invalid {
  if (!isObject(value)) return { field: '/simulate', message: 'must be an object' }
  const { duration_ms, outcome } = value
  const out: NonNullable<CreateJobBody['simulate']> = {}
  if (duration_ms !== undefined) {
    if (
      typeof duration_ms !== 'number' ||
      !Number.isInteger(duration_ms) ||
      duration_ms < 0 ||
      duration_ms > MAX_SIMULATED_DURATION_MS
    ) {
      return {
        field: '/simulate/duration_ms',
        message: `must be a whole number of milliseconds from 0 to ${MAX_SIMULATED_DURATION_MS}`,
      }
    }
    out.duration_ms = duration_ms
  }
  if (outcome !== undefined) {
    if (outcome !== 'completed' && outcome !== 'error') {
      return { field: '/simulate/outcome', message: 'must be "completed" or "error"' }
    }
    out.outcome = outcome
  }
  return out
}
