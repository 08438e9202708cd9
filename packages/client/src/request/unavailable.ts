/**
 * A server that said it is unavailable (a 503 with `Retry-After`: maintenance, overload) is sent
 * nothing until then, then one request alone until it answers: every call of a client waiting out
 * the same 503 came back at the same moment, each refused again (100 createAndWaits through ten
 * minutes of 503s asking for two: 500 refusals). The pacer's turns wait for it (server-limit.ts);
 * meanwhile a request that would not wait out what is left of the server's word fails at once,
 * unsent (turns.ts, `pauseRefusal`; its error is `stillUnavailable`'s).
 */
import { type ApiError, type RequestInfo, requestLine, ServerError, shown } from '../errors.js'
import { notSent } from './key.js'

/** How long the request after the pause goes alone without an answer (one held by the server, say). */
const ALONE_MS = 2_000

export class Unavailable {
  /** Until when requests are held (at most a minute by default: turns.ts). */
  #until = 0
  /** Until when the server said it takes no request: a request that would not wait so long fails. */
  #saidUntil = 0
  /** The request after the pause: still to go (`due`), or out since `#outAt`. */
  #probe: 'none' | 'due' | 'out' = 'none'
  #outAt = 0

  /** The refusal that said it last: what a request not sent meanwhile quotes. */
  refusal: ApiError | undefined

  /**
   * The server said it is unavailable until `saidUntil` (in `refusal`); requests are held until
   * `until`.
   */
  said(until: number, saidUntil: number, refusal?: ApiError): void {
    // Not after an earlier pause that is over: its times are no longer the server's word.
    const over = this.#probe === 'none'
    this.#until = over ? until : Math.max(this.#until, until)
    this.#saidUntil = over ? saidUntil : Math.max(this.#saidUntil, saidUntil)
    this.#probe = 'due'
    if (refusal) this.refusal = refusal
  }

  /** Whether a request may go now by it (the pacer's limit may still say no). */
  allows(now: number): boolean {
    if (this.#probe === 'out' && now - this.#outAt >= ALONE_MS) this.#probe = 'none'
    return this.#probe === 'none' || (this.#probe === 'due' && now >= this.#until)
  }

  /** A request went: the first after the pause goes alone. */
  went(now: number): void {
    if (this.#probe !== 'due') return
    this.#probe = 'out'
    this.#outAt = now
  }

  /**
   * While requests are held: how much is left of the time the server said it takes no request
   * (0: none, or no longer held).
   */
  saidMs(now: number): number {
    return this.#probe === 'due' && now < this.#until ? this.#saidUntil - now : 0
  }

  /** In how many ms a request may go by it. */
  untilMs(now: number): number {
    if (this.#probe === 'none') return 0
    return this.#probe === 'due' ? this.#until - now : this.#outAt + ALONE_MS - now
  }

  /**
   * The request after the pause ended otherwise than with the server saying it again: answered,
   * requests go as before; failed on the way, the next goes alone.
   */
  answered(ok: boolean): void {
    if (this.#probe === 'out') this.#probe = ok ? 'none' : 'due'
  }
}

/**
 * The error of `request`, not sent: the server said (a 503 with `Retry-After` to an earlier
 * request, `refusal`) that it takes none for `pausedMs` more, longer than this request would
 * wait. It quotes the refusal (its request and what the server said): a `waitAll`'s jobs each
 * named their own request, never sent, and not the batch's "migration in progress".
 */
export function stillUnavailable(
  request: RequestInfo,
  pausedMs: number,
  refusal?: ApiError,
): ServerError {
  const retryAfterS = Math.ceil(pausedMs / 1_000)
  const earlier = refusal ? requestLine(refusal.request) : 'an earlier request'
  const said = refusal?.problem?.detail ?? refusal?.problem?.title
  const quoted = said ? ` ("${shown(said, 200)}")` : ''
  const detail = `not sent: the server answered ${earlier} 503 with Retry-After${quoted}, unavailable ${retryAfterS} s more`
  const error = new ServerError({
    status: 503,
    problem: { type: 'about:blank', title: 'Service Unavailable', status: 503, detail },
    requestId: undefined,
    headers: new Headers({ 'retry-after': String(retryAfterS) }),
    request: { method: request.method, path: request.path },
    retryAfterMs: Math.ceil(pausedMs),
  })
  notSent.add(error)
  return error
}
