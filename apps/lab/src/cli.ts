/**
 * `pnpm bench:strategies [--quick] [--out DIR]`: runs the strategy lab and writes
 * `strategies.md` and `strategies.svg` into DIR (the repository's docs/ by default; `--quick`
 * writes `strategies-quick.*`, for CI). `--realtime` runs the real-time check instead and writes
 * `strategies-realtime.md`. `--seed N` runs on another draw of every workload (seed 1 by default)
 * and adds `-seed-N` to the names of the files it writes.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { chart } from './chart.js'
import { FULL, QUICK, runLab } from './lab.js'
import { checkRealTime, realTimeReport } from './realtime.js'
import { report } from './report.js'

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    realtime: { type: 'boolean', default: false },
    out: { type: 'string' },
    seed: { type: 'string' },
  },
})
const base = values.quick ? QUICK : FULL
const seed = values.seed === undefined ? base.seed : Number(values.seed)
if (!Number.isSafeInteger(seed) || seed < 0) {
  process.stderr.write(`lab: --seed takes a whole number, not ${values.seed}\n`)
  process.exit(2)
}
const profile = { ...base, seed, draws: base.draws.filter((draw) => draw !== seed) }
const suffix = seed === base.seed ? '' : `-seed-${seed}`
const out = values.out ?? join(import.meta.dirname, '..', '..', '..', 'docs')
mkdirSync(out, { recursive: true })
if (values.realtime) {
  const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, Node ${process.version}`
  const agreements = await checkRealTime(profile.seed)
  const file = join(out, `strategies-realtime${suffix}.md`)
  writeFileSync(file, realTimeReport(agreements, machine))
  process.stderr.write(`lab: wrote ${file}\n`)
  process.exit(0)
}
const name = `${values.quick ? 'strategies-quick' : 'strategies'}${suffix}`
const started = performance.now()
const results = await runLab(profile, (line) => process.stderr.write(`lab: ${line}\n`))
const command = `pnpm bench:strategies${values.quick ? ' --quick' : ''}${suffix ? ` --seed ${seed}` : ''}`
writeFileSync(
  join(out, `${name}.md`),
  report(results, profile, command).replace('strategies.svg', `${name}.svg`),
)
writeFileSync(join(out, `${name}.svg`), chart(results))
const seconds = ((performance.now() - started) / 1000).toFixed(0)
process.stderr.write(`lab: wrote ${join(out, name)}.md and .svg in ${seconds} s\n`)
