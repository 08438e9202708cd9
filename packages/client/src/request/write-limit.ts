/**
 * The writes' own rate limit (POST: creates, cancels), learned from their refusals where the
 * server states no limit: many servers limit writes apart from reads (a quota of creates), and a
 * create refused must not slow the status checks. A token bucket of one, at the rate learned
 * (share.ts: halved at each refusal, rising back on a curve), forgotten after a minute without a
 * refusal; and a pause, for a write's `Retry-After` where the limit stated says tokens are left.
 * Writes go under it and under the limit of every request (pacing.ts).
 */
import type { Ticket } from './pacing.js'
import { RateShare } from './share.js'

/** A bucket of one token, refilled at `perMs`. */
interface Bucket {
  tokens: number
  at: number
  perMs: number
}

/** Whether `request` is a write (anything but a GET: a create, a cancel). */
export function isWrite(request: { method: string }): boolean {
  return request.method !== 'GET'
}

/** What a write's turn took its token from (see `took`). */
export type WriteToken = object

/** The writes' learned limit of one client, when one was learned. */
export class WriteLimit {
  #bucket: Bucket | undefined
  readonly #share = new RateShare()
  /** Until when no write goes (a write's `Retry-After`). */
  #pausedUntil = 0

  /** Whether it may hold writes back at all (a limit learned, or a pause said). */
  get engaged(): boolean {
    return this.#bucket !== undefined || this.#pausedUntil > 0
  }

  /** The rate learned, in requests a ms; undefined while none is. */
  get perMs(): number | undefined {
    return this.#bucket?.perMs
  }

  /** In how many ms a write may go: 0 now, or while nothing holds writes back. */
  untilMs(now: number): number {
    const bucket = this.#bucket
    const pausedMs = this.#pausedUntil - now
    if (pausedMs <= 0) this.#pausedUntil = 0
    return Math.max(0, pausedMs, bucket ? (1 - tokensAt(bucket, now)) / bucket.perMs : 0)
  }

  /** No write goes before `until` (a write's `Retry-After`). */
  pause(until: number): void {
    this.#pausedUntil = Math.max(this.#pausedUntil, until)
  }

  /**
   * A write goes now (`untilMs` said it may): its token taken, from the limit returned (to give
   * it back to: `gaveBack`), if one is learned.
   */
  took(now: number): WriteToken | undefined {
    const bucket = this.#bucket
    if (!bucket) return undefined
    bucket.tokens = tokensAt(bucket, now) - 1
    bucket.at = now
    return bucket
  }

  /**
   * A write given its turn was not sent: its token back, unless the limit it was taken from is
   * no more (one learned since, from a refusal, is not given a token it never had).
   */
  gaveBack(token: WriteToken): void {
    const bucket = this.#bucket
    if (bucket === token) bucket.tokens = Math.min(1, bucket.tokens + 1)
  }

  /**
   * The write of `ticket` was refused with a 429 where no limit is stated (`last`: the last
   * ticket given): the limit learned, or halved.
   */
  refused(ticket: Ticket, last: Ticket, now: number): void {
    const perMs = this.#share.learn(ticket, last, now, this.#bucket?.perMs)
    if (perMs !== undefined) this.#bucket = { tokens: 0, at: now, perMs }
  }

  /** No limit learned is kept any more (the server states one; a pause said stands). */
  forget(): void {
    this.#bucket = undefined
  }

  /** The write of `ticket` was answered: counted, and the limit raised (or forgotten). */
  answered(ticket: Ticket, now: number): void {
    this.#share.count(now)
    const bucket = this.#bucket
    if (!bucket) return
    const perMs = this.#share.raised(ticket, now, bucket.perMs, true)
    if (perMs === undefined) this.#bucket = undefined
    else bucket.perMs = perMs
  }
}

/** The tokens of `bucket` at `now` (none added for a clock stepped back). */
function tokensAt(bucket: Bucket, now: number): number {
  return Math.min(1, bucket.tokens + Math.max(0, now - bucket.at) * bucket.perMs)
}
