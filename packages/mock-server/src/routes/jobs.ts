/**
 * The jobs API: create (idempotent), get (ETag, long-poll), batch get and cancel.
 */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi'
import type { Context } from 'hono'
import type { AppEnv } from '../env.js'
import { clientGone, jobNotFound, problem, validationProblem } from '../middleware/problem.js'
import { sendJson } from '../middleware/response.js'
import { chain, type Step } from '../middleware/steps.js'
import { rateLimitHeaders, retryAfterHeader } from '../schemas/headers.js'
import {
  BatchQuery,
  BatchResponse,
  CreateJobBody,
  CreateJobHeaders,
  GetJobHeaders,
  GetJobQuery,
  Job,
  JobParams,
  MAX_WAIT_S,
} from '../schemas/job.js'
import { FAULTS, problemResponses } from '../schemas/problem.js'
import { retryAfterS, type Snapshot, TERMINAL } from '../simulator/lifecycle.js'
import type { Simulator } from '../simulator/simulator.js'
import { jobResponse, matchesEtag, serialize } from './respond.js'

const security = [{ bearer: [] }, { apiKey: [] }]
const jobContent = { 'application/json': { schema: Job } }
const hintHeaders = {
  ...retryAfterHeader('Seconds until the next poll is worth making (hint).'),
  ETag: { schema: { type: 'string' as const } },
  ...rateLimitHeaders,
}

/** Answers a `Prefer: wait` held. */
const preferenceApplied = {
  'Preference-Applied': {
    schema: { type: 'string' as const },
    description: '`wait=N` when a `Prefer: wait=N` was honoured.',
  },
}

const createJob = createRoute({
  method: 'post',
  path: '/v1/jobs',
  summary: 'Create a job',
  security,
  request: {
    headers: CreateJobHeaders,
    body: { required: true, content: { 'application/json': { schema: CreateJobBody } } },
  },
  responses: {
    202: {
      description: 'Accepted; `Location` names the job.',
      content: jobContent,
      headers: {
        ...hintHeaders,
        Location: { schema: { type: 'string' as const } },
        'Idempotent-Replayed': {
          schema: { type: 'string' as const },
          description:
            '`true` when an earlier create with the same `Idempotency-Key` made the job.',
        },
      },
    },
    ...problemResponses(400, 401, 413, 415, 422, 429, ...FAULTS),
  },
})

const getJob = createRoute({
  method: 'get',
  path: '/v1/jobs/{id}',
  summary: 'Get a job; optionally long-poll until its status changes',
  security,
  request: { params: JobParams, query: GetJobQuery, headers: GetJobHeaders },
  responses: {
    200: {
      description: 'The job.',
      content: jobContent,
      headers: { ...hintHeaders, ...preferenceApplied },
    },
    304: {
      description: 'Unchanged since the `If-None-Match` ETag.',
      headers: { ...hintHeaders, ...preferenceApplied },
    },
    ...problemResponses(400, 401, 404, 429, ...FAULTS),
  },
})

const batchJobs = createRoute({
  method: 'get',
  path: '/v1/jobs',
  summary: 'Get up to 100 jobs at once',
  security,
  request: { query: BatchQuery },
  responses: {
    200: {
      description: 'The jobs found, in the order asked, and the ids not found.',
      content: { 'application/json': { schema: BatchResponse } },
      headers: {
        ...retryAfterHeader('The soonest of the jobs’ hints (seconds).'),
        ...rateLimitHeaders,
      },
    },
    ...problemResponses(400, 401, 429, ...FAULTS),
  },
})

/** What a job's `callback_url` receives once it ends: documented, not served. */
const jobEnded = createRoute({
  method: 'post',
  path: 'job.ended',
  summary: 'Sent to the job’s `callback_url` when it ends',
  request: {
    headers: z.object({
      'webhook-signature': z.string().openapi({
        description:
          '`t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`; several `v1=` while a secret rotates.',
      }),
      'webhook-attempt': z.string().openapi({ description: 'The delivery attempt, from 1.' }),
    }),
    body: { required: true, content: { 'application/json': { schema: Job } } },
  },
  responses: {
    200: { description: 'Received (any 2xx); anything else is retried, up to 5 attempts.' },
  },
})

const cancelJob = createRoute({
  method: 'post',
  path: '/v1/jobs/{id}/cancel',
  summary: 'Cancel a job that has not finished',
  security,
  request: { params: JobParams },
  responses: {
    202: { description: 'Canceled.', content: jobContent, headers: rateLimitHeaders },
    ...problemResponses(400, 401, 404, 409, 413, 415, 429, ...FAULTS),
  },
})

/**
 * Registers the jobs routes on `app`, served from `simulator`. `GET /v1/jobs/:id` runs `steps`
 * (preamble, gate, faults) inline; the app gives the other routes the same steps as middleware.
 */
