/** Response headers the OpenAPI document describes on several routes. */

const text = { type: 'string' as const }

/** Sent on every answer of a rate-limited route (IETF httpapi ratelimit-headers draft). */
export const rateLimitHeaders = {
  RateLimit: {
    schema: text,
    description: 'Where this key stands: `"default";r=<requests left>;t=<seconds until full>`.',
  },
  'RateLimit-Policy': {
    schema: text,
    description:
      'The limit: `"default";q=<requests>;w=<seconds>`, the refill rate as a quota per window, the quota never above the burst.',
  },
}

/** `Retry-After` in seconds, with what it means on this answer. */
export function retryAfterHeader(description: string) {
  return { 'Retry-After': { schema: text, description } }
}
