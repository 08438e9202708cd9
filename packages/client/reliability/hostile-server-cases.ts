/**
 * The hostile servers of the bad-input category (hostile-server.ts runs them): each answers every
 * status check the same wrong way.
 */
import { jobBody } from '../test/fake-fetch.js'

/** The job every case is asked about. */
export const ID = 'job_bad'
const OTHER = 'job_other'

/** A job's wire body: running, with no ETA, unless `patch` says otherwise. */
const body = (patch: Record<string, unknown> = {}) =>
  jobBody({ id: ID, eta_ms: null, result: null, ...patch })

const COMPLETED = { status: 'completed', progress: 1, result: { url: 'https://cdn.test/a.mp4' } }

const json = (body: unknown, init: ResponseInit = {}) =>
  new Response(typeof body === 'string' ? body : JSON.stringify(body), {
    ...init,
    headers: { 'content-type': 'application/json', ...init.headers },
  })
const stream = (text: string) =>
  new Response(text, { headers: { 'content-type': 'text/event-stream' } })

/** One hostile server: what it answers to the `n`-th status request (from 0). */
export interface BadCase {
  name: string
  answer: (n: number, url: URL) => Response
  /** How the client waits: one job polled (the default), two in a batch, or pushed. */
  via?: 'wait' | 'waitAll' | 'sse' | 'long-poll'
  /** The connection dropped `afterMs` into each held request (`all`: into every request). */
  cut?: { afterMs: number; all?: boolean }
}

/** The hostile servers, one way of being wrong each. */
export const BAD_CASES: BadCase[] = [
  { name: 'a truncated JSON body', answer: () => json('{"id":"job_bad","status":"runn') },
  {
    name: 'an HTML page with 200',
    answer: () => new Response('<html>hi</html>', { headers: { 'content-type': 'text/html' } }),
  },
  { name: 'an empty body', answer: () => json('') },
  { name: 'JSON null', answer: () => json('null') },
  { name: 'a JSON array', answer: () => json([body()]) },
  { name: 'a status of the wrong type', answer: () => json(body({ status: 42 })) },
  { name: 'an unknown status', answer: () => json(body({ status: 'paused' })) },
  { name: 'progress out of range', answer: () => json(body({ progress: 7 })) },
  { name: 'eta_ms beyond any number', answer: () => json('{"eta_ms":1e400,"id":"job_bad"}') },
  { name: 'a negative eta_ms', answer: () => json(body({ eta_ms: -5_000 })) },
  { name: 'completed without a result', answer: () => json(body({ status: 'completed' })) },
  {
    name: "another job's body, completed",
    answer: () => json(body({ ...COMPLETED, id: OTHER })),
  },
  {
    name: 'prototype keys in the body',
    answer: () =>
      json(
        `{"__proto__":{"status":"completed","result":{"url":"x"}},${JSON.stringify(body()).slice(1)}`,
      ),
  },
  { name: 'deeply nested JSON', answer: () => json(`${'['.repeat(5_000)}${']'.repeat(5_000)}`) },
  {
    name: 'a 4 MB body',
    answer: () => json(body({ title: 'x'.repeat(4_000_000) })),
  },
  {
    name: 'a redirect to another host',
    answer: () =>
      new Response(null, { status: 302, headers: { location: 'http://elsewhere.test/' } }),
  },
  { name: '204 without cause', answer: () => new Response(null, { status: 204 }) },
  { name: '304 with no ETag asked', answer: () => new Response(null, { status: 304 }) },
  {
    name: 'Retry-After beyond the timer range',
    answer: () =>
      json(
        { title: 'busy', status: 503 },
        { status: 503, headers: { 'retry-after': '99999999999' } },
      ),
  },
  {
    name: 'Retry-After in the year 9999',
    answer: () =>
      json(
        { title: 'busy', status: 503 },
        { status: 503, headers: { 'retry-after': 'Fri, 31 Dec 9999 23:59:59 GMT' } },
      ),
  },
  {
    name: 'Retry-After negative',
    answer: () =>
      json({ title: 'slow down', status: 429 }, { status: 429, headers: { 'retry-after': '-1' } }),
  },
  {
    name: 'Retry-After: 0 on every 429',
    answer: () =>
      json({ title: 'slow down', status: 429 }, { status: 429, headers: { 'retry-after': '0' } }),
  },
  {
    name: 'rate-limit headers of zero',
    answer: () =>
      json(body(), {
        headers: { ratelimit: 'limit=0, remaining=0, reset=0', 'ratelimit-policy': '0;w=0' },
      }),
  },
  {
    name: 'a 500 forever',
    answer: () => json({ title: 'oops', status: 500 }, { status: 500 }),
  },
  {
    name: 'a status going backwards after completing',
    answer: (n) => json(body(n === 2 ? COMPLETED : { status: n > 2 ? 'pending' : 'running' })),
  },
  {
    name: 'a batch answer missing the ids asked',
    via: 'waitAll',
    answer: (_n, url) =>
      url.searchParams.has('ids')
        ? json({ jobs: [], missing: [] })
        : json(body({ ...COMPLETED, id: url.pathname.split('/')[3] })),
  },
  {
    name: 'a batch answer of jobs not asked for',
    via: 'waitAll',
    answer: (_n, url) =>
      url.searchParams.has('ids')
        ? json({ jobs: [body({ ...COMPLETED, id: OTHER })], missing: [] })
        : json(body()),
  },
  {
    name: 'a status flipping between pending and running (long-poll)',
    via: 'long-poll',
    answer: (n) =>
      json(body({ status: n % 2 === 0 ? 'pending' : 'running' }), {
        headers: { etag: `"e${n}"` },
      }),
  },
  {
    name: 'held requests dropped after 2 s (long-poll)',
    via: 'long-poll',
    answer: () => json(body()),
    cut: { afterMs: 2_000 },
  },
  {
    name: 'every request dropped after 2 s (long-poll)',
    via: 'long-poll',
    answer: () => json(body()),
    cut: { afterMs: 2_000, all: true },
  },
  {
    name: 'an event stream of garbage',
    via: 'sse',
    answer: () => stream('retry: -5\nevent: status\ndata: {not json\n\ndata: \u0000\n\n'),
  },
  {
    name: "an event stream of another job's end",
    via: 'sse',
    answer: () =>
      stream(
        `event: status\nid: 1\ndata: ${JSON.stringify(body({ ...COMPLETED, id: OTHER }))}\n\n`,
      ),
  },
]
