/**
 * Fault injection: adds the configured latency, then, by the configured rates, answers with a
 * 500, 503 or 429, answers late, never answers, cuts the connection mid-body, or sends a broken
 * body. Draws come from the seeded PRNG, so a run's faults are reproducible.
 */
import type { Context } from 'hono'
import type { AppEnv } from '../env.js'
import { sleep } from '../simulator/clock.js'
import type { FaultKind, Simulator } from '../simulator/simulator.js'
import { clientGone, problem } from './problem.js'
import type { Route, Step } from './steps.js'

/**
 * Injects the simulator's faults. `timeoutMs` is the server's time limit: a hung request, or one
 * whose latency would pass it, gets a 504 once it is reached.
 */
export function faults({
  simulator,
  timeoutMs,
}: {
  simulator: Simulator
  timeoutMs: number
}): Step {
  return function faults(c, route) {
    const fault = simulator.drawFault()
    const latency =
      simulator.drawLatency() + (fault === 'slow' ? simulator.settings.faults.slow_ms : 0)
    const wait = fault === 'hang' ? timeoutMs : Math.min(latency, timeoutMs)
    // Nothing to inject: the route runs as if this step were not there.
    if (fault === null && wait === 0) return route(c)
    return inject(c, route, fault, wait)
  }

  async function inject(
    c: Context<AppEnv>,
    route: Route,
    fault: FaultKind | null,
    wait: number,
  ): Promise<Response> {
    if (wait > 0) {
      try {
        // Read the signal only when waiting: it makes @hono/node-server build a full Request.
        await sleep(simulator.clock, wait, c.req.raw.signal)
      } catch {
        return clientGone()
      }
      if (wait >= timeoutMs) {
        return injected(c, 504, 'Gateway Timeout', `no answer within ${timeoutMs} ms`)
      }
    }
    const retryAfter = { 'retry-after': String(simulator.settings.faults.retry_after_s) }
    switch (fault) {
      case '500':
        return injected(c, 500, 'Internal Server Error', 'an injected server error')
      case '503':
        return injected(c, 503, 'Service Unavailable', 'an injected outage', retryAfter)
      case '429':
        return injected(c, 429, 'Too Many Requests', 'an injected rate limit', retryAfter)
    }
    const response = await route(c)
    // A 204 or 304 has no body to break (a type or half a body on one is not HTTP).
    const bodyless = response.status === 204 || response.status === 304
    if (fault === null || fault === 'slow' || fault === 'hang' || bodyless || isStream(response)) {
      return response
    }
    return breakBody(response, fault, nodeSocket(c.env))
  }
}

function injected(
  c: Context<AppEnv>,
  status: 429 | 500 | 503 | 504,
  title: string,
  what: string,
  headers: Record<string, string> = {},
): Response {
  return problem(c, {
    status,
    kind: 'injected-fault',
    title,
    detail: `Fault injection: ${what}. Turn it off with PUT /v1/simulation.`,
    headers,
  })
}

function isStream(response: Response): boolean {
  return (response.headers.get('content-type') ?? '').startsWith('text/event-stream')
}

/** What a reset needs of a Node socket: to write (nothing: a flush) and to be destroyed. */
interface NodeSocket {
  write(chunk: Uint8Array, callback: () => void): unknown
  destroy(): void
}

/** A Node socket behind the request, when served by `@hono/node-server` (duck-typed: no Node import). */
function nodeSocket(env: unknown): NodeSocket | undefined {
  const socket = (env as { incoming?: { socket?: Partial<NodeSocket> } } | undefined)?.incoming
    ?.socket
  const usable = typeof socket?.destroy === 'function' && typeof socket.write === 'function'
  return usable ? (socket as NodeSocket) : undefined
}

/**
 * The response with its body broken the way `fault` says. A reset sends half the body, then
 * destroys the socket where there is one (a real TCP reset), or errors the stream in-process.
 */
async function breakBody(
  response: Response,
  fault: 'reset' | 'malformed' | 'wrong_content_type',
  socket: NodeSocket | undefined,
) {
  const text = await response.text()
  const headers = new Headers(response.headers)
  headers.delete('content-length')
  headers.delete('etag')
  const init = { status: response.status, headers }
  if (fault === 'malformed') return new Response(text.slice(0, Math.floor(text.length / 2)), init)
  if (fault === 'wrong_content_type') {
    headers.set('content-type', 'text/html; charset=utf-8')
    return new Response('<!doctype html><title>Bad Gateway</title><h1>Bad Gateway</h1>', init)
  }
  const head = new TextEncoder().encode(text.slice(0, Math.floor(text.length / 2)))
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(head)
    },
    pull(controller) {
      if (!socket) {
        controller.error(new Error('connection reset by the fault injector'))
        return
      }
      // Asked for more as the server takes the head, before it writes it: the socket is cut
      // once the head has gone out (the next turn, then behind an empty write), not before it
      // (over a real port no byte of the body arrived).
      return new Promise<void>((resolve) => {
        setTimeout(() => {
          socket.write(new Uint8Array(0), () => {
            socket.destroy()
            controller.close()
            resolve()
          })
        }, 0)
      })
    },
  })
  return new Response(response.status === 304 ? null : body, init)
}
