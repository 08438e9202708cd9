/**
 * The in-memory job store. Ids come from the seeded PRNG, so the same seed and the same requests
 * give the same ids.
 */
import type { JobRecord } from './lifecycle.js'
import { type Random, randomHex } from './rng.js'

/** What a new job needs besides its id. */
export type NewJob = Omit<JobRecord, 'id'>

/** Holds every job the simulator knows. */
export class JobStore {
  readonly #jobs = new Map<string, JobRecord>()
  readonly #random: Random

  constructor(random: Random) {
    this.#random = random
  }

  /** Stores a new job under a fresh id and returns it. */
  create(job: NewJob): JobRecord {
    let id: string
    do id = `job_${randomHex(this.#random, 16)}`
    while (this.#jobs.has(id))
    const record = { ...job, id }
    this.#jobs.set(id, record)
    return record
  }

  /** The job with this id, if any. */
  get(id: string): JobRecord | undefined {
    return this.#jobs.get(id)
  }
}
