/**
 * The jobs API: `POST /v1/jobs` and `GET /v1/jobs/:id`.
 */
import { Hono } from 'hono'
import type { AppEnv } from '../env.js'
import { problem } from '../middleware/problem.js'
import { parseCreateJobBody } from '../schemas.js'
import type { Simulator } from '../simulator/simulator.js'

/** Routes of `/v1/jobs`, served from `simulator`. */
export function jobRoutes(simulator: Simulator): Hono<AppEnv> {
  const routes = new Hono<AppEnv>()

  routes.post('/', async (c) => {
    if (!/^application\/(?:[\w.+-]+\+)?json\b/i.test(c.req.header('content-type') ?? '')) {
      return problem(c, {
        status: 415,
        kind: 'unsupported-media-type',
        title: 'Unsupported Media Type',
        detail: 'Send the job as JSON with Content-Type: application/json.',
      })
    }
    let body: unknown
    try {
      body = await c.req.json()
    } catch {
      return problem(c, {
        status: 400,
        kind: 'malformed-json',
        title: 'Malformed JSON',
        detail: 'The request body is not valid JSON.',
      })
    }
    const parsed = parseCreateJobBody(body)
    if ('field' in parsed) {
      return problem(c, {
        status: 400,
        kind: 'validation',
        title: 'Invalid request body',
        detail: `${parsed.field}: ${parsed.message}`,
        extensions: { field: parsed.field },
      })
    }
    const job = simulator.createJob(parsed)
    c.header('Location', `/v1/jobs/${job.id}`)
    setRetryAfter(c.header.bind(c), job.eta_ms)
    return c.json(job, 202)
  })

  routes.get('/:id', (c) => {
    const id = c.req.param('id')
    const job = simulator.getJob(id)
    if (job === undefined) {
      return problem(c, {
        status: 404,
        kind: 'job-not-found',
        title: 'Job not found',
        detail: `No job with id ${JSON.stringify(id)}.`,
      })
    }
    setRetryAfter(c.header.bind(c), job.eta_ms)
    return c.json(job, 200)
  })

  return routes
}

/** The server's hint for the next poll: the ETA in whole seconds, within [1, 60]. */
function setRetryAfter(setHeader: (name: string, value: string) => void, etaMs: number | null) {
  if (etaMs === null) return
  setHeader('Retry-After', String(Math.min(60, Math.max(1, Math.ceil(etaMs / 1000)))))
}
