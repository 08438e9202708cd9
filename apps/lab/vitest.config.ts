import { defineConfig } from 'vitest/config'
import { sourceResolve } from '../../vitest.shared.ts'

export default defineConfig({
  ...sourceResolve,
  // Whole lab runs take a few seconds of CPU; on a busy machine, more.
  test: { name: 'lab', environment: 'node', include: ['src/**/*.test.ts'], testTimeout: 120_000 },
})
