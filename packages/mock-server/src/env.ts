/** The hono environment shared by the app, its middleware and its routes. */

/** Variables every handler can read from the context. */
export type AppEnv = {
  Variables: {
    /** This request's id, sent back as `X-Request-Id` and in every problem body. */
    requestId: string
    /** The tenant of the API key that authenticated the request. Never sent back. */
    tenant: string
    /**
     * Headers middleware added for every response to this request, beyond the base ones (see
     * `middleware/response.ts`); unset when none were.
     */
    headers: Record<string, string> | undefined
    /** Hides the server's keys in text it sends back (an id or a field a caller filled with one). */
    redact: (text: string) => string
    /**
     * The simulation's clock (epoch ms): every answer's `Date` is read from it, so that a job's
     * `created_at` and the `Date` of an answer about it agree, in virtual time too.
     */
    now: () => number
  }
}
