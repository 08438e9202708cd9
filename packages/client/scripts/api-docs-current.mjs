/**
 * `pnpm --filter @video-translation/client check` step: the API reference under docs/api is the
 * one typedoc makes from the sources now (it checks the doc comments too: a missing or broken
 * one fails). A stale reference says how to make it again.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'

const typedoc = join(import.meta.dirname, '..', 'node_modules', '.bin', 'typedoc')
const committed = join(import.meta.dirname, '..', '..', '..', 'docs', 'api')
const fresh = mkdtempSync(join(tmpdir(), 'api-docs-'))

/** Every file under `dir`, as paths relative to it, sorted. */
function files(dir) {
  const out = []
  const walk = (at) => {
    for (const name of readdirSync(at)) {
      const path = join(at, name)
      if (statSync(path).isDirectory()) walk(path)
      else out.push(relative(dir, path))
    }
  }
  walk(dir)
  return out.sort()
}

try {
  execFileSync(typedoc, ['--out', fresh, '--logLevel', 'Warn'], { stdio: 'inherit' })
  const want = files(fresh)
  const have = files(committed)
  const differ = [
    ...want.filter((f) => !have.includes(f)).map((f) => `missing: ${f}`),
    ...have.filter((f) => !want.includes(f)).map((f) => `not made any more: ${f}`),
    ...want
      .filter((f) => have.includes(f))
      .filter((f) => !readFileSync(join(fresh, f)).equals(readFileSync(join(committed, f))))
      .map((f) => `changed: ${f}`),
  ]
  if (differ.length > 0) {
    console.error(
      `docs/api is not the reference the sources make (${differ.length} files):\n  ${differ.slice(0, 10).join('\n  ')}\nMake it again: pnpm --filter @video-translation/client docs`,
    )
    process.exitCode = 1
  } else {
    console.log(`docs/api: current (${want.length} files)`)
  }
} finally {
  rmSync(fresh, { recursive: true, force: true })
}
