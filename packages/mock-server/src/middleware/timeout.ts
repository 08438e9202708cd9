/**
 * A time limit on every request, so nothing holds a connection forever: long-polls get their
 * wait on top of it, event streams (which end with their job) are exempt.
 */
import type { MiddlewareHandler } from 'hono'
import { HTTPException } from 'hono/http-exception'
import { timeout } from 'hono/timeout'
import type { AppEnv } from '../env.js'
import { MAX_WAIT_S } from '../schemas/job.js'

/** Fails a request that runs past `ms` (plus its long-poll wait) with a 504 problem. */
export function requestTimeout({ ms }: { ms: number }): MiddlewareHandler<AppEnv> {
  const limits = new Map<number, MiddlewareHandler>()
  const limitFor = (total: number) => {
    let limit = limits.get(total)
    if (!limit) {
      const exception = new HTTPException(504, {
        message: `The request took longer than ${total} ms.`,
      })
      limit = timeout(total, exception)
      limits.set(total, limit)
    }
    return limit
  }
  return async function requestTimeout(c, next) {
    if (c.req.path.endsWith('/events')) return next()
    const wait = Math.min(
      MAX_WAIT_S,
      Math.max(0, waitSeconds(c.req.query('wait'), c.req.header('prefer'))),
    )
    return limitFor(ms + wait * 1000)(c, next)
  }
}

/** The long-poll wait a request asks for, from `?wait=N` or `Prefer: wait=N` (RFC 7240). */
export function waitSeconds(query: string | undefined, prefer: string | undefined): number {
  if (query !== undefined) return Number.isFinite(Number(query)) ? Number(query) : 0
  const match = /(?:^|[,;\s])wait\s*=\s*"?(\d{1,6})"?/i.exec(prefer ?? '')
  return match?.[1] === undefined ? 0 : Number(match[1])
}
