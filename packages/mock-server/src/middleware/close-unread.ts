/**
 * An answer sent before the request's body was read (a 401, 413 or 415, or an injected fault, on
 * a request with a body) closes the connection. The unread rest of the body must not be taken
 * for the next request on a kept-alive socket, and a client still sending it must learn from
 * the answer, not from a socket reused under it.
 */
import type { MiddlewareHandler } from 'hono'
import type { AppEnv } from '../env.js'

/** Marks answers to requests whose body was not read `Connection: close`. */
export function closeUnreadBody(): MiddlewareHandler<AppEnv> {
  return async function closeUnreadBody(c, next) {
    await next()
    const length = c.req.header('content-length')
    const declared =
      (length !== undefined && length !== '0') || c.req.header('transfer-encoding') !== undefined
    if (!declared || c.req.raw.bodyUsed || c.res.headers.get('connection') === 'close') return
    try {
      c.res.headers.set('connection', 'close')
    } catch {
      // Immutable headers (a response made elsewhere): copy it.
      const response = new Response(c.res.body, c.res)
      response.headers.set('connection', 'close')
      c.res = undefined
      c.res = response
    }
  }
}
