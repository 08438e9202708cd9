/**
 * `pnpm bench:strategies [--quick] [--out DIR]`: runs the strategy lab and writes
 * `strategies.md` and `strategies.svg` into DIR (the repository's docs/ by default; `--quick`
 * writes `strategies-quick.*`, for CI).
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { chart } from './chart.js'
import { FULL, QUICK, runLab } from './lab.js'
import { report } from './report.js'

const { values } = parseArgs({
  options: { quick: { type: 'boolean', default: false }, out: { type: 'string' } },
})
const profile = values.quick ? QUICK : FULL
const out = values.out ?? join(import.meta.dirname, '..', '..', '..', 'docs')
const name = values.quick ? 'strategies-quick' : 'strategies'
const started = performance.now()
const results = await runLab(profile, (line) => process.stderr.write(`lab: ${line}\n`))
const command = `pnpm bench:strategies${values.quick ? ' --quick' : ''}`
mkdirSync(out, { recursive: true })
writeFileSync(
  join(out, `${name}.md`),
  report(results, profile, command).replace('strategies.svg', `${name}.svg`),
)
writeFileSync(join(out, `${name}.svg`), chart(results))
const seconds = ((performance.now() - started) / 1000).toFixed(0)
process.stderr.write(`lab: wrote ${join(out, name)}.md and .svg in ${seconds} s\n`)
