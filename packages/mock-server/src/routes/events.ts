/**
 * Server-Sent Events of one job: `event: status`, `id: <version>`, `data: <Job>` on every change
 * (status and progress), a comment every 15 s so proxies keep the stream open, and the end of the
 * stream after a terminal status. `Last-Event-ID` resumes: only newer versions are sent, and a
 * reconnect after the end with nothing newer gets 204 No Content. Streams start with `retry:`.
 * `?until=terminal` (a client that waits for the end alone): the job as it is, then its end only,
 * not every progress step (a running job's every half second: 200 such streams filled a
 * 1 Mbit/s link).
 */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi'
import { streamSSE } from 'hono/streaming'
import type { AppEnv } from '../env.js'
import { jobNotFound } from '../middleware/problem.js'
import { responseHeaders } from '../middleware/response.js'
import { JobParams } from '../schemas/job.js'
import { FAULTS, problemResponses } from '../schemas/problem.js'
import { TERMINAL } from '../simulator/lifecycle.js'
import type { Simulator } from '../simulator/simulator.js'

/** How often an idle stream sends a keep-alive comment. */
export const HEARTBEAT_MS = 15_000

/** The `retry:` a stream starts with: reconnect after 3 s. */
export const RECONNECT_MS = 3_000

const jobEvents = createRoute({
  method: 'get',
  path: '/v1/jobs/{id}/events',
  summary: 'Stream a job’s changes as Server-Sent Events',
  security: [{ bearer: [] }, { apiKey: [] }],
  request: {
    params: JobParams,
    query: z.object({
      access_token: z.string().optional().openapi({
        description:
          'The API key, for clients that cannot send headers (a browser EventSource). It lands in URLs and logs: prefer the header wherever one can be sent.',
      }),
      until: z.enum(['terminal']).optional().openapi({
        description:
          '`terminal`: the job as it is, then its end alone (no event for each progress step or status before it), for a client that waits for the end. Keep-alives as ever.',
      }),
    }),
    headers: z.object({
      'last-event-id': z
        .string()
        .regex(/^\d*$/, 'must be an event id of this stream: a number')
        .optional(),
    }),
  },
  responses: {
    200: {
      description:
        '`retry:`, then `event: status` with the Job as `data` on every change; ends after a terminal status.',
      content: { 'text/event-stream': { schema: z.string() } },
    },
    204: {
      description:
        'The job has ended and `Last-Event-ID` leaves nothing newer: a standard EventSource stops.',
    },
    ...problemResponses(400, 401, 404, 429, ...FAULTS),
  },
})

/** Registers the events route on `app`. */
export function registerEventRoutes(app: OpenAPIHono<AppEnv>, simulator: Simulator): void {
  app.openapi(jobEvents, (c) => {
    const { id } = c.req.valid('param')
    const endOnly = c.req.valid('query').until === 'terminal'
    const tenant = c.get('tenant')
    const first = simulator.getJob(tenant, id)
    if (first === undefined) return jobNotFound(c, id)
    // An id past the job's own (another job's stream, a server started over) is not one this
    // job's stream sent: the stream starts from the job as it is, so its end is never missed.
    // An empty one is none.
    const claimed = Number(c.req.valid('header')['last-event-id'] || 0)
    const lastEventId = claimed > first.version ? 0 : claimed
    for (const [name, value] of Object.entries(responseHeaders(c))) c.header(name, value)
    // A reconnect after the end with nothing newer: 204 tells a standard EventSource to stop
    // (WHATWG), where an empty stream would have it reconnect forever.
    if (TERMINAL.has(first.view.status) && first.version <= lastEventId) return c.body(null, 204)
    const signal = c.req.raw.signal
    return streamSSE(c, async (stream) => {
      let job = first
      let sent = lastEventId
      // How long a client waits before reconnecting after a dropped stream.
      await stream.write(`retry: ${RECONNECT_MS}\n\n`)
      let wroteAt = simulator.clock.now()
      while (!stream.aborted && !stream.closed) {
        // For the end alone: the job as it is first, then nothing before its end.
        const wanted = !endOnly || job === first || TERMINAL.has(job.view.status)
        if (job.version > sent && wanted) {
          await stream.writeSSE({
            event: 'status',
            id: String(job.version),
            data: JSON.stringify(job.view),
          })
          sent = job.version
          wroteAt = simulator.clock.now()
        }
        if (TERMINAL.has(job.view.status)) break
        const heartbeatAt = wroteAt + HEARTBEAT_MS
        const changeAt = (endOnly ? job.nextStatusChangeAt : job.nextChangeAt) ?? heartbeatAt
        try {
          await simulator.waitForChange(id, Math.min(changeAt, heartbeatAt), signal)
        } catch {
          break
        }
        const next = simulator.getJob(tenant, id)
        if (next === undefined) break
        // Nothing written for a while: a comment, so proxies keep the stream open.
        if (simulator.clock.now() >= heartbeatAt) {
          await stream.write(': keep-alive\n\n')
          wroteAt = simulator.clock.now()
        }
        job = next
      }
    })
  })
}
