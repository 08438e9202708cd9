/**
 * What a response says of the server's rate limit: the IETF httpapi drafts' `RateLimit-Policy`
 * and `RateLimit` (both forms: `"default";q=100;w=2` / `100;w=2`, and `"default";r=42;t=1` /
 * `limit=100, remaining=42, reset=1`), the older `RateLimit-Limit`, `-Remaining`, `-Reset` (also
 * `X-RateLimit-*`), and when a 429 asks to come back. The pacer (pacing.ts) acts on it.
 */
import { retryAfterOf, serverTimeOf } from '../polling/hints.js'

/** The longest reset read (a day): past it, a misread unit rather than a window. */
const MAX_RESET_S = 86_400

/** What a response states of the limit, if it states one (see `readLimit`). */
export interface StatedLimit {
  quota: number
  /** The policy's window (s); undefined when only a reset is said (a fixed window's end). */
  windowS: number | undefined
  /** Seconds until the window resets, when said. */
  resetS: number | undefined
  remaining: number | undefined
}

/**
 * The limit a response states, if it states one: the IETF drafts (`RateLimit-Policy` with
 * `RateLimit`), or the older headers many servers send (`RateLimit-Limit`, `-Remaining`,
 * `-Reset`, also with an `X-` in front; a reset over 10^9 is an epoch time in seconds).
 */
export function readLimit(headers: Headers, now: number, older: boolean): StatedLimit | undefined {
  const policies = headers.get('ratelimit-policy') ?? ''
  // Without a policy, the other forms are read only while they may matter (`older`: the limit
  // is not yet known, or was stated so): each header read costs a fetch's answer about as much
  // as the rest of the request's handling, and most servers state no limit at all.
  if (!policies && !older) return undefined
  const { state, policy } = binding(headers.get('ratelimit') ?? '', policies)
  const own = (name: string) =>
    headers.get(`ratelimit-${name}`) ?? headers.get(`x-ratelimit-${name}`)
  const quota =
    firstNumber(field(policy, 'q'), /^\s*(\d+)/.exec(policy)?.[1], field(state, 'limit')) ??
    firstNumber(own('limit'))
  if (!(quota && quota > 0)) return undefined
  const windowS = Number(field(policy, 'w'))
  const resetS = resetOf(headers, now, state)
  if (!(windowS > 0 || (resetS && resetS > 0))) return undefined
  return {
    quota,
    windowS: windowS > 0 ? windowS : undefined,
    resetS,
    remaining: firstNumber(field(state, 'r|remaining')) ?? firstNumber(own('remaining')),
  }
}

/**
 * Of several policies listed (`"burst";r=9;t=1, "day";r=0;t=3600`), the one with least left
 * binds: its item of `RateLimit` (what is left, when it resets) and of `RateLimit-Policy` (by its
 * name: its quota and window). One policy, or the older form (`limit=100, remaining=42`), as is.
 */
function binding(state: string, policy: string): { state: string; policy: string } {
  const items = state.split(',')
  if (items.length < 2 || !items.every((item) => item.includes(';'))) return { state, policy }
  let least = items[0] as string
  for (const item of items) {
    if (Number(field(item, 'r')) < Number(field(least, 'r'))) least = item
  }
  const name = /^\s*("[^"]*"|[^;\s]+)/.exec(least)?.[1]
  const named = policy.split(',').find((item) => item.trim().startsWith(`${name};`))
  return { state: least, policy: named ?? policy }
}

/**
 * Seconds until the limit's window resets, when a response says (`RateLimit`'s `t` or `reset`,
 * `RateLimit-Reset`, `X-RateLimit-Reset`): from now, or an epoch time in seconds or milliseconds.
 */
function resetOf(
  headers: Headers,
  now: number,
  state = headers.get('ratelimit') ?? '',
): number | undefined {
  let resetS =
    firstNumber(field(state, 't|reset')) ??
    firstNumber(headers.get('ratelimit-reset') ?? headers.get('x-ratelimit-reset'))
  if (resetS === undefined) return undefined
  // An epoch time is read against the response's `Date` (the server's clock), as a `Retry-After` date is.
  if (resetS > 1e9) {
    const serverNow = serverTimeOf(headers) ?? now
    resetS = resetS > 1e12 ? (resetS - serverNow) / 1_000 : resetS - serverNow / 1_000
  }
  return Math.min(Math.max(0, resetS), MAX_RESET_S)
}

/** The value of `name` (alternatives with `|`) in a header's `key=value` list. */
function field(text: string, name: string): string | undefined {
  return new RegExp(`(?:^|[;,\\s])(?:${name})=(\\d+)`).exec(text)?.[1]
}

/** The first of `values` that is a number. */
function firstNumber(...values: (string | null | undefined)[]): number | undefined {
  for (const value of values) {
    const number = value == null || value.trim() === '' ? Number.NaN : Number(value)
    if (!Number.isNaN(number)) return number
  }
  return undefined
}

/**
 * How long a failed answer asks not to be asked again, in ms from `now` (an `ApiError`'s
 * `retryAfterMs`): its `Retry-After`, or for a 429, `refusalDelay`.
 */
export function askedDelay(status: number, headers: Headers, now: number): number | undefined {
  return status === 429 ? refusalDelay(headers, now) : retryAfterOf(headers, now)
}

/**
 * How long a 429 asks to wait, in ms from `now`: its `Retry-After`, else the end of the limit's
 * window when it states one; undefined when it says neither.
 */
export function refusalDelay(headers: Headers, now: number): number | undefined {
  const stated = retryAfterOf(headers, now)
  if (stated !== undefined) return stated
  const resetS = resetOf(headers, now)
  return resetS === undefined ? undefined : resetS * 1_000
}
