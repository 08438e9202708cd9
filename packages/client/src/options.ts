/**
 * `createClient`'s options: what each means, their checks, and their resolution against the
 * defaults (defaults.ts) into the settings the client is built from, once per client.
 */
import { type Clock, systemClock } from './clock.js'
import type { Logger } from './core.js'
import { DEFAULTS, withDefaults } from './defaults.js'
import { shown, VideoTranslationError } from './errors.js'
import type { SavedTransport } from './observe/memory.js'
import type { Transport } from './observe/planner.js'
import { type AdaptiveOptions, type AdaptiveState, adaptivePolling } from './polling/adaptive.js'
import type { ServerHints } from './polling/hints.js'
import {
  type BackoffOptions,
  checkPollingOptions,
  exponentialBackoff,
  type HintOptions,
  hintAware,
  type PollingStrategy,
} from './polling/strategy.js'
import { keyRing, redactor } from './redact.js'
import type { CircuitBreakerOptions, CircuitBreakerSettings } from './request/breaker.js'
import { conditionalChecks, type FetchLike, type HttpConfig } from './request/http.js'
import { keyGiver } from './request/key.js'
import type { BudgetSettings, RetryOptions, RetrySettings } from './request/retry.js'
import {
  apiKeyFault,
  baseUrlFault,
  checkNumber,
  checkOptionKinds,
  checkOptionNames,
  MAX_TIMER_MS,
} from './validate.js'

/**
 * Settings of the default polling strategy, `adaptivePolling` (its options). Giving any of the
 * backoff settings (`initialIntervalMs`, `multiplier`, `jitter`) chooses the earlier default
 * instead: server hints first, else exponential backoff, within the same bounds.
 */
export interface PollingOptions extends AdaptiveOptions, BackoffOptions, HintOptions {}

