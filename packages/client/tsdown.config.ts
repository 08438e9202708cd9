import { defineConfig } from 'tsdown'
import { dtsWithoutMapComments } from '../../scripts/dts-without-map-comments.mjs'

export default defineConfig({
  entry: { index: 'src/index.ts', webhooks: 'src/webhooks.ts', legacy: 'src/legacy/index.ts' },
  format: ['esm', 'cjs'],
  platform: 'neutral',
  target: 'es2022',
  dts: true,
  sourcemap: true,
  clean: true,
  hooks: { 'build:done': dtsWithoutMapComments },
})
