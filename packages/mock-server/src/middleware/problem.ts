/**
 * RFC 9457 problem details: the one way this server reports an error, including unknown routes,
 * invalid input and its own bugs, so a client can always parse what went wrong.
 */
import type { Hook } from '@hono/zod-openapi'
import type { Context, ErrorHandler, NotFoundHandler } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import type { AppEnv } from '../env.js'
import { type HandBuiltResponse, send } from './response.js'

/** The media type of every error response. */
export const PROBLEM_CONTENT_TYPE = 'application/problem+json'

/** What a problem response says. */
export interface ProblemInit {
  status: ContentfulStatusCode
  /** Short slug naming the kind of problem, e.g. `validation`; becomes the `type` URN. */
  kind: string
  title: string
  detail: string
  /** Extension members, e.g. the invalid `field`. */
  extensions?: Record<string, unknown>
  headers?: Record<string, string>
}

/** A problem+json response. */
export function problem(c: Context<AppEnv>, init: ProblemInit): HandBuiltResponse {
  const body = {
    type: `urn:video-translation:problem:${init.kind}`,
    title: init.title,
    status: init.status,
    detail: init.detail,
    request_id: c.get('requestId'),
    ...init.extensions,
  }
  const headers: Record<string, string> = { 'content-type': PROBLEM_CONTENT_TYPE }
  // A detail may quote what the caller sent (an id, a field's name): never one of the keys.
  const text = JSON.stringify(body)
  return send(c, c.get('redact')?.(text) ?? text, init.status, Object.assign(headers, init.headers))
}

/** The 404 of a job id the tenant cannot see. */
export function jobNotFound(c: Context<AppEnv>, id: string): HandBuiltResponse {
  return problem(c, {
    status: 404,
    kind: 'job-not-found',
    title: 'Job not found',
    detail: `No job with id ${JSON.stringify(id)} for this API key.`,
  })
}

/** A 400 naming the first invalid field of `issues` as a JSON pointer. */
export function validationProblem(
  c: Context<AppEnv>,
  where: string,
  issues: readonly { path: readonly PropertyKey[]; message: string }[],
): HandBuiltResponse {
  const issue = issues[0]
  const path = issue?.path.map((part) => String(part).replaceAll('~', '~0').replaceAll('/', '~1'))
  const field = `/${path?.join('/') ?? ''}`
  return problem(c, {
    status: 400,
    kind: 'validation',
    title: `Invalid ${where}`,
    detail: `${where} ${field}: ${issue?.message ?? 'is invalid'}`,
    extensions: { field, in: where },
  })
}

const TARGET_NAMES: Record<string, string> = {
  json: 'body',
  query: 'query',
  param: 'path',
  header: 'header',
}

/** The zod-openapi hook: failed validation of any part of a request becomes a 400 problem. */
export const validationHook: Hook<unknown, AppEnv, string, unknown> = (result, c) => {
  if (!result.success) {
    const where = TARGET_NAMES[result.target] ?? result.target
    if (result.target !== 'json') return validationProblem(c, where, result.error.issues)
    // Not a field missing from a body: no body at all (read again from hono's cache).
    return c.req.text().then(
      (text) =>
        text.trim() === ''
          ? validationProblem(c, where, [{ path: [], message: 'a JSON object is required' }])
          : validationProblem(c, where, result.error.issues),
      () => validationProblem(c, where, result.error.issues),
    )
  }
}

/** Unknown routes answer 404 problem+json, not hono's plain text. */
export const notFoundProblem: NotFoundHandler<AppEnv> = (c) =>
  problem(c, {
    status: 404,
    kind: 'not-found',
    title: 'Not Found',
    detail: `No route for ${c.req.method} ${shownPath(c)}.`,
  })

/**
 * The request's path as a message shows it: decoded, so that a key written in it percent-encoded
 * is found and redacted as any other. Each run of escapes is decoded on its own: one that cannot
 * be (`%zz`, a byte that is not UTF-8) is shown as sent, and does not keep the rest encoded (a
 * key beside it was echoed).
 */
function shownPath(c: Context<AppEnv>): string {
  const { pathname } = new URL(c.req.url)
  return pathname.replace(/(?:%[0-9A-Fa-f]{2})+/g, (escapes) => {
    try {
      return decodeURIComponent(escapes)
    } catch {
      return escapes
    }
  })
}

/** A 405 for a path that exists, with the methods it takes in `Allow`. */
export function methodNotAllowed(c: Context<AppEnv>, allowed: readonly string[]): Response {
  return problem(c, {
    status: 405,
    kind: 'method-not-allowed',
    title: 'Method Not Allowed',
    detail: `${shownPath(c)} takes ${allowed.join(', ')}, not ${c.req.method}.`,
    headers: { allow: allowed.join(', ') },
  })
}

/** What a 415 refuses: a body not declared as JSON the validators can read, compressed, or not UTF-8. */
const UNSUPPORTED = {
  type: 'Send the body as JSON with Content-Type: application/json (parameters, if any, as name=value).',
  encoded: 'Send the body uncompressed: this server reads no Content-Encoding.',
  charset: 'Send the body as UTF-8 (RFC 8259), with no charset or charset=utf-8.',
}

/** A 415 for a body the server cannot read, saying why. */
export function unsupportedMediaType(
  c: Context<AppEnv>,
  why: keyof typeof UNSUPPORTED = 'type',
): HandBuiltResponse {
  return problem(c, {
    status: 415,
    kind: 'unsupported-media-type',
    title: 'Unsupported Media Type',
    detail: UNSUPPORTED[why],
    // RFC 9110 §12.5.3: the codings a body may come in.
    ...(why === 'encoded' && { headers: { 'accept-encoding': 'identity' } }),
  })
}

/** Errors thrown by middleware keep their status; anything else is a bug and says so. */
export const errorProblem: ErrorHandler<AppEnv> = (error, c) => {
  // A body that is not JSON at all is invalid input like any other: it names where.
  if (error instanceof HTTPException && error.status === 400 && /json/i.test(error.message)) {
    return validationProblem(c, 'body', [{ path: [], message: 'is not valid JSON' }])
  }
  // The validators' own refusal of a media type, said as requireJson says it.
  if (error instanceof HTTPException && error.status === 415) return unsupportedMediaType(c)
  if (error instanceof HTTPException) {
    return problem(c, {
      status: error.status,
      kind: error.status === 504 ? 'timeout' : 'http',
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

/** The answer to a client that went away: nobody reads it, and it must not count as a 5xx. */
export function clientGone(): Response {
  return new Response(null, { status: 499 })
}