/** Options of `createClient`. */
export interface ClientOptions {
  /**
   * Where the API lives: `http://` or `https://`, a path prefix such as `/api` kept, no query,
   * fragment, user or password. In Node, Bun and Deno, `VT_BASE_URL` is used when this is not
   * given.
   * @default process.env.VT_BASE_URL (where there is one)
   * @example 'http://127.0.0.1:8787'
   */
  baseUrl?: string | URL | undefined
  /**
   * Sent as `Authorization: Bearer <apiKey>`; never logged, emitted or put in an error message.
   * In Node, Bun and Deno, `VT_API_KEY` is used when this is not given. A function giving the key
   * (a key that rotates, a short-lived token) is called before each request, so it should answer
   * from a cache it refreshes itself; each key it gives is kept out of messages too (the last
   * 16). Its failure fails that request like a network failure (retried; `cause` says why).
   * @default process.env.VT_API_KEY (where there is one)
   * @example 'vt_dev_key'
   * @example async () => (await tokens.current()).value
   */
  apiKey?: string | (() => string | Promise<string>) | undefined
  /**
   * The fetch to send requests with: a custom agent, ky, a test double.
   * @default globalThis.fetch
   * @example fetch: (input, init) => app.request(input, init)
   */
  fetch?: FetchLike | undefined
  /**
   * How long one request may take, in milliseconds, before it fails with a `TimeoutError`;
   * `Infinity` sets no limit (and no timer).
   * @default 10_000
   * @example requestTimeoutMs: 3_000
   */
  requestTimeoutMs?: number | undefined
  /**
   * How `wait` paces its status checks: a strategy, or settings of the default one,
   * `adaptivePolling` (it learns how long jobs take and how good the server's ETAs are, and
   * places checks by the optimal-checking rule; one request is worth `requestCostMs` = 300 ms of
   * lateness; delays within [100 ms, 2 min], a server's `Retry-After` up to 5 min).
   * @example polling: { requestCostMs: 1_000 } // fewer requests, later news
   * @example polling: fixedInterval(2_000)
   */
  polling?: PollingOptions | PollingStrategy | undefined
  /**
   * How a wait for one job learns of its changes: `'sse'` (the job's event stream: the end is
   * known the moment the server sends it), `'long-poll'` (requests the server holds until the
   * status changes), `'poll'` (status checks placed by `polling`), or `'auto'`: SSE, falling
   * back to long-poll when the server has no streams (or a proxy buffers them), and to polling
   * when it ignores `wait`; each fallback is remembered by the client and emitted as
   * `transport:fallback`. A transport named is kept: `'sse'` on a server without streams (or
   * behind a buffering proxy) fails the wait with a `VideoTranslationError` saying why;
   * `'long-poll'` on a server that ignores `wait` keeps asking, spaced by `polling`. `waitAll`
   * and `waitAny` always poll, in batches.
   * @default 'auto'
   * @example transport: 'poll'
   */
  transport?: 'auto' | Transport | undefined
  /**
   * In a browser: the tabs of one origin (with this base URL and key) observe each job once. The
   * tab holding the job's Web Lock asks the server and posts every answer to the others on a
   * BroadcastChannel; when it closes or stops waiting, another waiting tab takes over (pages and
   * their workers). Ignored outside a browser (Node, Bun, Deno) and where either API is missing.
   * @default false
   * @example shareTabs: true
   */
  shareTabs?: boolean | undefined
  /**
   * A check of one job falling due takes along, in the same batch request (`GET /v1/jobs?ids=`),
   * the checks of other jobs planned within 1/8 of their delay: many waits at once cost fewer
   * requests (200 jobs created together: 256 requests where each wait asked alone took 1,626),
   * batch answers being whole bodies (never a 304). A check moved earlier may find an end
   * sooner, or miss one its strategy planned for (a fixed interval equal to a job's known
   * duration: then a whole interval late). Never a check the server paces with `Retry-After`,
   * nor with a check near its deadline; with `isolateCalls`, within one call. `false` keeps
   * each wait's checks at its strategy's times while turns under the rate limit are free (a
   * server that counts each id of a batch against its limit, or reproducing another SDK's
   * schedule exactly): checks due at the same instant still go together, `waitAll` and
   * `waitAny` still ask in batches, and checks still wait for one turn together when turns are
   * short.
   * @default true
   * @example shareRequests: false
   */
  shareRequests?: boolean | undefined
  /**
   * Give each call (`wait`, `create`, `waitAll`…) its own monitor and pacer instead of one for
   * the whole client: calls then share no timer, request or promise. On by itself on Cloudflare
   * Workers, where a request cannot wait on a timer or a fetch another request started (it would
   * end in a 500 "hung", and a timer of a request that ended never fires): a client made once, at
   * module scope, then works there. What is only data is still shared (the learned durations, the
   * transport and batch endpoint that worked, the retry budget, the history); concurrent waits on
   * one job each ask, pacing and the circuit breaker hold within a call, not across calls (the
   * `circuit:*` events are each call's), and a `job:status` listener added later does not widen
   * held requests already out.
   * @default true on Cloudflare Workers, false elsewhere
   */
  isolateCalls?: boolean | undefined
  /**
   * Retries of failed requests (network, 408, 429, 5xx), within a client-wide budget; `false`
   * sends each request once.
   * @default { maxRetries: 3, initialDelayMs: 200, maxDelayMs: 5_000, maxRetryAfterMs: 60_000, budget: { maxTokens: 100, tokenRatio: 0.2 } }
   * @example retry: { maxRetries: 5, budget: false }
   */
  retry?: RetryOptions | false | undefined
  /**
   * Fail fast while the server keeps failing; `false` turns it off. Open for `resetTimeoutMs`,
   * then twice as long after each failed probe, up to `maxResetTimeoutMs`.
   * @default { failureThreshold: 5, resetTimeoutMs: 5_000, maxResetTimeoutMs: 60_000 }
   * @example circuitBreaker: { failureThreshold: 3, resetTimeoutMs: 10_000 }
   */
  circuitBreaker?: CircuitBreakerOptions | false | undefined
  /**
   * Space requests to the rate limit the server states (`RateLimit-Policy` and `RateLimit`
   * headers), so that many waits together are not refused; the first request goes alone to
   * learn the limit. `false` sends every request at once.
   * @default true
   * @example pacing: false
   */
  pacing?: boolean | undefined
  /**
   * Where time comes from: `now()` and an abortable `sleep()`. Tests pass a virtual clock.
   * @default real time
   * @example clock: { now: () => virtual.now(), sleep: (ms, signal) => virtual.sleep(ms, signal) }
   */
  clock?: Clock | undefined
  /**
   * Uniform random numbers in [0, 1) for jitter; pass a seeded one for reproducible schedules.
   * @default Math.random
   * @example random: () => 0.5 // the middle of every jitter range: a reproducible schedule
   */
  random?: (() => number) | undefined
  /**
   * Receives debug messages (retries) and errors thrown by event listeners and `onProgress`.
   * @default none, but for errors thrown by your callbacks: `console.error`
   * @example logger: console
   */
  logger?: Logger | undefined
  /**
   * What an earlier client learned (`client.exportState()`), for a program that waits for one
   * job a run (a CLI, a serverless function): the default strategy's durations and ETA errors,
   * and the transport that works with this server (one found missing is not tried again for a
   * day). Ignored where it does not fit; with a `polling` strategy of yours, its part is yours.
   */
  state?: ClientState | undefined
}

