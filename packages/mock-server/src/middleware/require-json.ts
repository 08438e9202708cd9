/**
 * Bodies must be JSON, uncompressed: anything else is a 415 before validation sees it; and UTF-8:
 * bytes that are not are a 400.
 */
import type { MiddlewareHandler } from 'hono'
import type { AppEnv } from '../env.js'
import { unsupportedMediaType, validationProblem } from './problem.js'

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

/**
 * Answers 400 to a POST or PUT whose body is not UTF-8 (RFC 8259): read as text, each bad byte
 * would become U+FFFD, and a job would be made of what the caller never sent. (Run on the routes
 * that read a body, after the body limit and the key.)
 */
export function requireUtf8(): MiddlewareHandler<AppEnv> {
  const decoder = new TextDecoder('utf-8', { fatal: true })
  return async function requireUtf8(c, next) {
    const { method } = c.req
    // A body is known by its length or its type (as in `requireJson`): a bare cancel is not one.
    const body =
      c.req.header('content-length') !== undefined ||
      c.req.header('transfer-encoding') !== undefined ||
      c.req.header('content-type') !== undefined
    if (body && (method === 'POST' || method === 'PUT')) {
      // Kept by hono for the validator, which reads the same bytes as JSON.
      const bytes = await c.req.arrayBuffer()
      try {
        decoder.decode(bytes)
      } catch {
        return validationProblem(c, 'body', [{ path: [], message: 'is not valid UTF-8' }])
      }
    }
    await next()
  }
}
