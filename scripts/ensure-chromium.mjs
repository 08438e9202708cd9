// Makes sure the browser tests have a Chromium. Where none is found and this process may install
// system packages (root with apt-get, as on CI and fresh Debian machines), it installs Debian's
// `chromium`; elsewhere it explains how, and the browser tests are skipped loudly (or fail on CI).
import { spawnSync } from 'node:child_process'
import { findChromium } from './chromium.mjs'

const found = findChromium()
if (found) {
  console.log(`browser tests will use ${found}`)
} else if (process.getuid?.() === 0 && spawnSync('which', ['apt-get']).status === 0) {
  console.log("No Chromium found: installing Debian's chromium for the browser tests (about 30 s)…")
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  for (const args of [
    ['update', '-qq'],
    ['install', '-y', '-qq', 'chromium'],
  ]) {
    const run = spawnSync('apt-get', args, { stdio: 'inherit', env })
    if (run.status !== 0) {
      console.error(`apt-get ${args.join(' ')} failed (exit ${run.status}).`)
      process.exit(1)
    }
  }
  console.log(`browser tests will use ${findChromium() ?? 'nothing: the install did not work'}`)
} else {
  console.warn(
    'No Chromium found and no permission to install one: install chromium (Debian/Ubuntu: ' +
      'apt-get install chromium) or set CHROMIUM_PATH. The browser tests will be skipped.',
  )
}
