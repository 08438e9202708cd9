/**
 * The simulator: decides each new job's duration and outcome, answers what any job looks like
 * now by the injected clock, cancels jobs, waits for changes (long-poll, SSE) and sends webhooks.
 */
import type { CreateJobBody } from '../schemas/job.js'
import {
  DEFAULT_SETTINGS,
  FAULT_KINDS,
  mergeSettings,
  type SimulationSettings,
} from '../schemas/simulation.js'
import { BACKGROUND, type Cancel, type Clock, sleep, systemClock } from './clock.js'
import { sampleDuration } from './durations.js'
import {
  type JobRecord,
  type JobView,
  type Snapshot,
  snapshot,
  TERMINAL,
  timeline,
} from './lifecycle.js'
import { createRandom, type Random, randomHex } from './rng.js'
import { JobStore } from './store.js'
import { type WebhookFetch, WebhookSender } from './webhooks.js'

/** The tenant of the original challenge's single job, which needs no key. */
const LEGACY_TENANT = ''

/** What the simulator needs besides its settings. */
export interface SimulatorDeps {
  clock?: Clock
  /** Secret that signs webhooks. */
  webhookSecret: string
  /** The fetch that delivers webhooks. @default globalThis.fetch */
  webhookFetch?: WebhookFetch
}

/** The result of a create. */
export type CreateResult =
  | { kind: 'created' | 'replayed'; snapshot: Snapshot }
  | { kind: 'conflict'; jobId: string }

/** One kind of injected fault. */
export type FaultKind = (typeof FAULT_KINDS)[number]

/** Each fault with the name of its rate setting, made once rather than on every draw. */
const FAULT_RATES = FAULT_KINDS.map((kind) => [kind, `rate_${kind}` as const] as const)

/** A simulated backend holding jobs in memory. */
export class Simulator {
  readonly clock: Clock
  readonly webhooks: WebhookSender
  readonly #store = new JobStore()
  readonly #listeners = new Map<string, Set<() => void>>()
  readonly #webhookTimers = new Map<string, Cancel>()
  #settings: SimulationSettings
  #jobRandom: Random
  #faultRandom: Random
  #legacy: JobRecord

