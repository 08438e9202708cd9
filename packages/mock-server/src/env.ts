/** The hono environment shared by the app, its middleware and its routes. */

/** Variables every handler can read from the context. */
export type AppEnv = {
  Variables: {
    /** This request's id, sent back as `X-Request-Id` and in every problem body. */
    requestId: string
    /** The tenant of the API key that authenticated the request. Never sent back. */
    tenant: string
    /** Headers every response to this request carries (see `middleware/response.ts`). */
    headers: Record<string, string>
  }
}
