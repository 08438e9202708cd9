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
 * as written plainly, its characters percent-encoded or written as HTML references or not (a
 * server quoting a URL or a form; an error page), or escaped in JSON once or twice (`\"`, `\\`,
 * `\/` as some servers write `/`, `\u0026` as Go writes `&`): a server that quotes the header as
 * JSON inside its JSON body escapes it twice, and the body's text is redacted before it is
 * parsed. Also the key as the header carries it (fetch trims a key given with spaces around it,
 * and one given as `Bearer …`), and in base64 (a server quoting a `Basic` header, or the header's
 * value in a debug header) wherever it starts in the encoded text.
 */
export function redactor(secret: string | undefined): Redactor {
  return redactorOf(secret ? [secret] : [])
}

/** The most characters other than letters and digits a key looked for by a pattern has. */
const MAX_PATTERN_SIGNS = 32

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
  const plain = [...new Set(secrets.flatMap(sentForms))]
  // Base64 of a key long enough that its encoding is not in ordinary text (a short key's is a
  // few characters): as is, no character of it escaped anywhere.
  const encoded = plain.filter((form) => form.length >= MIN_DATA_SECRET).flatMap(base64Cores)
  // The longest first, so no form is cut into by a shorter one; in any case (a server may write
  // the header it quotes in lower case).
  plain.sort((a, b) => b.length - a.length)
  try {
    // A key of many characters other than letters and digits makes a pattern whose every step
    // tries their ways (a key of 1,000 `%`: 23 s on a text of 100 kB that nearly matches it).
    if (plain.some((form) => form.replace(/\w/g, '').length > MAX_PATTERN_SIGNS)) {
      throw new RangeError('a key of too many signs for a pattern')
    }
    const source = plain.flatMap((form) => [2, 1, 0].map((depth) => formPattern(form, depth)))
    source.push(...encoded.map(quoted))
    const pattern = new RegExp(source.join('|'), 'gi')
    // Compiled at its first use: a pattern too large fails here, not in a redaction.
    pattern.test('')
    return (text: string) => text.replace(pattern, REDACTED)
  } catch {
    // A key too long for a pattern (tens of thousands of characters, or of signs: see above): as
    // written, percent-encoded, or escaped in JSON once or twice (the engine's message quotes
    // the pattern, the key with it, so it is not passed on).
    const once = plain.flatMap(escapedOnce)
    const percent = plain.map(encodeURIComponent)
    const forms = [...new Set([...plain, ...percent, ...once, ...once.flatMap(escapedOnce)])]
    forms.push(...encoded)
    return (text: string) =>
      forms.reduce((out, form) => (out.includes(form) ? out.split(form).join(REDACTED) : out), text)
  }
}

/**
 * The key as given and as the `Authorization` header carries it: trimmed (fetch trims a header's
 * value), and without a `Bearer ` the caller put in front of it (a server quotes the token).
 */
function sentForms(secret: string): string[] {
  const trimmed = secret.trim()
  const token = trimmed.replace(/^bearer\s+/i, '')
  // (Not one made short so: `Bearer es` would take out every `es`, a language code.)
  const derived = [trimmed, token].filter((form) => form.length >= MIN_DATA_SECRET)
  return [secret, ...derived]
}

/**
 * The parts of `secret`'s base64 (standard and URL-safe) that are the same wherever it starts in
 * the text encoded (`base64(key)`, `base64(":" + key)`, `base64("user:" + key)`): for each of the
 * three offsets, the characters made of its bytes alone.
 */
function base64Cores(secret: string): string[] {
  let bytes = ''
  for (const byte of new TextEncoder().encode(secret)) bytes += String.fromCharCode(byte)
  const cores: string[] = []
  for (const offset of [0, 1, 2]) {
    const text = btoa('\0'.repeat(offset) + bytes)
    const end = Math.floor(((offset + bytes.length) * 8) / 6)
    const core = text.slice(Math.ceil((offset * 8) / 6), end)
    cores.push(core, core.replaceAll('+', '-').replaceAll('/', '_'))
  }
  return [...new Set(cores)]
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
 * its ways at that depth (as is, percent-encoded, as an HTML reference; each escaped): an encoder
 * escapes some characters and not others. A way that starts like a longer one fails at the
 * character after it, so a text is matched without deep backtracking (ways of every depth
 * together, a key of backslashes took minutes on a text of them; redact.test.ts runs the worst).
 */
function formPattern(form: string, depth: number): string {
  let source = ''
  for (const char of form) {
    if (/\w/.test(char)) {
      source += quoted(char)
      continue
    }
    const code = char.codePointAt(0) ?? 0
    const percent = [...new TextEncoder().encode(char)]
      .map((byte) => `%${byte.toString(16).padStart(2, '0')}`)
      .join('')
    const named = HTML_NAMES[char]
    const references = [
      `&#${code};`,
      `&#${String(code).padStart(3, '0')};`,
      `&#x${code.toString(16)};`,
    ]
    let ways = [...new Set([char, percent, ...references, ...(named ? [named] : [])])]
    for (let d = 0; d < depth; d++) ways = [...new Set(ways.flatMap(escapedOnce))]
    ways.sort((a, b) => b.length - a.length)
    source += `(?:${ways.map(quoted).join('|')})`
  }
  return source
}

/** The HTML names of characters a key may hold that an encoder writes by name. */
const HTML_NAMES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
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
 * `JSON.parse` of a text `clean` redacted: where the text escapes characters as `\uXXXX`, its
 * strings redacted again once parsed (escaped letters spell the key out only then). Throws as
 * `JSON.parse` does.
 */
export function parseClean(text: string, clean: (text: string) => string): unknown {
  if (!text.includes('\\u')) return JSON.parse(text)
  return JSON.parse(text, (_key, value: unknown) => {
    if (typeof value === 'string') return clean(value)
    // A member's name too (a problem's members are kept as they come).
    if (!isObject(value) || Array.isArray(value)) return value
    const names = Object.keys(value)
    if (names.every((name) => clean(name) === name)) return value
    return Object.fromEntries(names.map((name) => [clean(name), Reflect.get(value, name)]))
  })
}

/**
 * `error` as one that cannot show the secret however it is printed (`util.inspect` shows every
 * field, down the causes): the client's own errors as they are (built from redacted text), and
 * the runtime's own as they are when nothing in it holds the secret and no field of it is an
 * object (an HTTP library's `request`, `options` or `response` may hold the key's header; another
 * class's getters may too); otherwise a plain
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
    BUILT_IN.has(Object.getPrototypeOf(error)) &&
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

/**
 * The prototypes of the runtime's own errors: an error of another class may hold the key where
 * its fields do not show it (a getter of its class's, `request`), and is made anew.
 */
const BUILT_IN = new Set<unknown>(
  [
    Error,
    TypeError,
    RangeError,
    SyntaxError,
    ReferenceError,
    URIError,
    EvalError,
    globalThis.AggregateError,
    globalThis.DOMException,
  ].map((type) => type?.prototype),
)

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
