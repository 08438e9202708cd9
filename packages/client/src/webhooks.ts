/**
 * `@video-translation/client/webhooks`: checking that a webhook came from the server. The server
 * signs the raw body: `Webhook-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret,
 * "<t>.<body>")>`, with several `v1=` while a secret rotates. Web Crypto only (no `Buffer`), so it
 * runs wherever a webhook lands: Node, Bun, Deno, edge functions. A subpath of its own: the
 * receiving side rarely waits for jobs, and the waiting side needs none of this.
 */
import { guardFor, VideoTranslationError } from './errors.js'
import { parseJob } from './parse.js'
import type { Job } from './types.js'
import { checkNumber } from './validate.js'

/** Why a webhook was refused. */
export type WebhookRefusal = 'malformed' | 'expired' | 'mismatch' | 'invalid-body'

/** A webhook that is not provably the server's, or not a Job. */
export class WebhookVerificationError extends VideoTranslationError {
  override name = 'WebhookVerificationError'
  readonly reason: WebhookRefusal

  constructor(reason: WebhookRefusal, message: string) {
    super(message)
    this.reason = reason
  }
}

/** Options of `verifyWebhook`. */
export interface VerifyWebhookOptions {
  /**
   * How far the signature's time may be from now, in seconds, either way: an older delivery
   * replayed is refused.
   * @default 300
   */
  toleranceSec?: number | undefined
  /** Now, in epoch ms (for tests). @default Date.now() */
  now?: number | undefined
  /**
   * The Web Crypto to use; Node 18 has no global one: pass `webcrypto.subtle` (`import { webcrypto }
   * from 'node:crypto'`).
   * @default globalThis.crypto.subtle
   */
  subtle?: WebhookCrypto | undefined
}

/**
 * A Web Crypto `SubtleCrypto`, as loosely typed as lets the platform's and Node's
 * `webcrypto.subtle` both fit, whichever type libraries a project has (DOM or Node's alone).
 */
export interface WebhookCrypto {
  /** Imports the secret as an HMAC-SHA-256 key (called as `importKey('raw', …)`). */
  importKey(...args: never[]): Promise<unknown>
  /** Signs `<t>.<body>` with that key (called as `sign('HMAC', key, data)`). */
  sign(...args: never[]): Promise<ArrayBuffer>
}

/**
 * Checks a webhook's signature on its raw body and resolves with the Job it carries; rejects with
 * a `WebhookVerificationError` saying why otherwise. Answer 2xx only after it resolves.
 * @example
 * const job = await verifyWebhook(await request.text(), request.headers.get('webhook-signature'), secret)
 */
export async function verifyWebhook(
  rawBody: string,
  signatureHeader: string | null | undefined,
  secret: string,
  options: VerifyWebhookOptions = {},
): Promise<Job> {
  const { toleranceSec = 300, now = Date.now() } = options
  checkNumber('toleranceSec', toleranceSec, { max: 86_400 * 365 })
  if (typeof secret !== 'string' || secret === '') {
    throw new TypeError('verifyWebhook needs the webhook secret, a non-empty string.')
  }
  const parts = (signatureHeader ?? '').split(',').map((part) => part.trim().split('='))
  const t = Number(parts.find(([key]) => key === 't')?.[1])
  const given = parts.filter(([key, value]) => key === 'v1' && /^[0-9a-f]{64}$/i.test(value ?? ''))
  if (!Number.isInteger(t) || given.length === 0) {
    throw new WebhookVerificationError('malformed', 'No valid Webhook-Signature (t=…,v1=…).')
  }
  const ageSec = Math.round(now / 1000 - t)
  if (Math.abs(now / 1000 - t) > toleranceSec) {
    const when = ageSec >= 0 ? `${ageSec} s ago` : `${-ageSec} s in the future`
    throw new WebhookVerificationError(
      'expired',
      `The webhook was signed ${when}, beyond the tolerance of ${toleranceSec} s.`,
    )
  }
  // Typed loosely for callers (WebhookCrypto); used as the platform's.
  const subtle = (options.subtle ?? globalThis.crypto?.subtle) as SubtleCrypto | undefined
  if (!subtle) throw new TypeError('No Web Crypto here: pass verifyWebhook(…, { subtle }).')
  const encoder = new TextEncoder()
  const key = await subtle.importKey(
    'raw',
    encoder.encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  )
  const expected = new Uint8Array(await subtle.sign('HMAC', key, encoder.encode(`${t}.${rawBody}`)))
  if (!given.some(([, hex]) => sameBytes(expected, hex as string))) {
    throw new WebhookVerificationError('mismatch', 'The webhook signature does not match its body.')
  }
  let data: unknown
  try {
    data = JSON.parse(rawBody)
  } catch {
    data = undefined
  }
  const job = parseJob(data)
  if (typeof job === 'string') {
    throw new WebhookVerificationError('invalid-body', `The webhook is not a Job: ${job}.`)
  }
  return job
}

/** Whether `hex` spells `bytes`, in time that does not depend on where they differ. */
function sameBytes(bytes: Uint8Array, hex: string): boolean {
  let difference = bytes.length ^ (hex.length / 2)
  for (let i = 0; i < bytes.length; i++) {
    difference |= (bytes[i] as number) ^ Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16)
  }
  return difference === 0
}

/** Whether `error` is a `WebhookVerificationError` (of any copy of this SDK, in any realm). */
export const isWebhookVerificationError = guardFor<WebhookVerificationError>(
  'WebhookVerificationError',
)
