/**
 * `watch` as a consumer of the monitor: an async iterator of the job's changes. It yields the
 * job whenever its status or progress moves (while the caller is busy, progress-only changes
 * collapse into the latest; no status is skipped), ends after the terminal status, and throws
 * what ended the observation early (a limit, a failure, the signal's reason). `break`,
 * `return()` or the signal end it and its requests at once.
 */
import { isTerminalStatus, type Job } from '../types.js'
import type { ProgressEstimate } from './estimate.js'
import type { Monitor, Start } from './monitor.js'
import type { Subscription, WaitLimits, WaitState } from './subscription.js'

/** The iterator `jobs.watch` returns. */
export class JobWatch implements AsyncIterableIterator<Job>, WaitState {
  readonly #queue: Job[] = []
  /** Calls of `next()` waiting for a value, in order. */
  readonly #readers: {
    resolve: (result: IteratorResult<Job>) => void
    reject: (error: unknown) => void
  }[] = []
  /** The job this watch yielded last (or queued). */
  #last: Job | undefined
  /** Set once the observation ended for this watch: normally, or with `error`. */
  #ended: { error?: unknown } | undefined
  readonly #subscription: Subscription | undefined
  /** Told once the watch has ended (the client's count of calls out: calls.ts). */
  readonly #onEnd: () => void

  constructor(
    monitor: Monitor,
    id: string,
    limits: WaitLimits,
    start: Start,
    onEnd: () => void = () => {},
  ) {
    this.#onEnd = onEnd
    if (limits.signal?.aborted) {
      this.#ended = { error: limits.signal.reason }
      onEnd()
      return
    }
    this.#subscription = monitor.subscribe(
      id,
      limits,
      {
        everyChange: true,
        next: (job) => {
          // Whatever the observation saw before, this watch yields every change it has not.
          const last = this.#last
          if (!last || last.status !== job.status || last.progress !== job.progress) this.#push(job)
          if (isTerminalStatus(job.status)) this.#finish({})
        },
        end: (error) => this.#finish({ error }),
      },
      start,
    )
  }

  /** The next change of the job (what `for await` calls). */
  next(): Promise<IteratorResult<Job>> {
    const job = this.#queue.shift()
    if (job) return Promise.resolve({ value: job, done: false })
    const ended = this.#ended
    if (ended) {
      // The error is thrown once; after it the iterator is simply done.
      this.#ended = {}
      return 'error' in ended ? Promise.reject(ended.error) : Promise.resolve(done())
    }
    return new Promise((resolve, reject) => this.#readers.push({ resolve, reject }))
  }

  /** Ends the watch (what `break` calls): its subscription leaves, its requests stop. */
  return(): Promise<IteratorResult<Job>> {
    this.#queue.length = 0
    this.#finish({})
    this.#ended = {}
    return Promise.resolve(done())
  }

  /** The watch is its own iterator: `for await (const job of watch)`. */
  [Symbol.asyncIterator](): this {
    return this
  }

  resumeToken(): string {
    return this.#state().resumeToken()
  }

  estimate(): ProgressEstimate {
    return this.#state().estimate()
  }

  #state(): Subscription {
    if (!this.#subscription)
      throw new TypeError('This watch never started: its signal was aborted.')
    return this.#subscription
  }

  #push(job: Job): void {
    this.#last = job
    const reader = this.#readers.shift()
    if (reader) {
      reader.resolve({ value: job, done: false })
      return
    }
    const last = this.#queue.at(-1)
    if (last && last.status === job.status) this.#queue[this.#queue.length - 1] = job
    else this.#queue.push(job)
  }

  #finish(ended: { error?: unknown }): void {
    if (this.#ended) return
    this.#subscription?.close()
    this.#onEnd()
    const readers = this.#readers.splice(0)
    if (readers.length === 0) {
      this.#ended = ended
      return
    }
    // The first waiting call gets the error (once); the rest, and later calls, are done.
    this.#ended = {}
    for (const [i, reader] of readers.entries()) {
      if (i === 0 && 'error' in ended) reader.reject(ended.error)
      else reader.resolve(done())
    }
  }
}

function done(): IteratorResult<Job> {
  return { value: undefined, done: true }
}