/** What a client learned, to save and pass back as `state` to a later one: a small JSON value. */
export interface ClientState {
  version: 1
  /**
   * The adaptive strategy's state (the default's, or an `adaptivePolling` of yours passed as
   * `polling`); a strategy that keeps none passes on the one it was given.
   */
  polling?: AdaptiveState | undefined
  /** The transport `'auto'` found working, when a better one did not. */
  transport?: SavedTransport | undefined
}

/** The options resolved: every default filled in, every part chosen. */
export interface Settings {
  http: HttpConfig
  clock: Clock
  random: () => number
  logger: Logger
  /** Retries of one request (`retry: false`: none). */
  retry: RetrySettings
  /** The client-wide retry budget; false for none. */
  budget: BudgetSettings | false
  /** The circuit breaker's settings; false for none. */
  breaker: CircuitBreakerSettings | false
  pacing: boolean
  polling: PollingStrategy
  /** A saved state's parts, as given (memory.ts and adaptive.ts check them). */
  savedTransport: SavedTransport | undefined
  savedPolling: AdaptiveState | undefined
  /** How single-job waits start, and whether the client may fall back (`'auto'`). */
  transport: { transport: Transport; auto: boolean }
  shareTabs: boolean
  shareRequests: boolean
  isolateCalls: boolean
}

/** Every option's name, to tell a misnamed one (`baseURL`). */
const CLIENT_OPTIONS =
  'baseUrl apiKey fetch requestTimeoutMs polling transport shareTabs shareRequests isolateCalls retry circuitBreaker pacing clock random logger state'

/** Checks `options` and resolves them against the defaults. */
export function resolveOptions(options: ClientOptions): Settings {
  checkOptions(options)
  const { retry, circuitBreaker } = options
  const budget = retry === false ? undefined : retry?.budget
  const clock = options.clock ?? systemClock
  // A saved state of a version it does not know is not read.
  const saved = options.state?.version === 1 ? options.state : undefined
  return {
    http: resolveHttpConfig(options, clock),
    clock,
    random: options.random ?? Math.random,
    logger: options.logger ?? DEFAULTS.logger,
    retry:
      retry === false ? { ...DEFAULTS.retry, maxRetries: 0 } : withDefaults(DEFAULTS.retry, retry),
    budget: budget === false ? false : withDefaults(DEFAULTS.retryBudget, budget),
    breaker:
      circuitBreaker === false ? false : withDefaults(DEFAULTS.circuitBreaker, circuitBreaker),
    pacing: options.pacing !== false,
    polling: resolvePolling(options.polling, saved?.polling),
    savedTransport: saved?.transport,
    savedPolling: saved?.polling,
    transport: resolveTransport(options),
    shareTabs: options.shareTabs === true,
    shareRequests: options.shareRequests !== false,
    isolateCalls: options.isolateCalls ?? onCloudflareWorkers(),
  }
}