export function registerJobRoutes(
  app: OpenAPIHono<AppEnv>,
  simulator: Simulator,
  steps: readonly Step[],
): void {
  app.openapi(createJob, (c) => {
    const body = c.req.valid('json')
    const key = c.req.valid('header')['idempotency-key']
    const result = simulator.createJob(c.get('tenant'), body, key)
    if (result.kind === 'conflict') {
      return problem(c, {
        status: 422,
        kind: 'idempotency-conflict',
        title: 'Idempotency key reused',
        detail: `The Idempotency-Key was first used with another body (job ${result.jobId}); use a new key for a new job.`,
      })
    }
    const { id } = result.snapshot.view
    const headers: Record<string, string> = { location: `/v1/jobs/${id}` }
    if (result.kind === 'replayed') headers['idempotent-replayed'] = 'true'
    return jobResponse(c, result.snapshot, simulator.clock.now(), 202, undefined, headers)
  })

  // The hot path: documented from its route, validated inline with the same schemas (one pass
  // instead of three validator middlewares), answered synchronously unless it long-polls.
  app.openAPIRegistry.registerWebhook(jobEnded)
  app.openAPIRegistry.registerPath(getJob)
  app.get('/v1/jobs/:id', chain(steps, getJobRoute))

  function getJobRoute(c: Context<AppEnv>): Response | Promise<Response> {
    const params = JobParams.safeParse({ id: c.req.param('id') })
    if (!params.success) return validationProblem(c, 'path', params.error.issues)
    const query = GetJobQuery.safeParse({ wait: c.req.query('wait'), until: c.req.query('until') })
    if (!query.success) return validationProblem(c, 'query', query.error.issues)
    const headers = GetJobHeaders.safeParse({
      prefer: c.req.header('prefer'),
      'if-none-match': c.req.header('if-none-match'),
    })
    if (!headers.success) return validationProblem(c, 'header', headers.error.issues)
    const { id } = params.data
    const { wait, until } = query.data
    const { prefer, 'if-none-match': ifNoneMatch } = headers.data
    const job = simulator.getJob(c.get('tenant'), id)
    if (job === undefined) return jobNotFound(c, id)
    const waitS = Math.min(MAX_WAIT_S, wait ?? preferredWait(prefer))
    const preferred =
      wait === undefined && waitS > 0 ? { 'preference-applied': `wait=${waitS}` } : undefined
    // A stale ETag ends a hold at once, unless only the job's end was asked for.
    const endOnly = until === 'terminal'
    const behind =
      !endOnly && ifNoneMatch !== undefined && !matchesEtag(ifNoneMatch, serialize(job).etag)
    if (waitS === 0 || behind) {
      return jobResponse(c, job, simulator.clock.now(), 200, ifNoneMatch, preferred)
    }
    return longPoll(c, job, waitS, endOnly).then((latest) =>
      latest instanceof Response
        ? latest
        : jobResponse(c, latest, simulator.clock.now(), 200, ifNoneMatch, preferred),
    )
  }

  /**
   * The job once its status changes (`endOnly`: once it ends), or as it is after `waitS`; a
   * response if it cannot be.
   */
  async function longPoll(
    c: Context<AppEnv>,
    first: Snapshot,
    waitS: number,
    endOnly: boolean,
  ): Promise<Snapshot | Response> {
    const { id } = first.view
    const from = first.view.status
    const deadline = simulator.clock.now() + waitS * 1000
    const holding = (status: Snapshot['view']['status']) =>
      !TERMINAL.has(status) && (endOnly || status === from)
    let job = first
    try {
      while (holding(job.view.status) && simulator.clock.now() < deadline) {
        const until = Math.min(job.nextStatusChangeAt ?? deadline, deadline)
        await simulator.waitForChange(id, until, c.req.raw.signal)
        const latest = simulator.getJob(c.get('tenant'), id)
        if (latest === undefined) return jobNotFound(c, id)
        job = latest
      }
    } catch {
      return clientGone()
    }
    return job
  }

  app.openapi(batchJobs, (c) => {
    const { ids } = c.req.valid('query')
    const { jobs, missing } = simulator.getJobs(c.get('tenant'), ids)
    const now = simulator.clock.now()
    const hints = jobs.map((job) => retryAfterS(job, now)).filter((s): s is number => s !== null)
    // Statuses change: a cache revalidates them (as a job's own answer says).
    const extra: Record<string, string> = { 'cache-control': 'no-cache' }
    if (hints.length > 0) extra['retry-after'] = String(Math.min(...hints))
    const named = missing.map(c.get('redact'))
    return sendJson(c, { jobs: jobs.map((job) => job.view), missing: named }, 200, extra)
  })

  app.openapi(cancelJob, (c) => {
    const { id } = c.req.valid('param')
    const result = simulator.cancelJob(c.get('tenant'), id)
    if (result.kind === 'not-found') return jobNotFound(c, id)
    if (result.kind === 'terminal') {
      return problem(c, {
        status: 409,
        kind: 'job-terminal',
        title: 'Job already finished',
        detail: `Job ${id} is already ${result.snapshot.view.status}; a finished job cannot be canceled.`,
        extensions: { job_status: result.snapshot.view.status },
      })
    }
    return jobResponse(c, result.snapshot, simulator.clock.now(), 202)
  })
}

/** The long-poll wait of an RFC 7240 `Prefer: wait=N` header, in seconds (0 when absent). */
export function preferredWait(prefer: string | undefined): number {
  // A preference the server cannot read (`wait=1e309`, `wait=soon`) is ignored (RFC 7240); a
  // long one is held as long as the server holds (the caller caps it).
  const match = /(?:^|[,;\s])wait\s*=\s*(?:(\d+)|"(\d+)")\s*(?:[,;]|$)/i.exec(prefer ?? '')
  const seconds = match?.[1] ?? match?.[2]
  return seconds === undefined ? 0 : Number(seconds)
}
