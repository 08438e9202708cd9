import { defineConfig } from 'vitest/config'
import { findChromium } from '../../scripts/chromium.mjs'
import { sourceResolve } from '../../vitest.shared.ts'

if (findChromium() === undefined && !process.env.CI) {
  console.warn(
    `\n${'!'.repeat(80)}\nNO CHROMIUM FOUND: the demo page test is SKIPPED. Install Debian's chromium or set CHROMIUM_PATH.\n${'!'.repeat(80)}\n`,
  )
}

export default defineConfig({
  ...sourceResolve,
  test: {
    name: 'demo',
    environment: 'node',
    include: ['src/**/*.test.ts', 'e2e/**/*.test.ts'],
  },
})
