/**
 * Webhook delivery: POSTs a terminal Job to its `callback_url`, signed
 * `Webhook-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`, retried with
 * exponential backoff. Runs beside the request path and never blocks it. Uses Web Crypto only,
 * so it works in every runtime.
 */
import { BACKGROUND, type Clock, sleep } from './clock.js'

/** Any fetch-compatible function. */
export type WebhookFetch = (input: string, init: RequestInit) => Promise<Response>

/** One delivery attempt, as recorded in the log. */
export interface WebhookAttempt {
  job_id: string
  url: string
  attempt: number
  at: string
  /** The receiver's HTTP status, or null when the request failed. */
  status: number | null
  error: string | null
}

/** Delivery settings. */
export interface WebhookOptions {
  clock: Clock
  secret: string
  fetch: WebhookFetch
  /** Attempts in all, the first included. @default 5 */
  attempts?: number
  /** Wait before the first retry; doubles after each. @default 1_000 */
  backoffMs?: number
  /** How long one attempt may take. @default 10_000 */
  timeoutMs?: number
}

const LOG_LIMIT = 1_000

/** Sends webhooks and keeps a bounded log of attempts. */
export class WebhookSender {
  readonly log: WebhookAttempt[] = []
  readonly #options: Required<WebhookOptions>
  /** Attempts being signed or sent: not in the log yet. */
  readonly #underway = new Set<Promise<boolean>>()

  constructor(options: WebhookOptions) {
    this.#options = { attempts: 5, backoffMs: 1_000, timeoutMs: 10_000, ...options }
  }

  /** Delivers `job` to `url` in the background; resolves when it succeeded or gave up. */
  send(url: string, job: { id: string }): Promise<void> {
    return this.#deliver(url, job).catch(() => undefined)
  }

  /**
   * Resolves once every attempt under way is over and in the log. Signing and sending take real
   * time even on a manual clock: a test moves the clock past a job's end, then awaits this. An
   * attempt waits for the receiver's answer, up to its 10 s limit on the server's clock: a
   * receiver that never answers holds this until that clock passes it.
   */
  async flush(): Promise<void> {
    while (this.#underway.size > 0) await Promise.all(this.#underway)
  }

  async #deliver(url: string, job: { id: string }): Promise<void> {
    const { clock, attempts, backoffMs } = this.#options
    const body = JSON.stringify(job)
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const underway = this.#attempt(url, job.id, body, attempt)
      this.#underway.add(underway)
      const ok = await underway.finally(() => this.#underway.delete(underway))
      if (ok) return
      if (attempt < attempts)
        await sleep(clock, backoffMs * 2 ** (attempt - 1), undefined, BACKGROUND)
    }
  }

  async #attempt(url: string, jobId: string, body: string, attempt: number): Promise<boolean> {
    const { clock, secret, fetch, timeoutMs } = this.#options
    const timestamp = Math.floor(clock.now() / 1000)
    const controller = new AbortController()
    const cancelTimeout = clock.schedule(timeoutMs, () => controller.abort(), BACKGROUND)
    const entry: WebhookAttempt = {
      job_id: jobId,
      url,
      attempt,
      at: new Date(clock.now()).toISOString(),
      status: null,
      error: null,
    }
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'webhook-signature': await signWebhook(secret, timestamp, body),
          'webhook-attempt': String(attempt),
        },
        body,
        signal: controller.signal,
      })
      await response.body?.cancel()
      entry.status = response.status
      return response.ok
    } catch (error) {
      entry.error = error instanceof Error ? error.message : String(error)
      return false
    } finally {
      cancelTimeout()
      this.log.push(entry)
      if (this.log.length > LOG_LIMIT) this.log.shift()
    }
  }
}

/** The `Webhook-Signature` header value for `body` sent at `timestamp` (unix seconds). */
export async function signWebhook(
  secret: string,
  timestamp: number,
  body: string,
): Promise<string> {
  const encoder = new TextEncoder()
  const key = await crypto.subtle.importKey(
    'raw',
    encoder.encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  )
  const mac = await crypto.subtle.sign('HMAC', key, encoder.encode(`${timestamp}.${body}`))
  const hex = Array.from(new Uint8Array(mac), (b) => b.toString(16).padStart(2, '0')).join('')
  return `t=${timestamp},v1=${hex}`
}
