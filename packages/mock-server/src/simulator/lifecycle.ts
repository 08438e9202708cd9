/**
 * A job's life as a pure function of time: given when it was created, how long it takes and how
 * it ends, the status, progress and ETA at any instant follow. Nothing is updated in place, so
 * any clock (real or manual) gives consistent answers.
 */

/** What the simulator decided about a job when it was created. */
export interface JobRecord {
  id: string
  createdAt: number
  /** Total time from creation to the terminal status. */
  durationMs: number
  outcome: 'completed' | 'error'
  video_url: string
  target_language: string
  title: string | null
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

/** The share of a job's duration spent queued (`pending`) before it starts running. */
const QUEUED_SHARE = 0.1

/** The job as it stands at `now`. */
export function viewJob(record: JobRecord, now: number): JobView {
  const elapsed = Math.max(0, now - record.createdAt)
  const queuedMs = Math.round(record.durationMs * QUEUED_SHARE)
  const base = {
    id: record.id,
    created_at: iso(record.createdAt),
    video_url: record.video_url,
    target_language: record.target_language,
    title: record.title,
  }
  if (elapsed >= record.durationMs) {
    const finishedAt = record.createdAt + record.durationMs
    const failed = record.outcome === 'error'
    return {
      ...base,
      status: record.outcome,
      progress: 1,
      eta_ms: null,
      updated_at: iso(finishedAt),
      result: failed ? null : { url: `https://cdn.example.com/translated/${record.id}.mp4` },
      error: failed
        ? { code: 'translation_failed', message: 'The speech track could not be translated.' }
        : null,
    }
  }
  const running = elapsed >= queuedMs
  return {
    ...base,
    status: running ? 'running' : 'pending',
    progress: running ? round3((elapsed - queuedMs) / (record.durationMs - queuedMs)) : 0,
    eta_ms: record.durationMs - elapsed,
    updated_at: iso(running ? record.createdAt + queuedMs : record.createdAt),
    result: null,
    error: null,
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString()
}

function round3(value: number): number {
  return Math.min(1, Math.round(value * 1000) / 1000)
}
