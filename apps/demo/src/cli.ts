/**
 * `pnpm demo` / `pnpm --filter @video-translation/demo cli [--jobs N] [--seed S]`: the terminal
 * demo. Exits non-zero if it fails.
 */
import { parseArgs } from 'node:util'
import { runTerminalDemo } from './terminal-demo.js'

const USAGE = 'usage: pnpm demo [--jobs 1..100] [--seed N] (default: 3 jobs, seed 7)'
let values: { jobs?: string; seed?: string; help?: boolean }
try {
  const options = {
    jobs: { type: 'string' },
    seed: { type: 'string' },
    help: { type: 'boolean' },
  } as const
  values = parseArgs({ options }).values
} catch (error) {
  // An unknown option or a missing value: said in one line, not a stack trace.
  console.error(`${(error as Error).message}\n${USAGE}`)
  process.exit(2)
}
if (values.help) {
  console.log(USAGE)
  process.exit(0)
}
const jobs = Number(values.jobs ?? 3)
const seed = Number(values.seed ?? 7)
if (!Number.isInteger(jobs) || jobs < 1 || jobs > 100 || !Number.isInteger(seed) || seed < 0) {
  console.error(USAGE)
  process.exit(2)
}
runTerminalDemo({ jobs, seed, live: process.stdout.isTTY === true }).catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
