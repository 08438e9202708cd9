/** The hono environment shared by the app, its middleware and its routes. */
import type { RequestIdVariables } from 'hono/request-id'

/** Variables every handler can read from the context. */
export type AppEnv = {
  Variables: RequestIdVariables & {
    /** The tenant of the API key that authenticated the request. Never sent back. */
    tenant: string
  }
}
