/**
 * RFC 9457 problem details: the one way this server reports an error, including unknown routes
 * and its own bugs, so a client can always parse what went wrong.
 */
import type { Context, ErrorHandler, NotFoundHandler } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import type { AppEnv } from '../env.js'

/** The media type of every error response. */
export const PROBLEM_CONTENT_TYPE = 'application/problem+json'

/** Fields of a problem body beyond `type`, `title`, `status` and `request_id`. */
export interface ProblemInit {
  status: ContentfulStatusCode
  /** Short slug naming the kind of problem, e.g. `validation`; becomes the `type` URN. */
  kind: string
  title: string
  detail: string
  /** Extension members, e.g. the invalid field. */
  extensions?: Record<string, unknown>
}

/** A problem+json response. */
export function problem(c: Context<AppEnv>, init: ProblemInit): Response {
  const body = {
    type: `urn:video-translation:problem:${init.kind}`,
    title: init.title,
    status: init.status,
    detail: init.detail,
    request_id: c.get('requestId'),
    ...init.extensions,
  }
  return c.body(JSON.stringify(body), init.status, { 'content-type': PROBLEM_CONTENT_TYPE })
}

/** Unknown routes answer 404 problem+json, not hono's plain text. */
export const notFoundProblem: NotFoundHandler<AppEnv> = (c) =>
  problem(c, {
    status: 404,
    kind: 'not-found',
    title: 'Not Found',
    detail: `No route for ${c.req.method} ${new URL(c.req.url).pathname}.`,
  })

/** Errors thrown by middleware keep their status; anything else is a bug and says so. */
export const errorProblem: ErrorHandler<AppEnv> = (error, c) => {
  if (error instanceof HTTPException) {
    return problem(c, {
      status: error.status,
      kind: 'http',
      title: error.message || 'Request failed',
      detail: error.message || `HTTP ${error.status}`,
    })
  }
  return problem(c, {
    status: 500,
    kind: 'internal',
    title: 'Internal Server Error',
    detail: 'The mock server failed unexpectedly; this is a bug in the mock server.',
  })
}
