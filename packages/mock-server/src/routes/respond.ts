/** Writing a job to the wire: body, ETag, hint headers, and 304 for a matching `If-None-Match`. */
import type { Context } from 'hono'
import type { AppEnv } from '../env.js'
import { type HandBuiltResponse, send } from '../middleware/response.js'
import { retryAfterS, type Snapshot } from '../simulator/lifecycle.js'

/** A strong ETag for a body: FNV-1a, 32 bits, base 36. */
export function etagOf(body: string): string {
  let hash = 0x811c9dc5
  for (let i = 0; i < body.length; i++) {
    hash ^= body.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193)
  }
  return `"${(hash >>> 0).toString(36)}"`
}

/** Whether an `If-None-Match` value names `etag` (or is `*`). */
export function matchesEtag(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false
  return ifNoneMatch
    .split(',')
    .map((tag) => tag.trim().replace(/^W\//, ''))
    .some((tag) => tag === etag || tag === '*')
}

/** Each snapshot's body and ETag, computed once: a snapshot is reused while its job is unchanged. */
const SERIALIZED = new WeakMap<Snapshot, { body: string; etag: string }>()

/** The JSON body of a job and its ETag. */
export function serialize(job: Snapshot): { body: string; etag: string } {
  let serialized = SERIALIZED.get(job)
  if (serialized === undefined) {
    const body = JSON.stringify(job.view)
    serialized = { body, etag: etagOf(body) }
    SERIALIZED.set(job, serialized)
  }
  return serialized
}

/**
 * The job as a response at `now` (the simulation's clock): 200 (or `status`), or 304 when the
 * caller already has this version.
 */
export function jobResponse(
  c: Context<AppEnv>,
  job: Snapshot,
  now: number,
  status: 200 | 202,
  ifNoneMatch?: string,
  headers?: Record<string, string>,
): HandBuiltResponse {
  const { body, etag } = serialize(job)
  const extra: Record<string, string> = { etag, 'cache-control': 'no-cache' }
  const hint = retryAfterS(job, now)
  if (hint !== null) extra['retry-after'] = String(hint)
  if (headers !== undefined) Object.assign(extra, headers)
  if (status === 200 && matchesEtag(ifNoneMatch, etag)) return send(c, null, 304, extra)
  extra['content-type'] = 'application/json'
  return send(c, body, status, extra)
}
