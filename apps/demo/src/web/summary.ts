/**
 * The summary strip: the jobs by status, the requests they cost, and how late their ends were
 * learned (median and p95), over every job on the page.
 */
import type { JobState } from './job-card.js'

const STATUSES = ['pending', 'running', 'completed', 'error', 'canceled'] as const

/** The strip's text, one item per figure. */
export function summarize(states: readonly JobState[]): { label: string; value: string }[] {
  const counts = STATUSES.map((status) => states.filter((s) => s.job.status === status).length)
  const requests = states.reduce((sum, s) => sum + s.history.length + s.retried.length, 0)
  // Lateness: from the job's real end to the page knowing it (not for jobs canceled here).
  const late = states
    .filter(
      (s) =>
        s.detectedAt !== undefined && (s.job.status === 'completed' || s.job.status === 'error'),
    )
    .map((s) => Math.max(0, (s.detectedAt as number) - Date.parse(s.job.updated_at)))
    .sort((a, b) => a - b)
  const at = (q: number) => late[Math.min(late.length - 1, Math.floor(q * late.length))]
  const ms = (value: number | undefined) => (value === undefined ? '–' : `${value} ms`)
  return [
    ...STATUSES.map((status, i) => ({ label: status, value: String(counts[i]) })),
    { label: 'requests', value: String(requests) },
    { label: 'median lateness', value: ms(at(0.5)) },
    { label: 'p95 lateness', value: ms(at(0.95)) },
  ]
}

/** Renders the strip into `target` (a `<dl>`). */
export function renderSummary(target: HTMLElement, states: readonly JobState[]): void {
  target.replaceChildren(
    ...summarize(states).flatMap(({ label, value }) => {
      const item = document.createElement('div')
      const dt = document.createElement('dt')
      dt.textContent = label
      const dd = document.createElement('dd')
      dd.textContent = value
      dd.dataset.testid = `summary-${label.replace(/ /g, '-')}`
      item.append(dt, dd)
      return [item]
    }),
  )
}
