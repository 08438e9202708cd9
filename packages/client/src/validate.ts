/**
 * Checks of what callers pass, made where they pass it (`createClient`, each call): a value that
 * is not what the option means fails at once with a `TypeError` naming the option, rather than
 * as a loop of requests 1 ms apart (`NaN`) or a timer that overflows.
 */
import { shown } from './errors.js'
import type { WaitLimits } from './observe/subscription.js'
import type { ClientOptions } from './options.js'
import type { PollingStrategy } from './polling/strategy.js'
import { type Redactor, redactData } from './redact.js'

/** The longest delay a timer can hold (2^31 - 1 ms, about 24.8 days). */
export const MAX_TIMER_MS = 2_147_483_647

/** What a numeric option accepts. */
export interface NumberRule {
  /** The smallest value allowed. @default 0 */
  min?: number
  /** Whole numbers only. */
  integer?: boolean
  /** `Infinity` allowed, meaning "no limit"; otherwise at most MAX_TIMER_MS for durations. */
  infinite?: boolean
  /** The largest finite value. @default MAX_TIMER_MS */
  max?: number
}

/** Throws a `TypeError` unless `value` is undefined or a number `rule` accepts. */
export function checkNumber(name: string, value: unknown, rule: NumberRule = {}): void {
  if (value === undefined) return
  const { min = 0, integer = false, infinite = false, max = MAX_TIMER_MS } = rule
  if (typeof value === 'number' && value === Number.POSITIVE_INFINITY && infinite) return
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    value >= min &&
    value <= max &&
    (!integer || Number.isInteger(value))
  if (ok) return
  const kind = integer ? 'a whole number' : 'a number'
  const limit = `${kind} from ${min} to ${max}${infinite ? ', or Infinity for no limit' : ''}`
  throw new TypeError(`${name} must be ${limit} (got ${describe(value)}).`)
}

/**
 * The options of a wait (`wait`, `watch`, `waitAll`…), checked where they are given: before
 * anything starts, so a bad one leaves nothing behind (a half-made observation of the job).
 */
export function checkWaitOptions(
  options: WaitLimits & {
    retryOnError?: boolean | number | undefined
    onProgress?: unknown
    expectedMs?: number | undefined
  },
  known: string,
): void {
  checkCallOptions(options, known)
  const { polling, onProgress } = options
  if (
    polling !== undefined &&
    typeof (polling as PollingStrategy | null)?.nextDelay !== 'function'
  ) {
    // Options made into a strategy per call would learn nothing from the client's other waits.
    throw new TypeError(
      `polling must be a strategy, such as adaptivePolling() (got ${describe(polling)}).`,
    )
  }
  if (onProgress !== undefined && typeof onProgress !== 'function') {
    throw new TypeError(`onProgress must be a function (got ${describe(onProgress)}).`)
  }
  checkNumber('timeoutMs', options.timeoutMs, { infinite: true })
  checkNumber('expectedMs', options.expectedMs, { min: 1 })
  checkNumber('maxAttempts', options.maxAttempts, { min: 1, integer: true, infinite: true })
  checkNumber('maxConsecutiveErrors', options.maxConsecutiveErrors, {
    min: 1,
    integer: true,
    infinite: true,
  })
  if (typeof options.retryOnError !== 'boolean') {
    checkNumber('retryOnError', options.retryOnError, { integer: true, max: 1_000 })
  }
}

/**
 * The options each call takes (`OPTIONS.wait`…), to tell a misnamed one: names between spaces
 * (plain strings: a bundle without the calls keeps none of them, as it would arrays).
 */
export const OPTIONS = {
  call: 'signal',
  create: 'signal idempotencyKey',
  createBatch: 'signal concurrency idempotencyKey',
  watch: 'signal timeoutMs maxAttempts maxConsecutiveErrors polling resume expectedMs',
  wait: 'signal timeoutMs maxAttempts maxConsecutiveErrors polling resume expectedMs onProgress retryOnError throwOnError',
  createAndWait:
    'signal timeoutMs maxAttempts maxConsecutiveErrors polling resume expectedMs onProgress retryOnError throwOnError idempotencyKey',
  waitMany: 'signal timeoutMs maxAttempts maxConsecutiveErrors polling onProgress expectedMs',
  waitForResult: 'signal maxRetries maxWaitTime timeout retryOnError',
}

/**
 * Throws a `TypeError` for an option `known` does not hold that names one it does, misspelt
 * (`baseURL`, `timeout` for `timeoutMs`) or as other SDKs name it (`maxRetries`): left unread, it
 * would change nothing, silently. Other unknown keys are left alone (an object of settings
 * shared with something else).
 */
