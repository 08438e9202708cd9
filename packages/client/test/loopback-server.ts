/**
 * Vitest global setup for the browser project: a real mock server on a loopback port, whose URL
 * the tests read with `inject('baseUrl')`.
 */
import { startServer } from '@video-translation/mock-server/node'
import type { TestProject } from 'vitest/node'

declare module 'vitest' {
  export interface ProvidedContext {
    baseUrl: string
  }
}

export default async function setup(project: TestProject) {
  const server = await startServer({
    host: '127.0.0.1',
    port: 0,
    simulation: { durations: { distribution: 'fixed', ms: 200 } },
  })
  project.provide('baseUrl', server.url)
  return () => server.close()
}
