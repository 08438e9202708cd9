/**
 * What each feature of the client costs in the bundle: the whole client (`src/index.ts`, every
 * export) minified and brotlied, against the same with the feature's modules replaced by empty
 * stubs of their exports. A lower bound for each (the code that calls a feature stays), and a
 * guide to what the 10 kB target of the engine issue would leave out. Part of bench/run.ts.
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { brotliCompressSync, constants } from 'node:zlib'
import { build, type Plugin } from 'esbuild'

const src = fileURLToPath(new URL('../src/', import.meta.url))

/** The features measured, by the modules that hold them (under src/). */
const FEATURES: [name: string, modules: string[]][] = [
  [
    'push (SSE, its parser, long-poll)',
    [
      'observe/sources/sse.ts',
      'observe/sources/sse-parser.ts',
      'observe/sources/long-poll.ts',
      'observe/sources/held.ts',
    ],
  ],
  ['adaptive strategy and its sketch', ['polling/adaptive.ts', 'polling/sketch.ts']],
  ['pacing to the rate limit', ['request/pacing.ts', 'request/rate-limit-headers.ts']],
  ['webhook verification (also on `/webhooks`)', ['webhooks.ts']],
  ['batch polling', ['observe/sources/batch.ts']],
  ['`waitAll` / `waitAny`', ['observe/wait-many.ts']],
  ['`watch`', ['observe/watch.ts']],
  ['tab sharing', ['observe/tabs.ts']],
  ['circuit breaker', ['request/breaker.ts']],
  ['status-check history', ['history.ts']],
  ['key redaction', ['redact.ts']],
  ['progress estimate', ['observe/estimate.ts']],
  ['page manners (hidden, offline)', ['observe/page.ts']],
]

/** Empty stand-ins for a module's exported values (its types vanish anyway). */
function stubOf(file: string): string {
  const source = readFileSync(file, 'utf8')
  const lines: string[] = []
  for (const [, kind, name] of source.matchAll(
    /^export (?:async )?(function|const|class) (\w+)/gm,
  )) {
    if (kind === 'function') lines.push(`export function ${name}() {}`)
    else if (kind === 'class') lines.push(`export class ${name} {}`)
    else lines.push(`export const ${name} = undefined`)
  }
  return lines.join('\n')
}

/** Brotli bytes of the whole client with `stubbed` modules (paths under src/) emptied. */
async function brotliBytes(stubbed: string[]): Promise<number> {
  const paths = new Set(stubbed.map((m) => fileURLToPath(new URL(m, `file://${src}`))))
  const stub: Plugin = {
    name: 'stub',
    setup(b) {
      b.onLoad({ filter: /\.ts$/ }, (args) =>
        paths.has(args.path) ? { contents: stubOf(args.path), loader: 'ts' } : undefined,
      )
    },
  }
  const result = await build({
    entryPoints: [`${src}index.ts`],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'neutral',
    write: false,
    plugins: [stub],
    logLevel: 'silent',
  })
  const code = result.outputFiles[0]?.contents ?? new Uint8Array()
  return brotliCompressSync(code, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length
}

/** The whole client's brotli bytes, and each feature's share of them. */
export async function featureCosts(): Promise<{ whole: number; features: [string, number][] }> {
  const whole = await brotliBytes([])
  const features: [string, number][] = []
  for (const [name, modules] of FEATURES)
    features.push([name, whole - (await brotliBytes(modules))])
  return { whole, features }
}

/** The report's table of feature costs. */
export function featureTable({
  whole,
  features,
}: Awaited<ReturnType<typeof featureCosts>>): string {
  const kB = (bytes: number) => `${(bytes / 1000).toFixed(2)} kB`
  const all = features.reduce((sum, [, bytes]) => sum + bytes, 0)
  return `| feature | costs at least |
| --- | ---: |
${features.map(([name, bytes]) => `| ${name} | ${kB(bytes)} |`).join('\n')}
| all of the above | ${kB(all)} |
| the whole less all of the above (HTTP, errors, retries, options, the engine's core) | ${kB(whole - all)} |`
}
