import { playwright } from '@vitest/browser-playwright'
import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config'
import { CHROMIUM_ARGS, findChromium } from '../../scripts/chromium.mjs'
import { sourceResolve } from '../../vitest.shared.ts'

const chromium = findChromium()

function browserProject(executablePath: string): TestProjectInlineConfiguration {
  return {
    extends: true,
    test: {
      name: 'browser',
      include: ['test/**/*.browser.test.ts'],
      globalSetup: ['test/loopback-server.ts'],
      browser: {
        enabled: true,
        headless: true,
        screenshotFailures: false,
        instances: [{ browser: 'chromium' }],
        provider: playwright({ launchOptions: { executablePath, args: CHROMIUM_ARGS } }),
      },
    },
  }
}

if (chromium === undefined) {
  const message =
    'NO CHROMIUM FOUND: the browser tests of @video-translation/client cannot run. ' +
    "Install Debian's chromium (apt-get install chromium) or set CHROMIUM_PATH."
  if (process.env.CI) throw new Error(`${message} On CI this is an error.`)
  console.warn(
    `\n${'!'.repeat(80)}\n${message}\nSKIPPING the browser project.\n${'!'.repeat(80)}\n`,
  )
}

export default defineConfig({
  ...sourceResolve,
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'node',
          environment: 'node',
          include: ['src/**/*.test.ts', 'test/**/*.node.test.ts'],
        },
      },
      {
        // The built package in other runtimes: run by `check`, after the build.
        extends: true,
        test: { name: 'runtimes', environment: 'node', include: ['test/runtimes/*.test.ts'] },
      },
      ...(chromium === undefined ? [] : [browserProject(chromium)]),
    ],
  },
})
