/**
 * Every status check the client made, per job: when, what it saw, the HTTP status, how long it
 * took and which attempt it was. Bounded: the last 1,000 checks of each of the last 1,000 jobs,
 * and 20,000 in all (a few MB: a service waiting on long jobs for months keeps no more).
 */
import { isApiError, isInvalidResponseError } from './errors.js'
import type { JobStatus } from './types.js'

/** One status check. */
export interface HistoryEntry {
  /** When the check was answered (ms since the epoch of the client's clock). */
  at: number
  /**
   * The status seen (the status last seen, for an answer saying nothing changed: a 304), or null
   * when the check failed.
   */
  status: JobStatus | null
  /** The HTTP status, or null when no response came. */
  httpStatus: number | null
  latencyMs: number
  /** The wait's attempt number (1 for the first check), or 0 outside a wait. */
  attempt: number
  /** What went wrong, when the check failed. */
  error?: string
  /**
   * Set for a status the server pushed on the job's event stream (no request of its own). Events
   * in a row with one status (progress) are one entry, as of the last of them.
   */
  pushed?: true
}

const MAX_JOBS = 1_000
const MAX_ENTRIES = 1_000
const MAX_TOTAL = 20_000

/** The checks of one job: a ring of at most MAX_ENTRIES, `next` the slot the next one takes. */
interface Checks {
  entries: HistoryEntry[]
  next: number
}

/** Status checks by job id. */
export class History {
  readonly #byJob = new Map<string, Checks>()
  /** The job checked last, which is already last in the map's order. */
  #newest: string | undefined
  /** Entries kept, of every job. */
  #total = 0

  /** Records a check of job `id`. */
  record(id: string, entry: HistoryEntry): void {
    let checks = this.#byJob.get(id)
    // The most recently checked job goes last, so that the least recent is dropped first.
    if (!checks || id !== this.#newest) {
      if (checks) this.#byJob.delete(id)
      else if (this.#byJob.size >= MAX_JOBS) this.#forgetOldest()
      checks ??= { entries: [], next: 0 }
      this.#byJob.set(id, checks)
      this.#newest = id
    }
    const { entries } = checks
    const last = entries[(checks.next + MAX_ENTRIES - 1) % MAX_ENTRIES]
    // A stream's progress events: one entry for the status, as of the latest (a job's event
    // stream sends one every few hundred ms; a thousand of them would say nothing more).
    if (entry.pushed && last?.pushed && last.status === entry.status) {
      entries[(checks.next + MAX_ENTRIES - 1) % MAX_ENTRIES] = entry
      return
    }
    if (entries.length < MAX_ENTRIES) this.#total++
    // A full ring overwrites its oldest entry: no shifting of a long array on every check.
    entries[checks.next] = entry
    checks.next = (checks.next + 1) % MAX_ENTRIES
    // Past the bound in all: the least recently checked jobs go (never the one just checked).
    while (this.#total > MAX_TOTAL && this.#byJob.size > 1) this.#forgetOldest()
  }

  #forgetOldest(): void {
    const [id, checks] = this.#byJob.entries().next().value as [string, Checks]
    this.#byJob.delete(id)
    this.#total -= checks.entries.length
  }

  /** A copy of the checks of job `id`, oldest first. */
  get(id: string): HistoryEntry[] {
    const checks = this.#byJob.get(id)
    if (!checks) return []
    // Until the ring is full, `next` is its length and the first slice is empty.
    const { entries, next } = checks
    return [...entries.slice(next), ...entries.slice(0, next)]
  }
}

/**
 * Records a check of job `id` that began at `startedAt` and ended at `at`: the status it saw
 * (as last seen, for a 304) with the HTTP status, or the error it failed with.
 */
export function recordCheck(
  history: History,
  id: string,
  check: { startedAt: number; at: number; attempt: number },
  outcome: { status: JobStatus | null; httpStatus: number; pushed?: true } | { error: unknown },
): void {
  const { startedAt, at, attempt } = check
  const latencyMs = at - startedAt
  if ('error' in outcome) {
    const { error } = outcome
    history.record(id, {
      at,
      status: null,
      httpStatus: isApiError(error) || isInvalidResponseError(error) ? error.status : null,
      latencyMs,
      attempt,
      error: error instanceof Error ? error.message : String(error),
    })
  } else {
    history.record(id, { at, ...outcome, latencyMs, attempt })
  }
}
