/**
 * Vitest settings every package shares: workspace packages resolve to their TypeScript source
 * (the `@video-translation/source` export condition), so tests never need a prior build.
 */
import type { ViteUserConfig } from 'vitest/config'

const SOURCE_CONDITION = '@video-translation/source'
const SERVER_CONDITIONS = [SOURCE_CONDITION, 'module', 'node', 'development|production']

/** Resolve options that prefer workspace sources, for browser (client) and Node (ssr) code. */
export const sourceResolve: Pick<ViteUserConfig, 'resolve' | 'ssr' | 'environments'> = {
  resolve: { conditions: [SOURCE_CONDITION, 'module', 'browser', 'development|production'] },
  ssr: { resolve: { conditions: SERVER_CONDITIONS } },
  // Vitest runs global setup files in this environment; it needs the same conditions.
  environments: { __vitest__: { resolve: { conditions: SERVER_CONDITIONS } } },
}
