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
  /** The `Retry-After` hint in seconds, or null when hints are off or the job is terminal. */
  retryAfterS: number | null
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

/** The job as it stands at `now`, with the hints of `hints`. */
export function snapshot(
  record: JobRecord,
  now: number,
  hints: SimulationSettings['hints'],
): Snapshot {
  const { runStart, finish, end } = timeline(record)
  const steps = Math.ceil((finish - runStart) / record.intervalMs)
  if (now >= end) {
    const canceled = end < finish
    const before = canceled ? progressAt(record, end, runStart, finish) : undefined
    const status = canceled ? 'canceled' : record.outcome
    return {
      view: {
        id: record.id,
        status,
        progress: before?.progress ?? 1,
        eta_ms: null,
        created_at: iso(record.createdAt),
        updated_at: iso(end),
        video_url: record.video_url,
        target_language: record.target_language,
        title: record.title,
        result:
          status === 'completed'
            ? { url: `https://cdn.example.com/translated/${record.id}.mp4` }
            : null,
        error:
          status === 'error'
            ? { code: 'translation_failed', message: 'The speech track could not be translated.' }
            : null,
      },
      version: canceled ? (before?.version ?? 1) + 1 : 3 + steps,
      retryAfterS: null,
      nextChangeAt: null,
      nextStatusChangeAt: null,
    }
  }
  const state = progressAt(record, now, runStart, finish)
  const trueEta = finish - state.since
  const noisyEta = Math.max(
    0,
    Math.round(trueEta * (1 + hints.eta_noise * (2 * hashUnit(record.seed, state.version) - 1))),
  )
  return {
    view: {
      id: record.id,
      status: state.status,
      progress: state.progress,
      eta_ms: hints.mode === 'eta' ? noisyEta : null,
      created_at: iso(record.createdAt),
      updated_at: iso(state.since),
      video_url: record.video_url,
      target_language: record.target_language,
      title: record.title,
      result: null,
      error: null,
    },
    version: state.version,
    retryAfterS:
      hints.mode === 'none' ? null : Math.min(60, Math.max(1, Math.ceil(noisyEta / 1000))),
    nextChangeAt: Math.min(state.nextAt, end),
    nextStatusChangeAt: state.status === 'pending' ? Math.min(runStart, end) : end,
  }
}

/** Status, quantized progress and version of a job that is not terminal at `now`. */
function progressAt(record: JobRecord, now: number, runStart: number, finish: number) {
  if (now < runStart) {
    return {
      status: 'pending' as const,
      progress: 0,
      since: record.createdAt,
      version: 1,
      nextAt: runStart,
    }
  }
  const step = Math.floor((now - runStart) / record.intervalMs)
  const since = runStart + step * record.intervalMs
  const progress = Math.min(
    0.999,
    Math.round(((since - runStart) / (finish - runStart)) * 1000) / 1000,
  )
  return {
    status: 'running' as const,
    progress,
    since,
    version: 2 + step,
    nextAt: since + record.intervalMs,
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString()
}
