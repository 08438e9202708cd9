/**
 * Keeping the API key out of everything the client builds from text it did not write: a
 * server's error body (which may echo the `Authorization` header) and a runtime's error message
 * (which may quote a header value). Applied where such text enters the client (http.ts for
 * answers and errors, sources/sse.ts for events read off a stream), so error messages, events,
 * log lines and the history never carry the key.
 */
import { isVideoTranslationError } from './errors.js'

/** What stands in for the key. */
const REDACTED = '[redacted]'

/**
 * Replaces every occurrence of the secrets in text; the identity when there are none. `data`:
 * the same for answers that succeeded (a job's fields, an event), where a secret shorter than
 * `MIN_DATA_SECRET` is not looked for, as it would be found in ordinary values; `inData`, whether
 * any secret is looked for there.
 */
export type Redactor = ((text: string) => string) & {
  readonly inData: boolean
  readonly data: (text: string) => string
}

/** The shortest secret looked for in a job's fields: a shorter one is in ids and words. */
const MIN_DATA_SECRET = 8

/**
 * A redactor for the API key `secret` (and so for its `Bearer` form too), in any letter case,
 * as written plainly, percent-encoded (a server quoting a URL), or either escaped in JSON once or
 * twice (`\"`, `\\`, `\/` as some servers write `/`, `\u0026` as Go writes `&`): a server that
 * quotes the header as JSON inside its JSON body escapes it twice, and the body's text is
 * redacted before it is parsed.
 */
export function redactor(secret: string | undefined): Redactor {
  return redactorOf(secret ? [secret] : [])
}

/** How many of the keys a function gave are looked for (the latest). */
const MAX_KEYS = 16

/**
 * A redactor for the keys a function gives over time (`apiKey: () => key`): each one `learn`ed
 * before a request carries it, the latest MAX_KEYS looked for.
 */
export function keyRing(): Redactor & { learn(secret: string): void } {
  let keys: string[] = []
  let current = redactorOf(keys)
  const redact = (text: string) => current(text)
  return Object.defineProperties(redact, {
    inData: { get: () => current.inData },
    data: { value: (text: string) => current.data(text) },
    learn: {
      value: (secret: string) => {
        // An empty key is in every text: looked for, it would be found between every character.
        if (secret === '' || keys.at(-1) === secret) return
        keys = [...keys.filter((key) => key !== secret), secret].slice(-MAX_KEYS)
        current = redactorOf(keys)
      },
    },
  }) as Redactor & { learn(secret: string): void }
}

function redactorOf(given: readonly string[]): Redactor {
  const secrets = given.filter((secret) => secret !== '')
  const long = secrets.filter((secret) => secret.length >= MIN_DATA_SECRET)
  const all = replacer(secrets)
  // In data, the keys long enough to be looked for there: a short one of a key function's
  // leaves the others looked for.
  const data = long.length === secrets.length ? all : replacer(long)
  return Object.assign(all, { inData: long.length > 0, data })
}

/** A function replacing every form of `secrets` (see `redactor`); the identity for none. */
function replacer(secrets: readonly string[]): (text: string) => string {
  if (secrets.length === 0) return (text) => text
  const plain = [...new Set(secrets.flatMap((secret) => [secret, encodeURIComponent(secret)]))]
  // The longest first, so no form is cut into by a shorter one; in any case (a server may write
  // the header it quotes in lower case).
  plain.sort((a, b) => b.length - a.length)
  try {
    const source = plain.flatMap((form) => [2, 1, 0].map((depth) => formPattern(form, depth)))
    const pattern = new RegExp(source.join('|'), 'gi')
    // Compiled at its first use: a pattern too large fails here, not in a redaction.
    pattern.test('')
    return (text: string) => text.replace(pattern, REDACTED)
  } catch {
    // A key too long for a pattern (tens of thousands of characters): as written, or escaped in
    // JSON once or twice (the engine's message quotes the pattern, the key with it, so it is not
    // passed on).
    const once = plain.flatMap(escapedOnce)
    const forms = [...new Set([...plain, ...once, ...once.flatMap(escapedOnce)])]
    return (text: string) =>
      forms.reduce((out, form) => (out.includes(form) ? out.split(form).join(REDACTED) : out), text)
  }
}

/**
 * The ways a JSON encoder writes `text` in a string: escaped (`\"`, `\\`), with `/` escaped too
 * (PHP's json_encode), and a single character also as `\uXXXX` (Go escapes `<`, `>` and `&` so,
 * Python anything not ASCII) or as it is where JSON lets it be.
 */
