/**
 * `createClient`: reads the options once, fills in defaults, and hands each resource the shared
 * HTTP configuration.
 */
import { VideoTranslationError } from './errors.js'
import type { FetchLike, HttpConfig } from './http.js'
import { Jobs } from './jobs.js'

/** Options of `createClient`. */
export interface ClientOptions {
  /**
   * Where the API lives. In Node, Bun and Deno, `VT_BASE_URL` is used when this is not given.
   * @example 'http://127.0.0.1:8787'
   */
  baseUrl?: string
  /**
   * Sent as `Authorization: Bearer <apiKey>`; never logged or put in an error message. In Node,
   * Bun and Deno, `VT_API_KEY` is used when this is not given.
   * @example 'vt_dev_key'
   */
  apiKey?: string
  /**
   * The fetch to send requests with: a custom agent, ky, a test double.
   * @default globalThis.fetch
   * @example fetch: (input, init) => app.request(input, init)
   */
  fetch?: FetchLike
  /**
   * How long one request may take, in milliseconds, before it fails with a `TimeoutError`.
   * @default 10_000
   * @example requestTimeoutMs: 2_000
   */
  requestTimeoutMs?: number
}

/** A client of the video translation API. */
export interface Client {
  /** Create and inspect jobs. */
  readonly jobs: Jobs
}

/**
 * Creates a client.
 * @example
 * const client = createClient({ baseUrl: 'http://127.0.0.1:8787', apiKey: 'vt_dev_key' })
 * const job = await client.jobs.get('job_123')
 */
export function createClient(options: ClientOptions = {}): Client {
  const http = resolveHttpConfig(options)
  return { jobs: new Jobs(http) }
}

function resolveHttpConfig(options: ClientOptions): HttpConfig {
  const baseUrl = options.baseUrl ?? readEnv('VT_BASE_URL')
  if (baseUrl === undefined || !/^https?:\/\//i.test(baseUrl)) {
    throw new VideoTranslationError(
      `createClient needs a baseUrl starting with http:// or https:// (got ${baseUrl === undefined ? 'none' : JSON.stringify(baseUrl)}); pass { baseUrl } or set VT_BASE_URL.`,
    )
  }
  const fetch = options.fetch ?? globalThis.fetch?.bind(globalThis)
  if (typeof fetch !== 'function') {
    throw new VideoTranslationError(
      'No fetch function found: this runtime has no global fetch. Pass one with createClient({ fetch }), e.g. from undici.',
    )
  }
  const requestTimeoutMs = options.requestTimeoutMs ?? 10_000
  if (!(requestTimeoutMs > 0)) {
    throw new VideoTranslationError(
      `requestTimeoutMs must be a positive number of milliseconds (got ${requestTimeoutMs}).`,
    )
  }
  return { baseUrl, apiKey: options.apiKey ?? readEnv('VT_API_KEY'), fetch, requestTimeoutMs }
}

/** Reads an environment variable where there is one; browsers have no `process` and get none. */
function readEnv(name: string): string | undefined {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process
    ?.env
  const value = env?.[name]
  return value === '' ? undefined : value
}
