/**
 * The jobs resource: `client.jobs.*`. Each method is one call of wire protocol v1, with its
 * response validated into a typed Job.
 */
import { InvalidResponseError } from './errors.js'
import { type HttpConfig, type HttpResponse, send } from './http.js'
import { parseJob } from './parse.js'
import { randomId } from './random-id.js'
import type { CreateJobParams, Job } from './types.js'

/** Options every call accepts. */
export interface RequestOptions {
  /** Abort the call; it rejects with the signal's reason and sends nothing more. */
  signal?: AbortSignal
}

/** Options of `jobs.create`. */
export interface CreateJobOptions extends RequestOptions {
  /**
   * Makes the create safe to repeat: the server returns the same job for the same key and body.
   * @default a random UUID per call
   */
  idempotencyKey?: string
}

/** `client.jobs`: create and inspect video translation jobs. */
export class Jobs {
  readonly #http: HttpConfig

  constructor(http: HttpConfig) {
    this.#http = http
  }

  /**
   * Submits a job. Resolves as soon as the server has accepted it (status `pending`).
   * @example const job = await client.jobs.create({ video_url: 'https://example.com/a.mp4', target_language: 'es' })
   */
  async create(params: CreateJobParams, options: CreateJobOptions = {}): Promise<Job> {
    const response = await send(this.#http, {
      method: 'POST',
      path: '/v1/jobs',
      body: params,
      headers: { 'idempotency-key': options.idempotencyKey ?? randomId() },
      signal: options.signal,
    })
    return toJob('POST', '/v1/jobs', response)
  }

  /**
   * Fetches a job's current status once.
   * @example const { status, progress } = await client.jobs.get('job_123')
   */
  async get(id: string, options: RequestOptions = {}): Promise<Job> {
    const path = `/v1/jobs/${encodeURIComponent(id)}`
    const response = await send(this.#http, { method: 'GET', path, signal: options.signal })
    return toJob('GET', path, response)
  }
}

function toJob(method: string, path: string, response: HttpResponse): Job {
  const job = parseJob(response.data)
  if (typeof job === 'string') {
    throw new InvalidResponseError({
      request: { method, path },
      status: response.status,
      requestId: response.requestId,
      reason: job,
    })
  }
  return job
}
