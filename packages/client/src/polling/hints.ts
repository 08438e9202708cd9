/** Reading the server's hints: `Retry-After` (RFC 9110: seconds or an HTTP-date) and `eta_ms`. */

/** What the server said about when to ask again. */
export interface ServerHints {
  /** From `Retry-After`, in ms; undefined when absent or malformed. */
  retryAfterMs?: number | undefined
  /** From the job's `eta_ms`; undefined when absent. */
  etaMs?: number | undefined
}

/** Parses a `Retry-After` value into milliseconds from `now`; malformed values are ignored. */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (value === null || value === undefined) return undefined
  const trimmed = value.trim()
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000
  if (!/^[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(trimmed))
    return undefined
  const date = Date.parse(trimmed)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now)
}

/** A response's `Retry-After`, in ms from now. */
export function retryAfterOf(headers: Headers): number | undefined {
  return parseRetryAfter(headers.get('retry-after'), Date.now())
}
