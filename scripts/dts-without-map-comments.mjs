/**
 * A tsdown `build:done` hook: the declaration files' `//# sourceMappingURL=….d.ts.map` comments
 * come out. tsdown writes them when `sourcemap` is on but writes no declaration maps (its dts
 * plugin makes none), so each pointed at a file the package does not hold.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

const DECLARATION = /\.d\.[cm]?ts$/
const MAP_COMMENT = /\n\/\/# sourceMappingURL=\S+\.d\.[cm]?ts\.map\s*$/

/** Strips the dangling map comments from the declaration files in `outDir`. */
export async function dtsWithoutMapComments({ options }) {
  const dir = options.outDir
  for (const name of await readdir(dir)) {
    if (!DECLARATION.test(name)) continue
    const path = join(dir, name)
    const text = await readFile(path, 'utf8')
    const stripped = text.replace(MAP_COMMENT, '\n')
    if (stripped !== text) await writeFile(path, stripped)
  }
}
