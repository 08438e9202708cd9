/**
 * The original challenge's API, for clients written against it: `GET /status` answers
 * `{"result": "pending" | "completed" | "error"}` for one job, and `POST /set_completion_time`
 * restarts that job to finish after the given number of seconds. No key is needed, as there.
 */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi'
import type { AppEnv } from '../env.js'
import { sendJson } from '../middleware/response.js'
import { FAULTS, problemResponses } from '../schemas/problem.js'
import type { Simulator } from '../simulator/simulator.js'

const LegacyResult = z
  .object({ result: z.enum(['pending', 'completed', 'error']) })
  .openapi('LegacyStatus')

const status = createRoute({
  method: 'get',
  path: '/status',
  summary: 'Original challenge: the status of the one job',
  responses: {
    200: { description: 'The status.', content: { 'application/json': { schema: LegacyResult } } },
    ...problemResponses(429, ...FAULTS),
  },
})

const setCompletionTime = createRoute({
  method: 'post',
  path: '/set_completion_time',
  summary: 'Original challenge: restart the job to finish after `completion_time` seconds',
  request: {
    body: {
      required: true,
      content: {
        'application/json': {
          schema: z.strictObject({ completion_time: z.number().min(0).max(86_400) }),
        },
      },
    },
  },
  responses: {
    200: {
      description: 'Restarted.',
      content: {
        'application/json': {
          schema: z.object({ completion_time: z.number(), result: LegacyResult.shape.result }),
        },
      },
    },
    ...problemResponses(400, 415),
  },
})

/** The original challenge's three results: running counts as pending, canceled as error. */
function legacyResult(status: string): 'pending' | 'completed' | 'error' {
  if (status === 'completed') return 'completed'
  if (status === 'error' || status === 'canceled') return 'error'
  return 'pending'
}

/** A status changes: a cache revalidates it (as a job's answer says). */
const NOT_STORED = { 'cache-control': 'no-cache' }

/** Registers the compatibility routes on `app`. */
export function registerLegacyRoutes(app: OpenAPIHono<AppEnv>, simulator: Simulator): void {
  app.openapi(status, (c) =>
    sendJson(c, { result: legacyResult(simulator.legacyStatus()) }, 200, NOT_STORED),
  )

  app.openapi(setCompletionTime, (c) => {
    const { completion_time } = c.req.valid('json')
    simulator.setLegacyCompletionTime(completion_time)
    return sendJson(c, { completion_time, result: legacyResult(simulator.legacyStatus()) }, 200)
  })
}
