/**
 * Every status check the client made, per job: when, what it saw, the HTTP status, how long it
 * took and which attempt it was. Bounded: the last 1,000 checks of the last 1,000 jobs.
 */
import type { JobStatus } from './types.js'

/** One status check. */
export interface HistoryEntry {
  /** When the check was answered (ms since the epoch of the client's clock). */
  at: number
  /** The status seen, or null when the check failed. */
  status: JobStatus | null
  /** The HTTP status, or null when no response came. */
  httpStatus: number | null
  latencyMs: number
  /** The wait's attempt number (1 for the first check), or 0 outside a wait. */
  attempt: number
  /** What went wrong, when the check failed. */
  error?: string
}

const MAX_JOBS = 1_000
const MAX_ENTRIES = 1_000

/** Status checks by job id. */
export class History {
  readonly #byJob = new Map<string, HistoryEntry[]>()
  /** The job checked last, which is already last in the map's order. */
  #newest: string | undefined

  /** Records a check of job `id`. */
  record(id: string, entry: HistoryEntry): void {
    let entries = this.#byJob.get(id)
    // The most recently checked job goes last, so that the least recent is dropped first.
    if (!entries || id !== this.#newest) {
      if (entries) this.#byJob.delete(id)
      else if (this.#byJob.size >= MAX_JOBS)
        this.#byJob.delete(this.#byJob.keys().next().value as string)
      entries ??= []
      this.#byJob.set(id, entries)
      this.#newest = id
    }
    entries.push(entry)
    if (entries.length > MAX_ENTRIES) entries.shift()
  }

  /** A copy of the checks of job `id`, oldest first. */
  get(id: string): HistoryEntry[] {
    return [...(this.#byJob.get(id) ?? [])]
  }
}