/** The transport single-job waits start with, and whether it may fall back. */
function resolveTransport(options: ClientOptions): { transport: Transport; auto: boolean } {
  const { transport = DEFAULTS.transport } = options
  if (transport === 'auto') return { transport: 'sse', auto: true }
  if (transport === 'poll' || transport === 'long-poll' || transport === 'sse') {
    return { transport, auto: false }
  }
  throw new TypeError(
    `transport must be 'auto', 'sse', 'long-poll' or 'poll' (got ${JSON.stringify(transport)}).`,
  )
}

/** Every option, checked where it is given: its kind, and numbers their range (validate.ts). */
function checkOptions(options: ClientOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`createClient takes an object of options (got ${String(options)}).`)
  }
  checkOptionNames(options, CLIENT_OPTIONS)
  checkOptionKinds(options)
  // A minute below the timer's range: a long-poll's hold (30 s) is added to it.
  checkNumber('requestTimeoutMs', options.requestTimeoutMs, {
    min: 1,
    max: MAX_TIMER_MS - 60_000,
    infinite: true,
  })
  const { polling, retry, circuitBreaker } = options
  if (polling !== undefined) {
    const strategy = typeof polling === 'object' && polling !== null && 'nextDelay' in polling
    if (
      typeof polling !== 'object' ||
      polling === null ||
      (strategy && typeof polling.nextDelay !== 'function')
    ) {
      throw new TypeError('polling must be options or a strategy with a nextDelay function.')
    }
    if (!strategy) checkPollingOptions(polling, 'polling.')
  }
  if (retry) {
    checkNumber('retry.maxRetries', retry.maxRetries, { integer: true, max: 100 })
    checkNumber('retry.initialDelayMs', retry.initialDelayMs)
    checkNumber('retry.maxDelayMs', retry.maxDelayMs)
    checkNumber('retry.maxRetryAfterMs', retry.maxRetryAfterMs, { infinite: true })
    const { budget } = retry as { budget?: unknown }
    if (budget != null && typeof budget !== 'boolean' && typeof budget !== 'object') {
      // `budget: 0` read as the default budget, as `retry: 0` did.
      throw new TypeError(`retry.budget must be options or false (got ${typeof budget}).`)
    }
    if (retry.budget) {
      checkNumber('retry.budget.maxTokens', retry.budget.maxTokens, { min: 1, infinite: true })
      checkNumber('retry.budget.tokenRatio', retry.budget.tokenRatio, { max: 1_000 })
    }
  }
  if (circuitBreaker) {
    checkNumber('circuitBreaker.failureThreshold', circuitBreaker.failureThreshold, {
      min: 1,
      integer: true,
    })
    checkNumber('circuitBreaker.resetTimeoutMs', circuitBreaker.resetTimeoutMs, { min: 1 })
    checkNumber('circuitBreaker.maxResetTimeoutMs', circuitBreaker.maxResetTimeoutMs, { min: 1 })
  }
}

function resolvePolling(polling: ClientOptions['polling'], saved: unknown): PollingStrategy {
  if (polling !== undefined && 'nextDelay' in polling) return polling
  const { initialIntervalMs, multiplier, jitter, ...adaptive } = polling ?? {}
  if (initialIntervalMs === undefined && multiplier === undefined && jitter === undefined) {
    return adaptivePolling({ ...adaptive, state: adaptive.state ?? (saved as AdaptiveState) })
  }
  const {
    useServerHints = DEFAULTS.polling.useServerHints,
    minIntervalMs,
    maxIntervalMs,
    maxHintMs,
  } = adaptive
  const backoff = { initialIntervalMs, multiplier, jitter, maxIntervalMs }
  const hinted = hintAware(exponentialBackoff(backoff), { minIntervalMs, maxIntervalMs, maxHintMs })
  // Without hints, as with the adaptive default: `eta_ms` unseen, a `Retry-After` (the server's
  // instruction, or the open circuit breaker's) still followed.
  const retryAfterOnly = ({ retryAfterMs }: ServerHints) =>
    retryAfterMs === undefined ? {} : { retryAfterMs }
  return useServerHints
    ? hinted
    : {
        nextDelay: (context) =>
          hinted.nextDelay({ ...context, hints: retryAfterOnly(context.hints) }),
      }
}

