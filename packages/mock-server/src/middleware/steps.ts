/**
 * Steps: what runs around a route (the request preamble, authentication, rate limits, fault
 * injection) as plain functions of the request and the route, rather than as hono middleware.
 *
 * Why: hono answers a route that has a single handler by calling it directly, and when that
 * handler returns its response synchronously, @hono/node-server writes it on its fast path. One
 * middleware on the route makes both asynchronous, and that cost about 15 % of the hot route's
 * throughput (docs/mock-server-benchmarks.md). So `GET /v1/jobs/:id` runs its steps inline with
 * `chain`, and stays synchronous unless a step must wait; every other route gets the same steps
 * as middleware through `asMiddleware`.
 */
import type { Context, MiddlewareHandler } from 'hono'
import type { AppEnv } from '../env.js'

/** What a step wraps: the route, or the steps after it. */
export type Route = (c: Context<AppEnv>) => Response | Promise<Response>

/** Answers the request itself, or lets it through to `route` (and may change its response). */
export type Step = (c: Context<AppEnv>, route: Route) => Response | Promise<Response>

/** Lets a request through (`undefined`) or answers it. */
export type Check = (c: Context<AppEnv>) => Response | undefined

/** A step running `checks` in order: the first answer is the response, else the route runs. */
export function gate(checks: readonly Check[]): Step {
  return function gate(c, route) {
    for (const check of checks) {
      const answer = check(c)
      if (answer !== undefined) return answer
    }
    return route(c)
  }
}

/** One route handler running `steps` in order around `route`. */
export function chain(steps: readonly Step[], route: Route): Route {
  return steps.reduceRight<Route>((inner, step) => (c) => step(c, inner), route)
}

/** Steps as one hono middleware, for routes that have middleware anyway (validators). */
export function asMiddleware(...steps: Step[]): MiddlewareHandler<AppEnv> {
  return async function stepsMiddleware(c, next) {
    const route = chain(steps, async () => {
      await next()
      return c.res
    })
    const response = await route(c)
    if (response !== c.res) {
      // Replaces the response rather than merging the old one's headers into it.
      c.res = undefined
      c.res = response
    }
  }
}
