/**
 * `pnpm demo` / `pnpm --filter @video-translation/demo cli [--jobs N] [--seed S]`: the terminal
 * demo. Exits non-zero if it fails.
 */
import { parseArgs } from 'node:util'
import { runTerminalDemo } from './terminal-demo.js'

const { values } = parseArgs({ options: { jobs: { type: 'string' }, seed: { type: 'string' } } })
const jobs = Number(values.jobs ?? 3)
const seed = Number(values.seed ?? 7)
if (!Number.isInteger(jobs) || jobs < 1 || jobs > 100 || !Number.isInteger(seed) || seed < 0) {
  console.error('usage: cli [--jobs 1..100] [--seed N]')
  process.exit(2)
}
runTerminalDemo({ jobs, seed, live: process.stdout.isTTY === true }).catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