const ACCEPT = { accept: 'application/json' }

/**
 * A base URL as a message quotes it: without what may hold credentials (user info, query,
 * fragment, with or without a scheme), nor the key.
 */
function quotedUrl(url: string, apiKey: unknown): string {
  const bare = url.replace(/[?#][\s\S]*$/, '…').replace(/^([^/]*\/\/)?[^/@]*@/, '$1…@')
  return redactor(typeof apiKey === 'string' ? apiKey : undefined)(bare)
}

function resolveHttpConfig(options: ClientOptions, clock: Clock): HttpConfig {
  const given: unknown = options.baseUrl
  const baseUrl = given instanceof URL ? given.href : (options.baseUrl ?? readEnv('VT_BASE_URL'))
  if (baseUrl !== undefined && typeof baseUrl !== 'string') {
    throw new TypeError(`baseUrl must be a string or a URL (got ${typeof baseUrl}).`)
  }
  if (baseUrl === undefined || !/^https?:\/\//i.test(baseUrl)) {
    throw new VideoTranslationError(
      `createClient needs a baseUrl starting with http:// or https:// (got ${baseUrl === undefined ? 'none' : JSON.stringify(shown(quotedUrl(baseUrl, options.apiKey), 100))}); pass { baseUrl } or set VT_BASE_URL${options.baseUrl !== undefined || envReadable() ? '' : ' (the runtime refused to read it: Deno needs --allow-env)'}.`,
    )
  }
  const unfitUrl = baseUrlFault(baseUrl)
  if (unfitUrl) {
    // Said without quoting it: credentials would be in the message.
    throw new VideoTranslationError(`createClient's baseUrl ${unfitUrl}.`)
  }
  const fetch = options.fetch ?? globalThis.fetch?.bind(globalThis)
  if (typeof fetch !== 'function') {
    throw new VideoTranslationError(
      'This runtime has no global fetch: pass one with createClient({ fetch }).',
    )
  }
  const apiKey = options.apiKey ?? readEnv('VT_API_KEY')
  const common = {
    // Joined by hand, not with `new URL(path, base)`, which would drop a prefix such as `/api`.
    baseUrl: baseUrl.replace(/\/+$/, ''),
    fetch,
    timeoutMs: options.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs,
    clock,
    conditional: conditionalChecks(baseUrl),
  }
  if (typeof apiKey === 'function') {
    const redact = keyRing()
    return { ...common, headers: ACCEPT, key: keyGiver(apiKey, redact), redact }
  }
  if (apiKey === undefined) return { ...common, headers: ACCEPT, redact: redactor(undefined) }
  if (typeof apiKey !== 'string') {
    throw new TypeError(`apiKey must be a string or a function (got ${typeof apiKey}).`)
  }
  const fault = apiKeyFault(apiKey)
  if (fault) throw new VideoTranslationError(`apiKey ${fault}.`)
  return {
    ...common,
    headers: { ...ACCEPT, authorization: `Bearer ${apiKey}` },
    redact: redactor(apiKey),
  }
}

/**
 * Reads an environment variable where there is one: browsers have no `process` and get none, nor
 * does a runtime that refuses to tell (Deno without `--allow-env` throws).
 */
function readEnv(name: string): string | undefined {
  try {
    const value = processEnv()?.[name]
    return value === '' ? undefined : value
  } catch {
    return undefined
  }
}

/** Whether the runtime lets environment variables be read (Deno without `--allow-env` throws). */
function envReadable(): boolean {
  try {
    processEnv()?.VT_BASE_URL
    return true
  } catch {
    return false
  }
}

function processEnv(): Record<string, string | undefined> | undefined {
  return (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env
}

/** Whether this is Cloudflare's Workers runtime (it says so in `navigator.userAgent`). */
function onCloudflareWorkers(): boolean {
  return (
    (globalThis as { navigator?: { userAgent?: unknown } }).navigator?.userAgent ===
    'Cloudflare-Workers'
  )
}
