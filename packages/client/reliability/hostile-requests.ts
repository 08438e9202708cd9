/**
 * Bad input to the mock server: every route it has (read from the app, so a new route is covered
 * the day it lands) with broken bodies, hostile headers, query strings, ids, sizes, encodings and
 * prototype keys, in process on a virtual clock; then a few requests that only a real socket can
 * send (oversized or broken headers, a broken request line) over a loopback port.
 *
 * Every answer must be below 500, every error answer `application/problem+json` with its status in
 * the body, no prototype polluted, and the server still serving a valid request afterwards.
 */
import { connect } from 'node:net'
import {
  createManualClock,
  createMockServer,
  DEV_ADMIN_KEY,
  DEV_API_KEY,
} from '@video-translation/mock-server'
import { startServer } from '@video-translation/mock-server/node'

const VALID = { video_url: 'https://example.com/a.mp4', target_language: 'es' }

/** Bodies a careless or hostile caller sends. */
const BODIES: [string, BodyInit | undefined][] = [
  ['no body', undefined],
  ['broken JSON', '{"video_url":'],
  ['JSON null', 'null'],
  ['a JSON array', '[1,2]'],
  ['a JSON string', '"hello"'],
  ['a number beyond any', '1e400'],
  ['__proto__ keys', `{"__proto__":{"polluted":true},"video_url":"https://e.com/a.mp4"}`],
  ['constructor.prototype keys', '{"constructor":{"prototype":{"polluted":true}}}'],
  ['fields of the wrong type', JSON.stringify({ video_url: 42, target_language: ['es'] })],
  ['unknown fields', JSON.stringify({ ...VALID, extra: { deep: true } })],
  ['deep nesting', `${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}`],
  ['70 kB (over the limit)', JSON.stringify({ ...VALID, title: 'x'.repeat(70_000) })],
  ['bytes that are not UTF-8', new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d])],
  ['a NUL in a string', JSON.stringify({ ...VALID, title: 'a\u0000b' })],
  [
    'a settings patch out of range',
    JSON.stringify({ error_rate: 7, rate_limit: { refill_per_s: 1e-300 } }),
  ],
]

/** Headers beside the key. */
const HEADERS: [string, Record<string, string>][] = [
  ['plain', {}],
  ['text/plain', { 'content-type': 'text/plain' }],
  ['JSON in latin1', { 'content-type': 'application/json; charset=latin1' }],
  [
    'a gzip claim on a plain body',
    { 'content-encoding': 'gzip', 'content-type': 'application/json' },
  ],
  ['odd Prefer and If-None-Match', { prefer: 'wait=-1, wait=99999', 'if-none-match': '*' }],
  ['a long Last-Event-ID', { 'last-event-id': '9'.repeat(1_000) }],
  ['a 300-character idempotency key', { 'idempotency-key': 'k'.repeat(300) }],
]

/** Query strings. */
const QUERIES = [
  '',
  '?wait=NaN',
  '?wait=1e9',
  '?wait=-1',
  '?wait=1&wait=2',
  '?ids=',
  `?ids=${Array.from({ length: 101 }, (_, i) => `job_${i}`).join(',')}`,
  '?ids=a,,b',
  '?ids[]=x',
  '?%ZZ=1',
]

/** What stands in for a route's `:id`. */
const IDS = ['..', '%2F', '%00', 'é', 'x'.repeat(1_000), 'job_%ZZ']

/** The outcome of the in-process cases and the socket cases. */
export interface HostileRequestsReport {
  routes: number
  requests: number
  /** Answers by status code. */
  byStatus: Record<string, number>
  /** Answers of 500 or more: each a defect, the first few described. */
  serverErrors: number
  /** Error answers that are not problem+json with their status in the body. */
  notProblems: number
  examples: string[]
  polluted: boolean
  /** Whether a valid create still succeeded after every hostile request. */
  stillServing: boolean
  /** The socket cases: what each got. */
  sockets: { name: string; status: string; problem: boolean }[]
}

/**
 * Runs every case. `tamper` rewrites each answer before it is checked: a deliberately broken
 * server (a test of the test; nothing shipped does this).
 */
