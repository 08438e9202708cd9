/**
 * `pnpm demo`: runs the demo in the terminal and exits non-zero if it fails.
 */
import { runDemo } from './demo.js'

runDemo().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
