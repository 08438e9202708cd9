/**
 * The answers of the Node HTTP layer, before the app sees a request: what Node's parser refuses
 * (oversized headers, bad header bytes, a request too slow), a request line or `Host` that no URL
 * can be made of, an `Expect` the server cannot meet, a `CONNECT`. Each is a problem+json body
 * with a request id, like every other error of the server, instead of a bare status line or a
 * closed socket.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import { PROBLEM_CONTENT_TYPE } from './middleware/problem.js'

/** What one such answer says. */
interface NodeProblem {
  status: number
  title: string
  kind: string
  detail: string
}

function malformed(detail: string): NodeProblem {
  return { status: 400, title: 'Bad Request', kind: 'malformed-request', detail }
}

/** What Node's HTTP parser refuses, by error code; anything else is a malformed request. */
const PARSER_PROBLEMS: Record<string, NodeProblem> = {
  HPE_HEADER_OVERFLOW: {
    status: 431,
    title: 'Request Header Fields Too Large',
    kind: 'headers-too-large',
    detail: 'The request headers are larger than this server accepts.',
  },
  // A request line whose method Node's parser does not know, or no request line at all (a
  // hostile request is answered below 500, though RFC 9110 allows a 501 for the first).
  HPE_INVALID_METHOD: malformed(
    'The request line is not HTTP/1.1, or its method is not one this server knows.',
  ),
  ERR_HTTP_REQUEST_TIMEOUT: {
    status: 408,
    title: 'Request Timeout',
    kind: 'request-timeout',
    detail: 'The request was not sent in time.',
  },
}

/** Request ids of these answers: their own series, as the app's are. */
let answered = 0

/** The body and headers of `problem`, with a fresh request id. */
function render(problem: NodeProblem, extra: Record<string, string> = {}) {
  const requestId = `req_node_${(++answered).toString(36).padStart(6, '0')}`
  const { status, title, kind, detail } = problem
  const type = `urn:video-translation:problem:${kind}`
  const body = JSON.stringify({ type, title, status, detail, request_id: requestId })
  const headers: Record<string, string> = {
    'content-type': PROBLEM_CONTENT_TYPE,
    'content-length': String(Buffer.byteLength(body)),
    'x-request-id': requestId,
    connection: 'close',
    ...extra,
  }
  return { body, headers }
}

/** Writes `problem` on a raw socket (no response object exists yet) and closes it. */
function endSocket(socket: Duplex, problem: NodeProblem, extra?: Record<string, string>): void {
  if (!socket.writable) {
    socket.destroy()
    return
  }
  const { body, headers } = render(problem, extra)
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`)
  socket.end(`HTTP/1.1 ${problem.status} ${problem.title}\r\n${lines.join('')}\r\n${body}`)
}

/** Writes `problem` as the response to a request Node has parsed, and closes the connection. */
function endResponse(response: ServerResponse, problem: NodeProblem): void {
  const { body, headers } = render(problem)
  response.writeHead(problem.status, headers).end(body)
}

/** Answers what Node's HTTP parser refused before the app saw it, and closes the connection. */
export function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (error.code === 'ECONNRESET') {
    socket.destroy()
    return
  }
  const problem =
    PARSER_PROBLEMS[error.code ?? ''] ?? malformed('The request is not valid HTTP/1.1.')
  endSocket(socket, problem)
}

/** Answers an `Expect` other than `100-continue` (Node would answer a bare 417). */
export function answerExpectation(request: IncomingMessage, response: ServerResponse): void {
  endResponse(response, {
    status: 417,
    title: 'Expectation Failed',
    kind: 'expectation-failed',
    detail: 'This server meets no expectation but 100-continue.',
  })
  request.resume()
}

/** Answers a `CONNECT` (Node would close the socket without a word): this is no proxy. */
export function answerConnect(_request: IncomingMessage, socket: Duplex): void {
  endSocket(
    socket,
    {
      status: 405,
      title: 'Method Not Allowed',
      kind: 'method-not-allowed',
      detail: 'This server is no proxy: it takes no CONNECT.',
    },
    { allow: 'DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT' },
  )
}

/**
 * `listener` behind a check of what makes a URL: an HTTP/1.1 request without `Host` (RFC 9112
 * requires one; Node would answer a bare 400), or with several, is refused here. `refused` answers a request whose
 * line or `Host` the HTTP adapter could not make a URL of (its error says which).
 */
export function withHostCheck(listener: RequestListener): RequestListener {
  return (request, response) => {
    if (request.headers.host === undefined && request.httpVersion === '1.1') {
      endResponse(response, malformed('An HTTP/1.1 request needs a Host header.'))
      request.resume()
      return
    }
    // Node keeps the first of several and drops the rest; RFC 9112 §3.2 answers 400.
    const hosts = request.rawHeaders.filter((name, i) => i % 2 === 0 && /^host$/i.test(name))
    if (hosts.length > 1) {
      endResponse(response, malformed('A request has one Host header, not several.'))
      request.resume()
      return
    }
    listener(request, response)
  }
}

/** The answer to a request the HTTP adapter could make no `Request` of (`error` says why). */
export function refused(error: unknown): Response {
  const known = error instanceof Error && error.name === 'RequestError'
  const { body, headers } = render(
    known
      ? malformed(`${error.message}: no URL can be made of this request.`)
      : {
          status: 500,
          title: 'Internal Server Error',
          kind: 'internal',
          detail: 'The mock server failed unexpectedly; this is a bug in the mock server.',
        },
  )
  const { 'content-length': _, ...rest } = headers
  return new Response(body, { status: known ? 400 : 500, headers: rest })
}