export function checkOptionNames(options: object, known: string): void {
  const names = known.split(' ')
  for (const [name, value] of Object.entries(options)) {
    if (value === undefined || names.includes(name)) continue
    // The name in another case (in snake_case or kebab-case too: `api_key`, not `API_KEY` nor
    // `_clock`, an environment's or a private key), with `Ms` added, or a request's (`timeout`).
    const snake = /^[a-z][a-z\d]*(?:[_-][a-z\d]+)+$/.test(name)
    const camel = snake ? name.replace(/[_-]([a-z\d])/g, (_, c: string) => c.toUpperCase()) : name
    const lower = camel.toLowerCase()
    const forms = [lower, `${lower}ms`, `request${lower}`, `request${lower}ms`]
    const meant = names.find((k) => forms.includes(k.toLowerCase())) ?? otherName(camel, names)
    // Not when the option meant is given too (`polling` for `polling: { … }`): one settings
    // object shared with other code.
    const given = meant && (options as Record<string, unknown>)[meant.split(/[:( ]/)[0] as string]
    if (meant && given === undefined) {
      throw new TypeError(`There is no option ${name} here: did you mean ${meant}?`)
    }
  }
}

/** The default strategy's settings, which `createClient` takes under `polling`. */
const POLLING_SETTINGS = /^(?:min|max|initial)intervalms$|^requestcostms$|^maxhintms$/

/**
 * The option meant by what other SDKs (and the original challenge's clients) call it, or by
 * one of `polling`'s settings given beside it.
 */
function otherName(name: string, names: string[]): string | undefined {
  const has = (option: string) => names.includes(option)
  const lower = name.toLowerCase()
  if (has('polling') && /^(?:poll(?:ing)?)?interval(?:ms)?$/.test(lower)) {
    return 'polling: fixedInterval(ms)'
  }
  if (has('polling') && POLLING_SETTINGS.test(lower)) {
    return has('requestTimeoutMs')
      ? `polling: { ${name} }`
      : `polling: adaptivePolling({ ${name} })`
  }
  // The original clients' whole wait, in seconds.
  if (has('maxWaitTime') && /^(?:timeout|maxwaittime)ms$/.test(lower))
    return 'maxWaitTime (seconds)'
  if (name !== 'maxRetries') return undefined
  return has('maxAttempts') ? 'maxAttempts' : has('retry') ? 'retry: { maxRetries }' : undefined
}

/**
 * Throws a `TypeError` unless a call's `options` are an object (or left out) with a usable
 * `signal`, if any, and no option named for one of `known` (`checkOptionNames`): `null` read as
 * no options met a bare "Cannot read properties of null".
 */
export function checkCallOptions(options: unknown, known = OPTIONS.call): void {
  if (options === undefined) return
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`options must be an object (got ${describe(options)}).`)
  }
  checkOptionNames(options, known)
  checkSignal((options as { signal?: unknown }).signal)
}

/**
 * Throws a `TypeError` unless `signal` is undefined or an `AbortSignal` (another realm's or a
 * polyfill's too: what it has is what is used).
 */
export function checkSignal(signal: unknown): void {
  if (signal === undefined) return
  const { aborted, addEventListener, removeEventListener } = (signal ?? {}) as Partial<AbortSignal>
  const usable =
    typeof aborted === 'boolean' &&
    typeof addEventListener === 'function' &&
    typeof removeEventListener === 'function'
  if (!usable) throw new TypeError(`signal must be an AbortSignal (got ${describe(signal)}).`)
}

/**
 * Throws a `TypeError` unless a create's `params` are an object JSON can carry: a `BigInt` or a
 * cycle failed as the network's failure, retried and counted against the server's health.
 */
export function checkParams(params: unknown): void {
  if (typeof params !== 'object' || params === null || Array.isArray(params)) {
    const got = Array.isArray(params) ? 'an array' : describe(params)
    throw new TypeError(`A job's params must be an object (got ${got}).`)
  }
  try {
    JSON.stringify(params)
  } catch (error) {
    throw new TypeError(`A job's params cannot be sent as JSON: ${(error as Error).message}`)
  }
}

/** Throws a `TypeError` unless `list` is an array (a string would be taken a letter at a time). */
export function checkList(name: string, list: unknown): void {
  if (!Array.isArray(list)) throw new TypeError(`${name} must be an array (got ${describe(list)}).`)
}

/**
 * Throws a `TypeError` unless `id` stays one segment of a URL path once percent-encoded (which
 * takes care of `/`, `?` and `#`): `.` and `..` would move up the path (`jobs.get('..')` would ask
 * for `/v1/`), and an empty id would ask for the list. Given the client's `redact`, an id holding
 * the API key is refused too (said without quoting it): sent, it would be in the request's path,
 * and so in its errors, events and log lines. So is one with a lone surrogate (half of a
 * character pair): no URL can carry it.
 */
