import { defineConfig } from 'vitest/config'
import { sourceResolve } from '../../vitest.shared.ts'

export default defineConfig({
  ...sourceResolve,
  test: { name: 'lab', environment: 'node', include: ['src/**/*.test.ts'] },
})
