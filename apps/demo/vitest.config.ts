import { defineConfig } from 'vitest/config'
import { sourceResolve } from '../../vitest.shared.ts'

export default defineConfig({
  ...sourceResolve,
  test: {
    name: 'demo',
    environment: 'node',
    include: ['src/**/*.test.ts', 'e2e/**/*.test.ts'],
  },
})