export async function runHostileRequests(
  options: { tamper?: (response: Response) => Response; sockets?: boolean } = {},
): Promise<HostileRequestsReport> {
  const clock = createManualClock()
  const { app } = createMockServer({
    clock,
    simulation: { rate_limit: { capacity: 1_000_000, refill_per_s: 1_000_000 }, error_rate: 0 },
  })
  const report: HostileRequestsReport = {
    routes: 0,
    requests: 0,
    byStatus: {},
    serverErrors: 0,
    notProblems: 0,
    examples: [],
    polluted: false,
    stillServing: false,
    sockets: [],
  }
  const auth = (path: string) =>
    `Bearer ${path.startsWith('/v1/simulation') ? DEV_ADMIN_KEY : DEV_API_KEY}`
  const send = async (method: string, target: string, init: RequestInit) => {
    const pending = Promise.resolve(app.request(target, { method, ...init }))
    let settled = false
    void pending.then(
      () => {
        settled = true
      },
      () => {},
    )
    await new Promise((resolve) => setImmediate(resolve))
    // A long-poll or an injected hang ends in virtual time.
    if (!settled) await clock.tickAsync(61_000)
    const raw = await pending
    const response = options.tamper ? options.tamper(raw) : raw
    report.requests++
    report.byStatus[response.status] = (report.byStatus[response.status] ?? 0) + 1
    const type = response.headers.get('content-type') ?? ''
    if (type.startsWith('text/event-stream')) await response.body?.cancel()
    const what = `${method} ${target.slice(0, 80)} -> ${response.status}`
    const flag = (why: string) => {
      if (report.examples.length < 5) report.examples.push(`${what}: ${why}`)
    }
    if (response.status >= 500) {
      report.serverErrors++
      flag('a server error')
    }
    if (response.status >= 400 && method !== 'HEAD') {
      const body = type.startsWith('application/problem+json')
        ? ((await response.json().catch(() => undefined)) as { status?: number } | undefined)
        : undefined
      if (body?.status !== response.status) {
        report.notProblems++
        flag(`not a problem+json (${type || 'no type'})`)
      }
    } else if (!type.startsWith('text/event-stream')) {
      await response.body?.cancel()
    }
    return response
  }

  // A job that exists, so routes on `:id` also see a real one.
  const created = await app.request('/v1/jobs', {
    method: 'POST',
    headers: { authorization: auth('/v1/jobs'), 'content-type': 'application/json' },
    body: JSON.stringify(VALID),
  })
  const realId = ((await created.json()) as { id: string }).id
  const routes = new Map<string, Set<string>>()
  for (const { method, path } of app.routes) {
    if (method === 'ALL' || path.includes('*')) continue
    routes.set(path, (routes.get(path) ?? new Set()).add(method))
  }
  report.routes = [...routes.values()].reduce((n, methods) => n + methods.size, 0)
  for (const [path, methods] of routes) {
    const paths = path.includes(':id')
      ? [realId, ...IDS].map((id) => path.replace(':id', id))
      : [path]
    // A method the path does not take: once (a 405 with `Allow`).
    await send('PATCH', paths[0] ?? path, { headers: { authorization: auth(path) } })
    for (const method of methods) {
      for (const target of paths) {
        for (const query of QUERIES)
          await send(method, target + query, { headers: { authorization: auth(path) } })
        if (method === 'GET' || method === 'HEAD') continue
        for (const [, body] of BODIES) {
          for (const [, headers] of HEADERS) {
            await send(method, target, {
              headers: {
                authorization: auth(path),
                'content-type': 'application/json',
                ...headers,
              },
              ...(body === undefined ? {} : { body }),
            })
          }
        }
      }
      // Without a key, with a wrong one.
      await send(method, paths[0] ?? path, {})
      await send(method, paths[0] ?? path, { headers: { authorization: 'Bearer vt_wrong_key' } })
    }
  }
  report.polluted = ({} as { polluted?: unknown }).polluted !== undefined
  const after = await app.request('/v1/jobs', {
    method: 'POST',
    headers: { authorization: auth('/v1/jobs'), 'content-type': 'application/json' },
    body: JSON.stringify(VALID),
  })
  report.stillServing =
    after.ok && ((await after.json()) as { video_url?: string }).video_url === VALID.video_url
  if (options.sockets !== false) report.sockets = await socketCases()
  return report
}

/** Requests that `fetch` cannot send, written on a socket to a real server. */
async function socketCases(): Promise<HostileRequestsReport['sockets']> {
  const server = await startServer({ headersTimeoutMs: 2_000, requestTimeoutMs: 5_000 })
  const { port } = server
  const cases: [string, string | Uint8Array][] = [
    [
      'headers of 20 kB',
      `GET /v1/jobs/x HTTP/1.1\r\nhost: a\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`,
    ],
    ['a control byte in a header', 'GET /v1/jobs/x HTTP/1.1\r\nhost: a\r\nx-bad: a\u0001b\r\n\r\n'],
    ['a broken request line', 'GARBAGE\r\n\r\n'],
    [
      'a body longer than its length',
      `POST /v1/jobs HTTP/1.1\r\nhost: a\r\ncontent-type: application/json\r\nauthorization: Bearer ${DEV_API_KEY}\r\ncontent-length: 2\r\n\r\n{"video_url":1}`,
    ],
    [
      'broken chunked encoding',
      `POST /v1/jobs HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\ncontent-type: application/json\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`,
    ],
  ]
  const out: HostileRequestsReport['sockets'] = []
  try {
    for (const [name, bytes] of cases) {
      const answer = await new Promise<string>((resolve) => {
        const socket = connect(port, '127.0.0.1')
        let text = ''
        const done = () => {
          clearTimeout(timer)
          socket.destroy()
          resolve(text)
        }
        const timer = setTimeout(done, 3_000)
        socket.on('data', (chunk) => {
          text += chunk.toString('latin1')
          // The first answer is enough: one status line and its headers, and a body if any.
          if (/\r\n\r\n[\s\S]*\}/.test(text)) done()
        })
        socket.on('error', done)
        socket.on('close', done)
        socket.write(bytes)
      })
      const status = /^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 'no answer'
      out.push({ name, status, problem: /content-type: application\/problem\+json/i.test(answer) })
    }
  } finally {
    await server.close()
  }
  return out
}

/** A deliberately broken server for `tamper`: its error answers lost their problem type. */
export function plainTextErrors(response: Response): Response {
  if (response.status < 400) return response
  return new Response('failed', {
    status: response.status,
    headers: { 'content-type': 'text/plain' },
  })
}

/** Whether the report breaks no promise: see the module's comment. */
export function serverHeldUp(r: HostileRequestsReport): boolean {
  return (
    r.serverErrors === 0 &&
    r.notProblems === 0 &&
    !r.polluted &&
    r.stillServing &&
    r.sockets.every((s) => s.problem && Number(s.status) >= 400 && Number(s.status) < 500)
  )
}
