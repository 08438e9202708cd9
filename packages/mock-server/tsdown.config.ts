import { defineConfig } from 'tsdown'
import { dtsWithoutMapComments } from '../../scripts/dts-without-map-comments.mjs'

export default defineConfig({
  entry: ['src/index.ts', 'src/node.ts', 'src/cli.ts'],
  format: ['esm', 'cjs'],
  platform: 'node',
  target: 'es2022',
  dts: true,
  sourcemap: true,
  clean: true,
  hooks: { 'build:done': dtsWithoutMapComments },
  fixedExtension: false,
})
