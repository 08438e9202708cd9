/**
 * Security: keys on every route of the mock server (none, a wrong one, the admin key where a
 * tenant's belongs and the other way round), tenants kept apart on every route that names a job,
 * rate limits per key, webhook signatures checked by the client's `verifyWebhook`, and the client
 * never repeating its key, whatever the server echoes. In process, on a virtual clock.
 */
import {
  createManualClock,
  createMockServer,
  DEV_ADMIN_KEY,
  DEV_WEBHOOK_SECRET,
} from '@video-translation/mock-server'
import {
  createClient,
  type FetchLike,
  isWebhookVerificationError,
  verifyWebhook,
} from '../src/index.js'
import { jobBody } from '../test/fake-fetch.js'
import { drive, virtualClock } from './drive.js'
import { keyScan } from './key-scan.js'

const TENANT_A = 'vt_tenant_a_key_0001'
const TENANT_B = 'vt_tenant_b_key_0002'
/** Routes anyone may call, as the README documents (health, the spec, the original challenge's). */
const PUBLIC = new Set(['/healthz', '/openapi.json', '/status', '/set_completion_time'])
const VALID = { video_url: 'https://example.com/a.mp4', target_language: 'es' }

/** One check of the matrix and what it got. */
export interface SecurityCheck {
  what: string
  expected: number
  got: number
}

/** What the security run found. */
export interface SecurityReport {
  /** Route and credential pairs checked, and those answered otherwise than expected. */
  checks: number
  failures: SecurityCheck[]
  /** The burst a key got before its 429, whether the 429 said when to come back, and whether
   * another key was still served meanwhile. */
  rateLimit: { burst: number; retryAfter: boolean; otherKeyServed: boolean }
  /** Webhook deliveries verified, and forgeries (tampered body or signature, stale, unsigned)
   * refused, out of those tried. */
  webhooks: { verified: number; refused: number; forged: number }
  /** Whether the client repeated its key anywhere when every error answer echoed it. */
  keySeen: boolean
}

/**
 * Runs the matrix. `gateway` rewrites each request's headers before the server sees them: a
 * deliberately broken proxy (a test of the test; nothing shipped does this).
 */
