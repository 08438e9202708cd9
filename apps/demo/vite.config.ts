/**
 * The demo page's Vite config. Workspace packages resolve to their TypeScript source; the mock
 * server's URL and keys are injected by `src/dev.ts` (or the e2e test) as `__DEMO_CONFIG__`.
 */
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vite'

export default defineConfig({
  root: fileURLToPath(new URL('./src/web', import.meta.url)),
  resolve: {
    conditions: ['@video-translation/source', 'module', 'browser', 'development|production'],
  },
  server: { host: '127.0.0.1', strictPort: false },
  clearScreen: false,
  logLevel: 'warn',
})
