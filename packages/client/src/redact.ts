/**
 * Keeping the API key out of everything the client builds from text it did not write: a
 * server's error body (which may echo the `Authorization` header) and a runtime's error message
 * (which may quote a header value). Applied where such text enters the client, in http.ts, so
 * error messages, events, log lines and the history never carry the key.
 */

/** What stands in for the key. */
export const REDACTED = '[redacted]'

/** Replaces every occurrence of `secret` in text; the identity when there is no secret. */
export type Redactor = (text: string) => string

/**
 * A redactor for the API key `secret` (and so for its `Bearer` form too), as written plainly,
 * percent-encoded (a server quoting a URL), or either escaped in JSON once or twice (`\"`, `\\`,
 * and `\/` as some servers write `/`): a server that quotes the header as JSON inside its JSON
 * body escapes it twice, and the body's text is redacted before it is parsed.
 */
export function redactor(secret: string | undefined): Redactor {
  if (!secret) return (text) => text
  const inJson = (text: string) => JSON.stringify(text).slice(1, -1)
  // Each level of JSON escaping, with `/` escaped or not (PHP's json_encode escapes it).
  const escapings = (text: string) => [inJson(text), inJson(text).replaceAll('/', '\\/')]
  const plain = [secret, encodeURIComponent(secret)]
  const once = plain.flatMap(escapings)
  const forms = [...new Set([...plain, ...once, ...once.flatMap(escapings)])]
  // The longest first, so no form is cut into by a shorter one.
  forms.sort((a, b) => b.length - a.length)
  return (text) =>
    forms.reduce((out, form) => (out.includes(form) ? out.split(form).join(REDACTED) : out), text)
}

/**
 * Fields with which an HTTP library's errors carry the request (and its `Authorization` header):
 * ky's `request` and `options`, axios's `config`, others' `headers` or `response`.
 */
const CARRIERS = ['request', 'options', 'config', 'headers', 'response']

/**
 * `error` with the secret taken out of its message and the messages of its causes (or of the
 * string thrown or given as a cause): the same error when none holds it, else a plain `Error` of
 * the same name, redacted message and `code`. An error that carries its request (a custom fetch's,
 * such as ky's `TimeoutError`) is always made plain: printed, it would show the key's header.
 */
export function redactError(error: unknown, redact: Redactor, depth = 0): unknown {
  if (typeof error === 'string') return redact(error)
  if (!(error instanceof Error) || depth > 5) return error
  const cause = redactError(error.cause, redact, depth + 1)
  const message = redact(error.message)
  const carries = CARRIERS.some((field) => Object.hasOwn(error, field))
  if (!carries && message === error.message && cause === error.cause) return error
  const clean = new Error(message, cause === undefined ? undefined : { cause })
  clean.name = error.name
  const { code } = error as { code?: unknown }
  if (typeof code === 'string') Object.assign(clean, { code: redact(code) })
  return clean
}
