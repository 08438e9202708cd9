/**
 * A job's life as a pure function of time: from when it was created, how long it takes, how it
 * ends and whether it was canceled, the status, progress, ETA and hints at any instant follow.
 * Progress moves in steps (`intervalMs`), so a representation stays the same between steps and
 * ETags, long-polls and event ids have something stable to refer to.
 */
import type { SimulationSettings } from '../schemas/simulation.js'
import { hashUnit } from './rng.js'

/** What the simulator decided about a job when it was created, and whether it was canceled. */
export interface JobRecord {
  id: string
  /** The API key's tenant; jobs of other tenants are invisible. */
  tenant: string
  createdAt: number
  /** Time from creation to the terminal status. */
  durationMs: number
  outcome: 'completed' | 'error'
  /** Seed of this job's hint noise. */
  seed: number
  /** Progress step, fixed at creation so event ids stay monotonic whatever the settings do. */
  intervalMs: number
  canceledAt: number | null
  video_url: string
  target_language: string
  title: string | null
  callback_url: string | null
}

/** The wire shape of a job (protocol v1). */
export interface JobView {
  id: string
  status: 'pending' | 'running' | 'completed' | 'error' | 'canceled'
  progress: number
  eta_ms: number | null
  created_at: string
  updated_at: string
  video_url: string
  target_language: string
  title: string | null
  result: { url: string } | null
  error: { code: string; message: string } | null
}

/** A job at one instant, with what the server says about it besides the body. */
export interface Snapshot {
  view: JobView
  /** Grows by one or more with every change of the representation (SSE event id). */
  version: number
  /**
   * When the hints say the job ends (ms on the simulation's clock: its ETA, noise and all), or
   * null when hints are off or the job is terminal; `retryAfterS` reads it at the time of an answer.
   */
  endsAt: number | null
  /** When the representation changes next without anyone acting, or null once terminal. */
  nextChangeAt: number | null
  /** When the status changes next without anyone acting, or null once terminal. */
  nextStatusChangeAt: number | null
}

/** The share of a job's duration spent queued (`pending`) before it starts running. */
const QUEUED_SHARE = 0.1

/** Statuses a job never leaves. */
export const TERMINAL = new Set<JobView['status']>(['completed', 'error', 'canceled'])

/** The moments that shape a job's timeline. */
export function timeline(record: JobRecord) {
  const runStart = record.createdAt + Math.round(record.durationMs * QUEUED_SHARE)
  const finish = record.createdAt + record.durationMs
  const end = record.canceledAt !== null && record.canceledAt < finish ? record.canceledAt : finish
  return { runStart, finish, end }
}

/** Where a job stands at one instant: everything its representation depends on but the hints. */
interface State {
  status: JobView['status']
  progress: number
  /** When the representation last changed. */
  since: number
  version: number
  /** When the representation changes next by itself, or null once terminal. */
  nextAt: number | null
  /** When the status changes next by itself, or null once terminal. */
  nextStatusAt: number | null
}

/** The job's state at `now`. */
function stateAt(record: JobRecord, now: number): State {
  const { finish, end } = timeline(record)
  if (now < end) return liveStateAt(record, now)
  if (end < finish) {
    const before = liveStateAt(record, end)
    return {
      status: 'canceled',
      progress: before.progress,
      since: end,
      version: before.version + 1,
      nextAt: null,
      nextStatusAt: null,
    }
  }
  const { runStart } = timeline(record)
  const steps = Math.ceil((finish - runStart) / record.intervalMs)
  return {
    status: record.outcome,
    // A failed job keeps the progress it had made; only a completed one reaches 1.
    progress: record.outcome === 'completed' ? 1 : liveStateAt(record, end - 1).progress,
    since: end,
    version: 3 + steps,
    nextAt: null,
    nextStatusAt: null,
  }
}

/** The version of a job's first running step (pending is 1; each step after adds one). */
const RUNNING_VERSION = 2

/** The state at `t` before the job's end, as if nothing else happened (pending or running). */
function liveStateAt(record: JobRecord, t: number): State {
  const { runStart, finish, end } = timeline(record)
  if (t < runStart) {
    const next = Math.min(runStart, end)
    return {
      status: 'pending',
      progress: 0,
      since: record.createdAt,
      version: 1,
      nextAt: next,
      nextStatusAt: next,
    }
  }
  const step = Math.floor((t - runStart) / record.intervalMs)
  const since = runStart + step * record.intervalMs
  const progress = Math.min(
    0.999,
    Math.round(((since - runStart) / (finish - runStart)) * 1000) / 1000,
  )
  return {
    status: 'running',
    progress,
    since,
    version: RUNNING_VERSION + step,
    nextAt: Math.min(since + record.intervalMs, end),
    nextStatusAt: end,
  }
}

/** The last snapshot of each job, reused while its version and the hint settings stay the same. */
const SNAPSHOTS = new WeakMap<JobRecord, { key: string; snapshot: Snapshot }>()

/** The job as it stands at `now`, with the hints of `hints`. */
export function snapshot(
  record: JobRecord,
  now: number,
  hints: SimulationSettings['hints'],
): Snapshot {
  const state = stateAt(record, now)
  const key = `${state.version}|${hints.mode}|${hints.eta_noise}|${hints.progress !== false}`
  const cached = SNAPSHOTS.get(record)
  if (cached?.key === key) return cached.snapshot
  const built = build(record, state, hints)
  SNAPSHOTS.set(record, { key, snapshot: built })
  return built
}

function build(record: JobRecord, state: State, hints: SimulationSettings['hints']): Snapshot {
  const terminal = state.nextAt === null
  // Without progress, a running job shows nothing between its status changes: its ETA is the one
  // as of its start (`updated_at`), with that moment's noise.
  const silent = hints.progress === false && state.status === 'running'
  const { finish, runStart } = timeline(record)
  const asOf = silent ? runStart : state.since
  const noise = hints.eta_noise * (2 * hashUnit(record.seed, silent ? -1 : state.version) - 1)
  const eta = terminal ? null : Math.max(0, Math.round((finish - asOf) * (1 + noise)))
  return {
    view: {
      id: record.id,
      status: state.status,
      progress:
        silent || (hints.progress === false && state.status !== 'completed') ? 0 : state.progress,
      eta_ms: hints.mode === 'eta' ? eta : null,
      created_at: iso(record.createdAt),
      updated_at: iso(asOf),
      video_url: record.video_url,
      target_language: record.target_language,
      title: record.title,
      result:
        state.status === 'completed'
          ? { url: `https://cdn.example.com/translated/${record.id}.mp4` }
          : null,
      error:
        state.status === 'error'
          ? { code: 'translation_failed', message: 'The speech track could not be translated.' }
          : null,
    },
    // Silent, the representation is the one of the run's start until the status changes: so are
    // its version (SSE sends no event, a long-poll is not released) and its next change.
    version: silent ? RUNNING_VERSION : state.version,
    endsAt: eta === null || hints.mode === 'none' ? null : asOf + eta,
    nextChangeAt: silent ? state.nextStatusAt : state.nextAt,
    nextStatusChangeAt: state.nextStatusAt,
  }
}

/**
 * The `Retry-After` hint of `job` answered at `now`, in seconds (1 to 60): until the end its
 * hints give, counted from the answer (RFC 9110), not from the job's last change; null when it
 * has none.
 */
export function retryAfterS(job: Snapshot, now: number): number | null {
  if (job.endsAt === null) return null
  return Math.min(60, Math.max(1, Math.ceil((job.endsAt - now) / 1000)))
}

function iso(ms: number): string {
  return new Date(ms).toISOString()
}
