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

/** The request's context, as far as the checks below read it. */
type Request = Parameters<MiddlewareHandler<AppEnv>>[0]

/**
 * Whether a request comes with a body by its headers alone (touching the body stream would make
 * @hono/node-server build a full Request): a length, or chunks.
 */
function sendsBody(c: Request): boolean {
  const length = c.req.header('content-length')
  return (length !== undefined && length !== '0') || c.req.header('transfer-encoding') !== undefined
}

/** Whether it has a body to read: one it sends, or, in process, one its type declares. */
function hasBody(c: Request): boolean {
  return sendsBody(c) || c.req.header('content-type') !== undefined
}

/**
 * Answers 415 to a POST or PUT whose body is not declared as JSON, declared in another charset
 * than UTF-8 (it would be read as UTF-8, garbled), or is encoded (gzip...).
 */
export function requireJson(): MiddlewareHandler<AppEnv> {
  return async function requireJson(c, next) {
    const { method } = c.req
    if (method !== 'POST' && method !== 'PUT') return next()
    const type = c.req.header('content-type')
    if (sendsBody(c) && !JSON_TYPE.test(type ?? '')) return unsupportedMediaType(c)
    // A compressed body would read as broken JSON (a 400 blaming the caller's JSON), one in
    // another charset as garbled text. (A bare cancel has no body.)
    if (!hasBody(c)) return next()
    const coding = c.req.header('content-encoding')?.trim().toLowerCase()
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
 * would become U+FFFD, and a job would be made of what the caller never sent. (Run on the POST
 * and PUT routes that read a body, after the body limit and the key.)
 */
export function requireUtf8(): MiddlewareHandler<AppEnv> {
  const decoder = new TextDecoder('utf-8', { fatal: true })
  return async function requireUtf8(c, next) {
    if (hasBody(c)) {
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
