/**
 * API-key authentication: `Authorization: Bearer <key>` or `X-Api-Key: <key>`, compared in
 * constant time. Each key is a tenant; the admin key alone may change the simulation. A job's
 * event stream also takes the key as `?access_token=` (RFC 6750, 2.3), as a browser's
 * `EventSource` can send no header; nothing else does, so keys stay out of other URLs.
 */

import { problem } from './problem.js'
import type { Check } from './steps.js'

/** Compares a secret with a presented value in time that depends only on the secret's length. */
export function constantTimeEqual(secret: string, presented: string): boolean {
  let diff = secret.length ^ presented.length
  for (let i = 0; i < secret.length; i++) {
    diff |= secret.charCodeAt(i) ^ (presented.charCodeAt(i) | 0)
  }
  return diff === 0
}

/** The key a request presents, if any. */
export function presentedKey(authorization: string | undefined, apiKey: string | undefined) {
  const bearer = /^Bearer[ ]+([^\s]+)\s*$/i.exec(authorization ?? '')?.[1]
  return bearer ?? apiKey?.trim() ?? undefined
}

/** The configured key equal to `presented`; every key is compared, so timing reveals nothing. */
function matchKey(keys: readonly string[], presented: string | undefined): string | undefined {
  if (presented === undefined) return undefined
  let match: string | undefined
  for (const key of keys) if (constantTimeEqual(key, presented)) match = key
  return match
}

/** The route whose key may come in the query: a job's event stream. */
const EVENTS_PATH = /^\/v1\/jobs\/[^/]+\/events$/

const CHALLENGE = { 'www-authenticate': 'Bearer realm="video-translation"' }

/** Lets through requests with one of `keys`, setting the `tenant`; others get 401. */
export function apiKeyAuth({ keys }: { keys: readonly string[] }): Check {
  return function apiKeyAuth(c) {
    const fromQuery = EVENTS_PATH.test(c.req.path) ? c.req.query('access_token') : undefined
    const key = matchKey(
      keys,
      presentedKey(c.req.header('authorization'), c.req.header('x-api-key')) ?? fromQuery,
    )
    if (key === undefined) {
      return problem(c, {
        status: 401,
        kind: 'unauthorized',
        title: 'Unauthorized',
        detail:
          'Send a valid API key as "Authorization: Bearer <key>" or "X-Api-Key: <key>" (an event stream also takes "?access_token=<key>").',
        headers: CHALLENGE,
      })
    }
    c.set('tenant', key)
    return undefined
  }
}

/** Lets through the admin key only: 401 without a valid key, 403 with a tenant's key. */
export function adminAuth({
  adminKey,
  keys,
}: {
  adminKey: string
  keys: readonly string[]
}): Check {
  return function adminAuth(c) {
    const presented = presentedKey(c.req.header('authorization'), c.req.header('x-api-key'))
    if (matchKey([adminKey], presented) !== undefined) return undefined
    const known = matchKey(keys, presented) !== undefined
    return problem(c, {
      status: known ? 403 : 401,
      kind: known ? 'forbidden' : 'unauthorized',
      title: known ? 'Forbidden' : 'Unauthorized',
      detail: 'The simulation settings need the admin key.',
      ...(known ? {} : { headers: CHALLENGE }),
    })
  }
}
