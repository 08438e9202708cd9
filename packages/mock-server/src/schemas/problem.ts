/** The RFC 9457 problem details schema, the body of every error response. */
import { z } from '@hono/zod-openapi'
import { rateLimitHeaders, retryAfterHeader } from './headers.js'

/** An error response body. */
export const Problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.int(),
    detail: z.string(),
    request_id: z.string(),
    field: z.string().optional().openapi({ description: 'The invalid input, as a JSON pointer.' }),
    in: z
      .enum(['body', 'query', 'header', 'path'])
      .optional()
      .openapi({ description: 'Where the invalid input is (with `field`).' }),
    job_status: z
      .string()
      .optional()
      .openapi({ description: 'The status of a job already terminal (409 on cancel).' }),
  })
  .openapi('Problem')

/** Responses every route may give, as OpenAPI response objects. */
export function problemResponses<const Codes extends readonly number[]>(...codes: Codes) {
  const content = { 'application/problem+json': { schema: Problem } }
  // A 429 says when to come back, and where the key stands.
  const limited = {
    ...retryAfterHeader('Seconds until a request would be allowed.'),
    ...rateLimitHeaders,
  }
  return Object.fromEntries(
    codes.map((code) => [
      code,
      {
        description: PROBLEM_DESCRIPTIONS[code] ?? 'Error',
        content,
        ...(code === 429 && { headers: limited }),
        ...(code === 503 && { headers: retryAfterHeader('Seconds until the server is back.') }),
      },
    ]),
  ) as { [K in Codes[number]]: { description: string; content: typeof content } }
}

const PROBLEM_DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid input; `field` names it.',
  401: 'Missing or unknown API key.',
  403: 'The key may not do this.',
  404: 'No such job for this key.',
  409: 'The job is already terminal.',
  413: 'The body is too large.',
  415: 'The body is not JSON.',
  422: 'The idempotency key was used with another body.',
  429: 'Rate limited; see Retry-After.',
  500: 'A fault injected by the simulation (`faults.rate_500`).',
  503: 'A fault injected by the simulation (`faults.rate_503`); see Retry-After.',
  504: 'No answer within the server’s time limit (`faults.rate_hang`, or latency past it).',
}

/** The statuses the simulation's faults answer with on the routes they apply to. */
export const FAULTS = [500, 503, 504] as const
