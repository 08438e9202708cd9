/**
 * A limit in front of the one the server states: a proxy's (nginx's `limit_req` with
 * `limit_req_status 429`), which refuses requests with a bare 429 (no limit stated in it) while the
 * server's answers state a limit with room left. Sent at the stated 50 a second behind nginx's
 * 20, 600 reads drew 410 refusals and 361 failed. Found (server-limit.ts then halves this
 * client's share of the stated rate), it is taken to be there for a while: the share rises back
 * slowly meanwhile, as answers saying the server's bucket is roomy say nothing of the proxy's.
 */

/**
 * How long such a limit is taken to be there after it refused a request: meanwhile this client's
 * share of the stated rate is not given back whole after a minute without refusals (it came
 * back to the stated rate each minute, and was refused in bursts).
 */
const THERE_MS = 600_000
/**
 * It is found once at least BARE_REFUSALS of the last RECENT answers under the stated limit were
 * bare refusals, each request counted once (not its retries): one now and then (a gateway's fault, 1 % of the requests) halved the
 * share each time and held a client at a tenth of its rate.
 */
const BARE_REFUSALS = 5
const RECENT = 20

/** See the module's comment. */
export class FrontLimit {
  #until = Number.NEGATIVE_INFINITY
  /** Of the last RECENT answers under a stated limit, whether each was a bare refusal. */
  #bare: boolean[] = []

  /** An answer under the stated limit; `bare`: a refusal stating none. */
  answered(bare: boolean): void {
    this.#bare.push(bare)
    if (this.#bare.length > RECENT) this.#bare.shift()
  }

  /** Whether bare refusals came often enough lately to be such a limit's. */
  often(): boolean {
    return this.#bare.filter(Boolean).length >= BARE_REFUSALS
  }

  /** It refused a request at `now`: taken to be there until THERE_MS later. */
  found(now: number): void {
    this.#until = now + THERE_MS
  }

  /** Whether it is taken to be there at `now`. */
  there(now: number): boolean {
    return now < this.#until
  }
}
