/**
 * The in-memory job store: jobs by id, idempotency keys by tenant, and expiry of finished jobs
 * after a TTL so memory stays bounded on a long run.
 */
import { type JobRecord, timeline } from './lifecycle.js'

/** What a replayed create must match: the job it made and a fingerprint of its body. */
interface IdempotencyEntry {
  fingerprint: string
  jobId: string
}

/** Holds every job the simulator knows. */
export class JobStore {
  readonly #jobs = new Map<string, JobRecord>()
  readonly #idempotency = new Map<string, IdempotencyEntry>()
  #lastSweep = Number.NEGATIVE_INFINITY

  /** Stores a job. */
  add(record: JobRecord): void {
    this.#jobs.set(record.id, record)
  }

  /** Whether an id is taken. */
  has(id: string): boolean {
    return this.#jobs.has(id)
  }

  /** The tenant's job with this id, unless it expired at `now`. */
  get(tenant: string, id: string, now: number, ttlMs: number): JobRecord | undefined {
    const record = this.#jobs.get(id)
    if (record === undefined || record.tenant !== tenant) return undefined
    if (now >= timeline(record).end + ttlMs) {
      this.#jobs.delete(id)
      return undefined
    }
    return record
  }

  /** The job an idempotency key made, with the fingerprint of the body it came with. */
  getIdempotent(tenant: string, key: string): IdempotencyEntry | undefined {
    return this.#idempotency.get(`${tenant}\u0000${key}`)
  }

  /** Remembers which job an idempotency key made. */
  setIdempotent(tenant: string, key: string, entry: IdempotencyEntry): void {
    this.#idempotency.set(`${tenant}\u0000${key}`, entry)
  }

  /** Drops jobs finished more than `ttlMs` ago, and their idempotency keys; at most once per TTL/4. */
  sweep(now: number, ttlMs: number): void {
    if (now - this.#lastSweep < ttlMs / 4) return
    this.#lastSweep = now
    for (const [id, record] of this.#jobs) {
      if (now >= timeline(record).end + ttlMs) this.#jobs.delete(id)
    }
    for (const [key, entry] of this.#idempotency) {
      if (!this.#jobs.has(entry.jobId)) this.#idempotency.delete(key)
    }
  }

  /** How many jobs are held. */
  get size(): number {
    return this.#jobs.size
  }
}