  constructor(settings: SimulationSettings, deps: SimulatorDeps) {
    this.clock = deps.clock ?? systemClock
    this.#settings = settings
    this.#jobRandom = createRandom(settings.seed)
    this.#faultRandom = createRandom(settings.seed ^ 0x5bd1e995)
    this.webhooks = new WebhookSender({
      clock: this.clock,
      secret: deps.webhookSecret,
      fetch: deps.webhookFetch ?? ((input, init) => globalThis.fetch(input, init)),
    })
    this.#legacy = this.#newRecord(LEGACY_TENANT, settings.legacy_completion_time_s * 1000, {
      video_url: 'https://example.com/original-challenge.mp4',
      target_language: 'es',
    })
  }

  /** How many jobs are held in memory (finished ones leave after `job_ttl_ms`). */
  get jobCount(): number {
    return this.#store.size
  }

  /** The current settings. */
  get settings(): SimulationSettings {
    return this.#settings
  }

  /**
   * Applies a settings patch; one naming `seed` restarts the random sequences, even at the seed
   * they run from (a test suite starts each case over so).
   */
  updateSettings(patch: unknown): ReturnType<typeof mergeSettings> {
    const result = mergeSettings(this.#settings, patch)
    if (!result.success) return result
    const reseed = typeof patch === 'object' && patch !== null && 'seed' in patch
    const legacyS = result.data.legacy_completion_time_s
    const restartLegacy = legacyS !== this.#settings.legacy_completion_time_s
    this.#settings = result.data
    // A new completion time restarts the original challenge's job, as `set_completion_time` does.
    if (restartLegacy) this.setLegacyCompletionTime(legacyS)
    if (reseed) {
      this.#jobRandom = createRandom(result.data.seed)
      this.#faultRandom = createRandom(result.data.seed ^ 0x5bd1e995)
    }
    return result
  }

  /** Creates a job, or replays the one an idempotency key already made. */
  createJob(tenant: string, body: CreateJobBody, idempotencyKey?: string): CreateResult {
    const now = this.clock.now()
    this.#store.sweep(now, this.#settings.job_ttl_ms)
    const fingerprint = fingerprintOf(body)
    if (idempotencyKey !== undefined) {
      const entry = this.#store.getIdempotent(tenant, idempotencyKey)
      const existing = entry && this.#store.get(tenant, entry.jobId, now, this.#settings.job_ttl_ms)
      if (entry && existing) {
        if (entry.fingerprint !== fingerprint) return { kind: 'conflict', jobId: entry.jobId }
        return { kind: 'replayed', snapshot: this.#snapshot(existing) }
      }
    }
    const durationMs =
      body.simulate?.duration_ms ?? sampleDuration(this.#settings.durations, this.#jobRandom)
    const record = this.#newRecord(tenant, durationMs, body)
    this.#store.add(record)
    if (idempotencyKey !== undefined) {
      this.#store.setIdempotent(tenant, idempotencyKey, { fingerprint, jobId: record.id })
    }
    if (record.callback_url !== null) this.#scheduleWebhook(record)
    return { kind: 'created', snapshot: this.#snapshot(record) }
  }

  /** The tenant's job as it is now. */
  getJob(tenant: string, id: string): Snapshot | undefined {
    const record = this.#find(tenant, id)
    return record && this.#snapshot(record)
  }

  /** Several jobs at once, in the order asked, and the ids not found. */
  getJobs(tenant: string, ids: readonly string[]): { jobs: Snapshot[]; missing: string[] } {
    const jobs: Snapshot[] = []
    const missing: string[] = []
    for (const id of ids) {
      const found = this.getJob(tenant, id)
      if (found) jobs.push(found)
      else missing.push(id)
    }
    return { jobs, missing }
  }

  /** Cancels a job that is not terminal yet. */
  cancelJob(
    tenant: string,
    id: string,
  ): { kind: 'not-found' } | { kind: 'terminal' | 'canceled'; snapshot: Snapshot } {
    const record = this.#find(tenant, id)
    if (record === undefined) return { kind: 'not-found' }
    const before = this.#snapshot(record)
    if (TERMINAL.has(before.view.status)) return { kind: 'terminal', snapshot: before }
    record.canceledAt = this.clock.now()
    this.#webhookTimers.get(record.id)?.()
    this.#webhookTimers.delete(record.id)
    const after = this.#snapshot(record)
    if (record.callback_url !== null) void this.webhooks.send(record.callback_url, after.view)
    this.#notify(record.id)
    return { kind: 'canceled', snapshot: after }
  }

  /**
   * Resolves at `at` on the clock, or earlier when the job is acted on (canceled). Rejects with
   * the signal's reason if it aborts first, releasing its timer and listener.
   */
  async waitForChange(id: string, at: number, signal?: AbortSignal): Promise<void> {
    const delay = at - this.clock.now()
    if (delay <= 0) return
    const listeners = this.#listeners.get(id) ?? new Set()
    this.#listeners.set(id, listeners)
    const controller = new AbortController()
    const wake = () => controller.abort()
    const onAbort = () => controller.abort(signal?.reason)
    listeners.add(wake)
    signal?.addEventListener('abort', onAbort, { once: true })
    try {
      await sleep(this.clock, delay, controller.signal)
    } catch (error) {
      if (signal?.aborted) throw error
    } finally {
      listeners.delete(wake)
      if (listeners.size === 0) this.#listeners.delete(id)
      signal?.removeEventListener('abort', onAbort)
    }
  }

  /** The original challenge's job. */
  legacyStatus(): JobView['status'] {
    return snapshot(this.#legacy, this.clock.now(), this.#settings.hints).view.status
  }

  /** Restarts the original challenge's job so that it ends `seconds` from now. */
  setLegacyCompletionTime(seconds: number): void {
    this.#legacy = this.#newRecord(LEGACY_TENANT, Math.round(seconds * 1000), this.#legacy)
  }

  /** Draws the fault to inject into one request, if any. */
  drawFault(): FaultKind | null {
    const draw = this.#faultRandom()
    let threshold = 0
    for (const [kind, rate] of FAULT_RATES) {
      threshold += this.#settings.faults[rate]
      if (draw < threshold) return kind
    }
    return null
  }

  /** Draws the latency to add to one response, in ms. */
  drawLatency(): number {
    const { min, max } = this.#settings.latency_ms
    return max === min ? min : Math.round(min + this.#faultRandom() * (max - min))
  }

  #find(tenant: string, id: string): JobRecord | undefined {
    return this.#store.get(tenant, id, this.clock.now(), this.#settings.job_ttl_ms)
  }

  /** The job as it stands now, or at `at` if that is later. */
  #snapshot(record: JobRecord, at = this.clock.now()): Snapshot {
    return snapshot(record, Math.max(at, this.clock.now()), this.#settings.hints)
  }

  #newRecord(
    tenant: string,
    durationMs: number,
    body: {
      video_url: string
      target_language: string
      title?: string | null | undefined
      callback_url?: string | null | undefined
      simulate?: CreateJobBody['simulate']
    },
  ): JobRecord {
    // The creation time first: a server restarted with the same seed draws the same numbers, and
    // must not hand out an id it gave before (a client still waiting on the old job would take
    // the new one for it). On a manual clock, the same ids run after run. (A sped-up clock
    // starts again from the wall clock: restarted within a run's span, it may pass the same
    // milliseconds again, and repeat ids made in them.)
    const time = Math.floor(this.clock.now()).toString(16).padStart(12, '0')
    let id: string
    do id = `job_${time}${randomHex(this.#jobRandom, 16)}`
    while (this.#store.has(id))
    const failed = this.#jobRandom() < this.#settings.error_rate
    return {
      id,
      tenant,
      createdAt: this.clock.now(),
      durationMs,
      outcome: body.simulate?.outcome ?? (failed ? 'error' : 'completed'),
      seed: Math.floor(this.#jobRandom() * 0x1_0000_0000),
      intervalMs: this.#settings.progress_interval_ms,
      canceledAt: null,
      video_url: body.video_url,
      target_language: body.target_language,
      title: body.title ?? null,
      callback_url: body.callback_url ?? null,
    }
  }

  #scheduleWebhook(record: JobRecord): void {
    const { finish } = timeline(record)
    const cancel = this.clock.schedule(
      finish - this.clock.now(),
      () => {
        this.#webhookTimers.delete(record.id)
        // As of the end: a real timer may fire a millisecond before the wall clock reaches it,
        // and the webhook must carry the terminal job, never a running one.
        if (record.callback_url !== null)
          void this.webhooks.send(record.callback_url, this.#snapshot(record, finish).view)
      },
      BACKGROUND,
    )
    this.#webhookTimers.set(record.id, cancel)
  }

  #notify(id: string): void {
    for (const wake of [...(this.#listeners.get(id) ?? [])]) wake()
  }
}

/** Creates a simulator from a settings patch over the defaults. */
export function createSimulator(patch: unknown, deps: SimulatorDeps): Simulator {
  const result = mergeSettings(DEFAULT_SETTINGS, patch ?? {})
  if (!result.success) {
    const issue = result.error.issues[0]
    throw new TypeError(
      `invalid simulation settings at /${issue?.path.join('/') ?? ''}: ${issue?.message ?? 'invalid'}`,
    )
  }
  return new Simulator(result.data, deps)
}

/**
 * What an idempotent create is compared by: the job the body asks for, so that the same request
 * said another way (`title: null` or none, `simulate: {}` or none, keys in another order) replays.
 */
function fingerprintOf(body: CreateJobBody): string {
  const { video_url, target_language, title, callback_url, simulate } = body
  return JSON.stringify([
    video_url,
    target_language,
    title ?? null,
    callback_url ?? null,
    simulate?.duration_ms ?? null,
    simulate?.outcome ?? null,
  ])
}
