/** Bodies must be JSON, uncompressed: anything else is a 415 before validation sees it. */
import type { MiddlewareHandler } from 'hono'
import type { AppEnv } from '../env.js'
import { unsupportedMediaType } from './problem.js'

/** A JSON media type, its parameters (if any) each `name=value`: what the validators read as JSON. */
const JSON_TYPE = /^application\/(?:[\w.-]+\+)?json(?:;\s*[\w-]+=[^;]+)*$/i

/** A charset parameter: JSON is UTF-8 (RFC 8259), read so whatever another one says. */
const CHARSET = /;\s*charset=("?)([^;"]*)\1\s*(?:;|$)/i

/**
 * Answers 415 to a POST or PUT whose body is not declared as JSON, declared in another charset
 * than UTF-8 (it would be read as UTF-8, garbled), or is encoded (gzip...).
 */
export function requireJson(): MiddlewareHandler<AppEnv> {
  return async function requireJson(c, next) {
    const { method } = c.req
    // Headers only: touching the body stream would make @hono/node-server build a full Request.
    const length = c.req.header('content-length')
    const hasBody =
      (length !== undefined && length !== '0') || c.req.header('transfer-encoding') !== undefined
    if ((method === 'POST' || method === 'PUT') && hasBody) {
      if (!JSON_TYPE.test(c.req.header('content-type') ?? '')) return unsupportedMediaType(c)
    }
    // A compressed body would read as broken JSON (a 400 blaming the caller's JSON), one in
    // another charset as garbled text.
    // (A body is known by its length, or, in process, by its type: a bare cancel is not one.)
    const type = c.req.header('content-type')
    const coding = c.req.header('content-encoding')?.trim().toLowerCase()
    const body = hasBody || type !== undefined
    if (!body || (method !== 'POST' && method !== 'PUT')) return next()
    if (coding && coding !== 'identity') return unsupportedMediaType(c, 'encoded')
    const charset = type && CHARSET.exec(type)?.[2]?.toLowerCase()
    if (charset && charset !== 'utf-8' && charset !== 'utf8') {
      return unsupportedMediaType(c, 'charset')
    }
    await next()
  }
}