export function checkJobId(id: unknown, redact?: Redactor): asserts id is string {
  if (typeof id !== 'string' || id === '' || id === '.' || id === '..') {
    throw new TypeError(
      `A job id must be a non-empty string other than "." and ".." (got ${describe(id)}).`,
    )
  }
  if (LONE_SURROGATE.test(id)) {
    throw new TypeError(
      `A job id must be well-formed Unicode, no lone surrogate (got ${describe(id)}).`,
    )
  }
  if (redact !== undefined && redactData(redact, id) !== id) {
    throw new TypeError(
      "A job id must not hold the client's API key: pass the id a create returned.",
    )
  }
}

/**
 * A character no header value can carry: controls (but tab), and anything past Latin-1. Fetch
 * would refuse it at every request, read as a network failure.
 */
const HEADER_UNFIT = /[^\t\x20-\x7e\x80-\xff]/

/**
 * What makes `key` unfit to be sent as the API key, said without quoting it (no message carries
 * the key), or undefined when it fits: not a string, or holding a character no header
 * can carry (fetch would throw a TypeError at every request, read as a network failure, retried,
 * and opening the circuit breaker).
 */
export function apiKeyFault(key: unknown): string | undefined {
  if (typeof key !== 'string') return `is not a string (got ${typeof key})`
  const unfit = key.search(HEADER_UNFIT)
  if (unfit < 0) return undefined
  return `has a character no HTTP header can carry at position ${unfit + 1} (a line break, or a typographic one pasted with it?)`
}

/**
 * Half of a UTF-16 pair without its other half (`isWellFormed` is not in Node 18; no lookbehind,
 * which Safari before 16.4 cannot parse).
 */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?:^|[^\uD800-\uDBFF])[\uDC00-\uDFFF]/

/** The path of job `id`, which stays one path segment whatever it holds. */
export function jobPath(id: unknown): string {
  checkJobId(id)
  return `/v1/jobs/${encodeURIComponent(id)}`
}

/** The longest string a message quotes whole. */
const MAX_QUOTED = 100

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(shown(value, MAX_QUOTED))
  if (typeof value === 'function') return 'a function'
  return typeof value === 'object' && value !== null ? 'an object' : String(value)
}

/**
 * The options that are not numbers, checked for their kind when the client is made: one of the
 * wrong kind failed only when first used, after a create had made (and billed) a job whose wait
 * then failed (`random: 5`), or read as another (`retry: 0` as the default retries).
 */
export function checkOptionKinds(options: ClientOptions): void {
  const given = options as Record<string, unknown>
  const isObject = (value: unknown): value is Record<string, unknown> =>
    typeof value === 'object' && value !== null
  const kinds: [string[], string, (value: unknown) => boolean][] = [
    [['fetch', 'random'], 'a function', (v) => typeof v === 'function'],
    [
      ['pacing', 'shareTabs', 'shareRequests', 'isolateCalls'],
      'true or false',
      (v) => typeof v === 'boolean',
    ],
    [['retry', 'circuitBreaker'], 'options or false', (v) => isObject(v) || typeof v === 'boolean'],
    [
      ['clock'],
      'an object with now() and sleep(ms, signal)',
      (v) => isObject(v) && typeof v.now === 'function' && typeof v.sleep === 'function',
    ],
    [
      ['logger'],
      'an object with debug, warn or error functions, such as console',
      (v) =>
        isObject(v) &&
        ['debug', 'warn', 'error'].every((k) => v[k] == null || typeof v[k] === 'function'),
    ],
  ]
  for (const [names, kind, fits] of kinds) {
    for (const name of names) {
      const value = given[name]
      // `null` is the default for these, as it always was (a JavaScript caller's "none").
      if (value !== undefined && value !== null && !fits(value)) {
        const got =
          typeof value === 'object' ? (value === null ? 'null' : 'an object') : typeof value
        throw new TypeError(`${name} must be ${kind} (got ${got}).`)
      }
    }
  }
}

/**
 * What makes `baseUrl` (starting with a scheme) unfit, if anything: no host (`http://`); a user
 * or password (fetch refuses them, read as a network failure retried, and messages would quote
 * them); a query or fragment (paths would be added after it: `/?x=1/v1/jobs`).
 */
export function baseUrlFault(baseUrl: string): string | undefined {
  let url: URL
  try {
    url = new URL(baseUrl)
  } catch {
    return 'is not a URL'
  }
  if (url.hostname === '') return 'has no host'
  if (url.username !== '' || url.password !== '') {
    return 'must not hold a user or password (pass the key as apiKey)'
  }
  if (url.search !== '' || url.hash !== '' || /[?#]/.test(baseUrl)) {
    return 'must not hold a query or fragment (?, #): request paths are added after it'
  }
  return undefined
}
