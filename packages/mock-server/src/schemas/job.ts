/**
 * Schemas of the jobs API (protocol v1): the one source for request validation and for the
 * OpenAPI document.
 */
import { z } from '@hono/zod-openapi'

/** The longest simulated duration a job may ask for: one day. */
export const MAX_DURATION_MS = 86_400_000

/** At most this many ids in one batch request. */
export const MAX_BATCH_IDS = 100

/** The longest a long-poll may hold, in seconds. */
export const MAX_WAIT_S = 60

const LANGUAGE_TAG = /^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$/
const JOB_ID = /^[A-Za-z0-9_-]{1,64}$/

const httpUrl = (max: number) =>
  z
    .string()
    .max(max)
    .refine(isHttpUrl, { message: 'must be an http or https URL' })
    .openapi({ format: 'uri' })

function isHttpUrl(value: string): boolean {
  try {
    const { protocol } = new URL(value)
    return protocol === 'http:' || protocol === 'https:'
  } catch {
    return false
  }
}

/** Whether a URL holds no user name or password (as the URL parser reads it). */
function withoutCredentials(value: string): boolean {
  try {
    const { username, password } = new URL(value)
    return username === '' && password === ''
  } catch {
    return true
  }
}

/** A job id as it may appear in a path or a batch. */
export const JobId = z
  .string()
  .regex(JOB_ID, 'must be 1 to 64 letters, digits, "_" or "-"')
  .openapi({ example: 'job_019b7e5c2a000f3a9c2b7d1e4a65' })

/** Where a job is in its life. */
export const JobStatus = z
  .enum(['pending', 'running', 'completed', 'error', 'canceled'])
  .openapi('JobStatus')

/** A job as the server reports it. */
export const Job = z
  .object({
    id: JobId,
    status: JobStatus,
    progress: z.number().min(0).max(1),
    eta_ms: z
      .int()
      .min(0)
      .nullable()
      .openapi({ description: 'Estimated ms left; null without hints or when terminal.' }),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
    video_url: z.string(),
    target_language: z.string(),
    title: z.string().nullable(),
    result: z.object({ url: z.string() }).nullable(),
    error: z.object({ code: z.string(), message: z.string() }).nullable(),
  })
  .openapi('Job')

/** The body of `POST /v1/jobs`. */
export const CreateJobBody = z
  .strictObject({
    video_url: httpUrl(2048),
    target_language: z
      .string()
      .regex(LANGUAGE_TAG, 'must be a language tag such as "es" or "pt-BR"'),
    title: z.string().max(200).nullable().optional(),
    // A URL with a user and password cannot be fetched (nor kept in the webhook log).
    callback_url: httpUrl(2048)
      .refine(withoutCredentials, { message: 'must not hold a user name or password' })
      .optional(),
    simulate: z
      .strictObject({
        duration_ms: z.int().min(0).max(MAX_DURATION_MS).optional(),
        outcome: z.enum(['completed', 'error']).optional(),
      })
      .optional()
      .openapi({ description: 'Mock server only: force the duration and outcome of this job.' }),
  })
  .openapi('CreateJobBody')

/** A validated create body. */
export type CreateJobBody = z.infer<typeof CreateJobBody>

/** Headers of `POST /v1/jobs`. */
export const CreateJobHeaders = z.object({
  'idempotency-key': z
    .string()
    .regex(/^[\x21-\x7e]{1,255}$/, 'must be 1 to 255 visible ASCII characters')
    .optional()
    .openapi({ description: 'Retrying with the same key and body returns the same job.' }),
})

/** Path parameters naming one job. */
export const JobParams = z.object({ id: JobId.openapi({ param: { name: 'id', in: 'path' } }) })

/** Query of `GET /v1/jobs/:id`. */
export const GetJobQuery = z.object({
  // Digits only: `Number()` would read '' as 0 and '0x10' as 16.
  wait: z
    .string()
    .regex(/^\d+$/, 'must be a whole number of seconds')
    .transform(Number)
    .pipe(z.number().max(MAX_WAIT_S))
    .optional()
    .openapi({
      type: 'integer',
      minimum: 0,
      maximum: MAX_WAIT_S,
      description: `Long-poll: hold up to this many seconds (max ${MAX_WAIT_S}) until the status changes.`,
    }),
  until: z.enum(['change', 'terminal']).optional().openapi({
    description:
      'With `wait`: what ends the hold. `change` (the default): any status change, or an `If-None-Match` already stale. `terminal`: only the job ending (a client that waits for the end alone, so one request covers a job shorter than the hold).',
  }),
})

/** Headers of `GET /v1/jobs/:id`. */
export const GetJobHeaders = z.object({
  // Bounded by the server's header limit (431) alone: a long list is still a valid header.
  prefer: z
    .string()
    .optional()
    .openapi({ description: 'RFC 7240 `wait=N`: the same as `?wait=N`.' }),
  'if-none-match': z.string().optional(),
})

/** Query of `GET /v1/jobs` (batch status). */
export const BatchQuery = z.object({
  ids: z
    .string()
    // A bound on the text alone (what Node's 16 KiB of headers would let through): the ids
    // named, duplicates and empty entries dropped, are counted below.
    .max(16_384)
    .transform((value) => [...new Set(value.split(',').filter((id) => id !== ''))])
    .pipe(
      z
        .array(JobId)
        .min(1, 'must name at least one id')
        .max(MAX_BATCH_IDS, `must name at most ${MAX_BATCH_IDS} ids`),
    )
    .openapi({ type: 'string', description: `Comma-separated job ids, at most ${MAX_BATCH_IDS}.` }),
})

/** The answer of a batch status request. */
export const BatchResponse = z
  .object({ jobs: z.array(Job), missing: z.array(z.string()) })
  .openapi('BatchJobs')
