/**
 * The Node entry: serves `createApp()` over HTTP with `@hono/node-server`, on 127.0.0.1 unless
 * told otherwise.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { getRequestListener } from '@hono/node-server'
import { type AppOptions, createApp, REQUEST_TIMEOUT_MS } from './app.js'
import {
  answerClientError,
  answerConnect,
  answerExpectation,
  refused,
  withHostCheck,
} from './node-problems.js'

/** Options of `startServer`. */
export interface StartServerOptions extends AppOptions {
  /** The interface to listen on. @default '127.0.0.1' */
  host?: string
  /** The port; 0 picks a free one. @default 0 */
  port?: number
  /** How long a client may take to send a request's headers before the socket is closed. @default 10_000 */
  headersTimeoutMs?: number
}

/**
 * How often Node checks its request timeouts (30 s by default, which held half-sent requests up
 * to 30 s past their limit).
 */
const TIMEOUT_CHECK_MS = 1_000

/** Connections the kernel may queue before the server accepts them (capped by the system's). */
const LISTEN_BACKLOG = 4_096

/** A running server. */
export interface RunningServer {
  /** The base URL, e.g. `http://127.0.0.1:41234`. */
  url: string
  port: number
  /** Stops accepting connections, ends open ones, and resolves once the server is closed. */
  close(): Promise<void>
}

/**
 * Starts the mock server on a real port.
 * @example
 * const server = await startServer({ port: 0 })
 * console.log(server.url)
 * await server.close()
 */
export async function startServer(options: StartServerOptions = {}): Promise<RunningServer> {
  const { host = '127.0.0.1', port = 0, ...appOptions } = options
  const requestTimeoutMs = appOptions.requestTimeoutMs ?? REQUEST_TIMEOUT_MS
  // Left out, within the request's own limit (a `requestTimeoutMs` of 5 s was refused for the
  // default's 10 s, an option never given).
  const headersTimeoutMs = options.headersTimeoutMs ?? Math.min(10_000, requestTimeoutMs)
  // Said plainly here rather than as Node's ERR_OUT_OF_RANGE from inside the HTTP server.
  if (!(headersTimeoutMs > 0 && headersTimeoutMs <= requestTimeoutMs)) {
    throw new TypeError(
      `headersTimeoutMs must be a positive number of ms, at most requestTimeoutMs (${requestTimeoutMs}): the headers are part of the request (got ${headersTimeoutMs}).`,
    )
  }
  const app = createApp(appOptions)
  // A client must send its whole request within these limits (slow-loris protection); how long
  // the server takes to answer is bounded by the app itself.
  const serverOptions = {
    headersTimeout: headersTimeoutMs,
    requestTimeout: requestTimeoutMs,
    connectionsCheckingInterval: Math.min(TIMEOUT_CHECK_MS, headersTimeoutMs),
    // Checked by `withHostCheck`, which answers as every other error is answered.
    requireHostHeader: false,
  }
  return new Promise((resolve, reject) => {
    // The host requests without a `Host` header (HTTP/1.0) are read against, as a URL host.
    const hostname = host.includes(':') ? `[${host}]` : host
    const listener = getRequestListener(app.fetch, { hostname, errorHandler: refused })
    const server = createServer(serverOptions, withHostCheck(listener))
    // Thousands of clients may connect at once (a load test, a fleet restarting): past Node's
    // default queue of 511 unaccepted connections, the kernel drops connection attempts and
    // clients retry them seconds later (seen as creates timing out under 2,000 streams).
    server.listen({ port, host, backlog: LISTEN_BACKLOG }, () => {
      server.off('error', reject)
      const info = server.address() as AddressInfo
      const hostForUrl = info.family === 'IPv6' ? `[${info.address}]` : info.address
      resolve({
        url: `http://${hostForUrl}:${info.port}`,
        port: info.port,
        close: () =>
          new Promise<void>((done, fail) => {
            server.close((error) => (error ? fail(error) : done()))
            if ('closeAllConnections' in server) server.closeAllConnections()
          }),
      })
    })
    server.once('error', reject)
    server.on('clientError', answerClientError)
    server.on('checkExpectation', answerExpectation)
    server.on('connect', answerConnect)
  })
}

export { type AppOptions, createApp } from './app.js'