export async function runSecurity(
  options: { gateway?: (headers: Headers) => Headers } = {},
): Promise<SecurityReport> {
  const clock = createManualClock()
  const deliveries: { body: string; signature: string }[] = []
  const { app } = createMockServer({
    clock,
    apiKeys: [TENANT_A, TENANT_B],
    simulation: {
      error_rate: 0,
      durations: { distribution: 'fixed', ms: 1_000 },
      rate_limit: { capacity: 20, refill_per_s: 1 },
    },
    webhookFetch: async (_url, init) => {
      const headers = new Headers(init.headers)
      deliveries.push({
        body: String(init.body),
        signature: headers.get('webhook-signature') ?? '',
      })
      return new Response(null, { status: 204 })
    },
  })
  const call = async (method: string, path: string, key: string | null, body?: unknown) => {
    let headers = new Headers(key === null ? {} : { authorization: `Bearer ${key}` })
    if (body !== undefined) headers.set('content-type', 'application/json')
    if (options.gateway) headers = options.gateway(headers)
    const response = await app.request(path, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    if ((response.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
      await response.body?.cancel()
    }
    return response
  }
  const report: SecurityReport = {
    checks: 0,
    failures: [],
    rateLimit: { burst: 0, retryAfter: false, otherKeyServed: false },
    webhooks: { verified: 0, refused: 0, forged: 0 },
    keySeen: false,
  }
  const expect = (what: string, expected: number, got: number) => {
    report.checks++
    if (got !== expected) report.failures.push({ what, expected, got })
  }

  const created = await call('POST', '/v1/jobs', TENANT_A, {
    ...VALID,
    callback_url: 'https://hooks.example/done',
  })
  const id = ((await created.json()) as { id: string }).id
  const routes: { method: string; path: string }[] = []
  for (const { method, path } of app.routes) {
    if (method === 'ALL' || path.includes('*') || PUBLIC.has(path)) continue
    if (!routes.some((r) => r.method === method && r.path === path)) routes.push({ method, path })
  }
  for (const { method, path } of routes) {
    const target = path.replace(':id', id)
    const admin = path.startsWith('/v1/simulation')
    const body = method === 'GET' ? undefined : admin ? {} : VALID
    const what = (who: string) => `${method} ${path} with ${who}`
    expect(what('no key'), 401, (await call(method, target, null, body)).status)
    expect(what('a wrong key'), 401, (await call(method, target, 'vt_wrong_key_000', body)).status)
    if (admin) {
      expect(what("a tenant's key"), 403, (await call(method, target, TENANT_A, body)).status)
      continue
    }
    expect(what('the admin key'), 401, (await call(method, target, DEV_ADMIN_KEY, body)).status)
    // Another tenant may not see, wait for, stream or cancel the job, nor learn it exists.
    if (path.includes(':id')) {
      expect(what("another tenant's key"), 404, (await call(method, target, TENANT_B, body)).status)
    }
  }
  const batch = await call('GET', `/v1/jobs?ids=${id}`, TENANT_B)
  const listed = ((await batch.json()) as { jobs?: unknown[] }).jobs ?? []
  expect("GET /v1/jobs?ids= with another tenant's key: jobs listed", 0, listed.length)

  // Rate limits: a burst per key, then 429 with Retry-After; the other key is not held up.
  for (let i = 0; i < 100; i++) {
    const response = await call('GET', `/v1/jobs/${id}`, TENANT_A)
    if (response.status === 429) {
      report.rateLimit.retryAfter = Number(response.headers.get('retry-after')) > 0
      break
    }
    report.rateLimit.burst++
  }
  report.rateLimit.otherKeyServed = (await call('GET', '/v1/jobs?ids=x', TENANT_B)).status === 200

  // Webhooks: the job's end is delivered signed; the client accepts it and refuses forgeries.
  await clock.tickAsync(2_000)
  for (let i = 0; i < 500 && deliveries.length === 0; i++) {
    // Signing runs on Web Crypto (real asynchrony, outside the virtual clock).
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
  const now = clock.now()
  for (const { body, signature } of deliveries) {
    if (await accepted(body, signature, now)) report.webhooks.verified++
    const forgeries: [string, string | null, number][] = [
      [body.replace('"completed"', '"error"'), signature, now],
      [body, signature.replace(/v1=(.)/, (_, c) => `v1=${c === '0' ? '1' : '0'}`), now],
      [body, signature, now + 3_600_000],
      [body, null, now],
    ]
    for (const [forged, header, at] of forgeries) {
      report.webhooks.forged++
      if (!(await accepted(forged, header, at))) report.webhooks.refused++
    }
  }

  report.keySeen = await clientRepeatsKey()
  return report
}

async function accepted(body: string, header: string | null, now: number): Promise<boolean> {
  try {
    await verifyWebhook(body, header, DEV_WEBHOOK_SECRET, { now })
    return true
  } catch (error) {
    if (isWebhookVerificationError(error)) return false
    throw error
  }
}

/**
 * A server that echoes the key it was sent (raw, as a bearer token and JSON-escaped) in every
 * error's detail and headers and in the id of every job it answers: a wait through it fails; then its error
 * and causes, every event, log line and history entry are searched for the key.
 */
async function clientRepeatsKey(): Promise<boolean> {
  const key = 'vt_secret_"key"_0003'
  const { manual, clock } = virtualClock()
  let calls = 0
  const fetch: FetchLike = async (_input, init) => {
    const sent = new Headers(init.headers).get('authorization') ?? ''
    // In turn: an error whose detail echoes the key, and a 200 whose job id does.
    if (calls++ % 2 === 1) {
      const body = { ...jobBody(), id: `echo ${sent} ${JSON.stringify(sent)}` }
      return new Response(JSON.stringify(body), { headers: { 'content-type': 'application/json' } })
    }
    const detail = `key ${sent} (${sent.slice(7)}) refused: ${JSON.stringify(sent)}`
    return new Response(JSON.stringify({ title: 'Nope', status: 503, detail }), {
      status: 503,
      headers: { 'content-type': 'application/problem+json', 'x-seen-authorization': sent },
    })
  }
  const scan = keyScan()
  const client = createClient({
    baseUrl: 'http://echo.test',
    apiKey: key,
    fetch,
    clock,
    transport: 'poll',
    logger: scan.logger,
  })
  scan.listen(client, ['request:retry', 'request:error', 'job:timeout'])
  const waiting = client.jobs.wait('job_1', { timeoutMs: 120_000 })
  await drive(
    manual,
    waiting.catch(() => {}),
    180_000,
  )
  scan.error(await waiting.catch((e: unknown) => e))
  scan.said.push(JSON.stringify(client.jobs.history('job_1')))
  return scan.holds(key)
}

/** A deliberately broken gateway for `gateway`: it forwards tenant A's key for tenant B. */
export function wrongTenantGateway(headers: Headers): Headers {
  if (headers.get('authorization') === `Bearer ${TENANT_B}`) {
    headers.set('authorization', `Bearer ${TENANT_A}`)
  }
  return headers
}

/** Whether the report breaks no promise. */
export function securityHeldUp(r: SecurityReport): boolean {
  return (
    r.failures.length === 0 &&
    r.rateLimit.burst > 0 &&
    r.rateLimit.retryAfter &&
    r.rateLimit.otherKeyServed &&
    r.webhooks.verified > 0 &&
    r.webhooks.refused === r.webhooks.forged &&
    !r.keySeen
  )
}
