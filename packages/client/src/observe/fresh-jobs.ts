/**
 * The jobs this client created lately. A job just created may not be readable yet: a store whose
 * replicas catch up after the create answered (a read answered 404, or 425 "too early", for a
 * second or two). Such an answer for a job made here within FRESH_MS is the server not having
 * caught up, not a wrong id: the wait looks again (failures.ts), where it once failed at once.
 */

/** How long after its create a job's absence is taken as the server catching up. */
export const FRESH_MS = 10_000
/** The most jobs remembered at once (a `createBatch` of more forgets its oldest early). */
const MOST = 10_000

/** Jobs created by this client, by id, with when (client clock). */
export class FreshJobs {
  readonly #madeAt = new Map<string, number>()

  /** Job `id` was created at `at`. */
  made(id: string, at: number): void {
    this.#madeAt.delete(id)
    this.#madeAt.set(id, at)
    // In the order made: the oldest first.
    for (const [old, madeAt] of this.#madeAt) {
      if (this.#madeAt.size <= MOST && at - madeAt < FRESH_MS) break
      this.#madeAt.delete(old)
    }
  }

  /** Job `id` was read: its absence from now on is no lag (a job deleted), nor lost. */
  seen(id: string): void {
    this.#madeAt.delete(id)
  }

  /** How long ago this client created job `id`, if within FRESH_MS and not read since. */
  ageOf(id: string, now: number): number | undefined {
    const madeAt = this.#madeAt.get(id)
    if (madeAt === undefined || now - madeAt >= FRESH_MS) return undefined
    return Math.max(0, now - madeAt)
  }
}