function escapedOnce(text: string): string[] {
  const json = JSON.stringify(text).slice(1, -1)
  const forms = [json, json.replaceAll('/', '\\/')]
  if (text.length === 1) forms.push(`\\u${text.charCodeAt(0).toString(16).padStart(4, '0')}`)
  return forms
}

/**
 * A pattern for `form` escaped in JSON `depth` times (0: as written; 2: a server quoting the
 * header as JSON inside its JSON body), each character that is not a letter or digit in any of
 * its ways at that depth: an encoder escapes some characters and not others. No two ways of a
 * character at one depth start alike, so a text is matched without backtracking (ways of every
 * depth together, a key of backslashes took minutes on a text of them).
 */
function formPattern(form: string, depth: number): string {
  let source = ''
  for (const char of form) {
    if (/\w/.test(char) || depth === 0) {
      source += quoted(char)
      continue
    }
    let ways = [char]
    for (let d = 0; d < depth; d++) ways = [...new Set(ways.flatMap(escapedOnce))]
    ways.sort((a, b) => b.length - a.length)
    source += `(?:${ways.map(quoted).join('|')})`
  }
  return source
}

/** `text` as a regular expression matching it. */
function quoted(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&')
}

/** `text` of an answer that succeeded (a job, an event) without the secret, where one is looked for there. */
export function redactData(redact: Redactor, text: string): string {
  return redact.inData ? redact.data(text) : text
}

/**
 * `error` as one that cannot show the secret however it is printed (`util.inspect` shows every
 * field, down the causes): the client's own errors as they are (built from redacted text), and
 * any other as it is when nothing in it holds the secret and no field of it is an object (an
 * HTTP library's `request`, `options` or `response` may hold the key's header); otherwise a plain
 * `Error` of the same name, its message and stack redacted, keeping its fields of plain values
 * (strings redacted: `code`, `syscall`, a parser's `data` quoting the raw answer), its causes
 * (and an `AggregateError`'s `errors`) made so too, and no object field. A string thrown or given
 * as a cause is redacted.
 */
export function redactError(error: unknown, redact: Redactor, depth = 0): unknown {
  if (typeof error === 'string') return redact(error)
  if (isVideoTranslationError(error)) return error
  // Anything else thrown or given as a cause (a plain object may hold the headers): its text.
  if (!(error instanceof Error)) return isObject(error) ? redact(textOf(error)) : error
  if (depth > 5) return new Error(redact(error.message))
  const cause = redactError(error.cause, redact, depth + 1)
  const inner = (error as { errors?: unknown }).errors
  const errors = Array.isArray(inner) ? inner.map((e) => redactError(e, redact, depth + 1)) : inner
  const own = Reflect.ownKeys(error).filter((key) => !ERROR_KEYS.has(key))
  const fields = own.map((key) => [key, Reflect.get(error, key)] as const)
  const texts = [error.message, error.stack ?? '', ...fields.map(([, v]) => v)]
  const untouched =
    cause === error.cause &&
    (inner === undefined ||
      (Array.isArray(inner) && inner.every((e, i) => e === (errors as unknown[])[i]))) &&
    fields.every(([key, value]) => typeof key === 'string' && !isObject(value)) &&
    texts.every((text) => typeof text !== 'string' || redact(text) === text)
  if (untouched) return error
  const clean = new Error(redact(error.message), cause === undefined ? undefined : { cause })
  clean.name = error.name
  if (error.stack !== undefined) clean.stack = redact(error.stack)
  // `code` may be a getter (a DOMException's): read, not only listed.
  const { code } = error as { code?: unknown }
  for (const [key, value] of [['code', code] as const, ...fields]) {
    if (typeof key !== 'string' || value === undefined || isObject(value)) continue
    Object.assign(clean, { [key]: typeof value === 'string' ? redact(value) : value })
  }
  if (Array.isArray(errors)) Object.assign(clean, { errors })
  return clean
}

/** The keys every error has, each handled on its own. */
const ERROR_KEYS = new Set<PropertyKey>(['stack', 'message', 'cause', 'errors'])

function isObject(value: unknown): value is object {
  return (typeof value === 'object' && value !== null) || typeof value === 'function'
}

/** An object's text, to redact: its JSON where it has one. */
function textOf(value: object): string {
  try {
    return JSON.stringify(value) ?? String(value)
  } catch {
    return String(value)
  }
}
