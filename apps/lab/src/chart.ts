/**
 * The chart: per workload, mean requests per job (x) against p95 lateness (y), both on log
 * scales; the adaptive and fixed-interval sweeps as curves, the anchors as points, and the
 * optimal schedules (optimal for the mean) as a dashed line. Plain SVG, no dependencies, the
 * same bytes for the same figures.
 */

import type { WorkloadResult } from './lab.js'
import type { Summary } from './metrics.js'

const PANEL = { width: 380, height: 280, left: 48, right: 12, top: 28, bottom: 36 }
const COLUMNS = 3
const X_RANGE: [number, number] = [1, 100]
const Y_RANGE: [number, number] = [0.01, 300]
const COLORS: Record<string, string> = {
  adaptive: '#1f6feb',
  unlearned: '#1f6feb',
  shared: '#8250df',
  fixed: '#8c959f',
  optimal: '#1a7f37',
  anchor: '#cf222e',
  default: '#0b3d91',
}

const f = (n: number) => n.toFixed(1)
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;')

/** The SVG document for the lab's results. */
export function chart(results: readonly WorkloadResult[]): string {
  const rows = Math.ceil(results.length / COLUMNS)
  const width = PANEL.width * COLUMNS
  const height = PANEL.height * rows + 40
  const parts = results.map((r, i) =>
    panel(r, (i % COLUMNS) * PANEL.width, Math.floor(i / COLUMNS) * PANEL.height),
  )
  const legend = [
    [20, 'optimal schedules (optimal for the mean), dashed', COLORS.optimal],
    [300, 'adaptive, swept over its request price (the default ringed)', COLORS.adaptive],
    [640, 'fixed intervals', COLORS.fixed],
    [780, 'other SDKs’ schedules', COLORS.anchor],
  ]
    .map(
      ([x, label, color]) =>
        `<circle cx="${x}" cy="${height - 16}" r="4" fill="${color}"/><text x="${Number(x) + 8}" y="${height - 12}">${esc(String(label))}</text>`,
    )
    .join('')
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="10">
<rect width="100%" height="100%" fill="#fff"/>
${parts.join('\n')}
${legend}
</svg>
`
}

function panel(result: WorkloadResult, x0: number, y0: number): string {
  const w = PANEL.width - PANEL.left - PANEL.right
  const h = PANEL.height - PANEL.top - PANEL.bottom
  const sx = (requests: number) =>
    x0 + PANEL.left + (Math.log(requests / X_RANGE[0]) / Math.log(X_RANGE[1] / X_RANGE[0])) * w
  const sy = (ms: number) => {
    const s = Math.min(Y_RANGE[1], Math.max(Y_RANGE[0], ms / 1000))
    return y0 + PANEL.top + h - (Math.log(s / Y_RANGE[0]) / Math.log(Y_RANGE[1] / Y_RANGE[0])) * h
  }
  const inside = (s: Summary) => s.requests >= X_RANGE[0] && s.requests <= X_RANGE[1]
  const line = (points: Summary[], color: string, dash = '') =>
    `<polyline fill="none" stroke="${color}" stroke-width="1.5"${dash} points="${points
      .filter(inside)
      .sort((a, b) => a.requests - b.requests)
      .map((s) => `${f(sx(s.requests))},${f(sy(s.p95Ms))}`)
      .join(' ')}"/>`
  const out: string[] = []
  out.push(
    `<text x="${x0 + PANEL.left}" y="${y0 + 16}" font-size="12" font-weight="bold">${esc(result.workload.title)}</text>`,
  )
  out.push(
    `<rect x="${x0 + PANEL.left}" y="${y0 + PANEL.top}" width="${w}" height="${h}" fill="none" stroke="#d0d7de"/>`,
  )
  for (const tick of [1, 2, 5, 10, 20, 50, 100]) {
    const x = f(sx(tick))
    out.push(
      `<line x1="${x}" x2="${x}" y1="${y0 + PANEL.top}" y2="${y0 + PANEL.top + h}" stroke="#eaeef2"/><text x="${x}" y="${y0 + PANEL.top + h + 12}" text-anchor="middle">${tick}</text>`,
    )
  }
  for (const tick of [0.01, 0.1, 1, 10, 100]) {
    const y = f(sy(tick * 1000))
    out.push(
      `<line x1="${x0 + PANEL.left}" x2="${x0 + PANEL.left + w}" y1="${y}" y2="${y}" stroke="#eaeef2"/><text x="${x0 + PANEL.left - 4}" y="${y}" text-anchor="end" dominant-baseline="middle">${tick}</text>`,
    )
  }
  out.push(
    `<text x="${x0 + PANEL.left + w / 2}" y="${y0 + PANEL.height - 8}" text-anchor="middle">status requests per job (mean)</text>`,
    `<text transform="translate(${x0 + 12},${y0 + PANEL.top + h / 2}) rotate(-90)" text-anchor="middle">p95 lateness (s)</text>`,
  )
  out.push(line(result.frontier, COLORS.optimal as string, ' stroke-dasharray="5 3"'))
  for (const family of ['adaptive', 'fixed']) {
    const points = result.results.filter((r) => r.contender.family === family).map((r) => r.all)
    out.push(line(points, COLORS[family] as string))
  }
  for (const r of result.results) {
    if (!inside(r.all)) continue
    const isDefault = r.contender.id === 'default'
    const color = r.contender.family ? COLORS[r.contender.family] : COLORS.anchor
    const cx = f(sx(r.all.requests))
    const cy = f(sy(r.all.p95Ms))
    out.push(`<circle cx="${cx}" cy="${cy}" r="3" fill="${color}"/>`)
    if (isDefault) {
      out.push(
        `<circle cx="${cx}" cy="${cy}" r="7" fill="none" stroke="${COLORS.default}" stroke-width="2"/>`,
      )
    }
    const named = { unlearned: 'never learning', shared: 'default, shared' }
    const label = isDefault
      ? 'default'
      : r.contender.family
        ? named[r.contender.family as keyof typeof named]
        : r.contender.id
    if (label !== undefined) {
      out.push(
        `<text x="${Number(cx) + 5}" y="${Number(cy) - 4}" fill="#57606a">${esc(label)}</text>`,
      )
    }
  }
  return `<g>${out.join('')}</g>`
}
