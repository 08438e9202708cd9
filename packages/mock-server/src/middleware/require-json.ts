/** Bodies must be JSON, uncompressed: anything else is a 415 before validation sees it. */
import type { MiddlewareHandler } from 'hono'
import type { AppEnv } from '../env.js'
import { unsupportedMediaType } from './problem.js'

/** A JSON media type, its parameters (if any) each `name=value`: what the validators read as JSON. */
const JSON_TYPE = /^application\/(?:[\w.-]+\+)?json(?:;\s*[\w-]+=[^;]+)*$/i

/** Answers 415 to a POST or PUT whose body is not declared as JSON, or is encoded (gzip...). */
export function requireJson(): MiddlewareHandler<AppEnv> {
  return async function requireJson(c, next) {
    const { method } = c.req
    // Headers only: touching the body stream would make @hono/node-server build a full Request.
    const length = c.req.header('content-length')
    const hasBody =
      (length !== undefined && length !== '0') || c.req.header('transfer-encoding') !== undefined
    if ((method === 'POST' || method === 'PUT') && hasBody) {
      if (!JSON_TYPE.test(c.req.header('content-type') ?? '')) {
        return unsupportedMediaType(c)
      }
    }
    // A compressed body would read as broken JSON (a 400 blaming the caller's JSON).
    // (A body is known by its length, or, in process, by its type: a bare cancel is not one.)
    const coding = c.req.header('content-encoding')?.trim().toLowerCase()
    const body = hasBody || c.req.header('content-type') !== undefined
    if (coding && coding !== 'identity' && body && (method === 'POST' || method === 'PUT')) {
      return unsupportedMediaType(c, true)
    }
    await next()
  }
}
