#!/usr/bin/env node
/**
 * `vt-mock-server`: runs the mock server until Ctrl-C, printing where it listens and the keys it
 * accepts.
 */
import { DEV_ADMIN_KEY, DEV_API_KEY } from './app.js'
import { parseCli, usage } from './cli-options.js'
import { startServer } from './node.js'

async function main(): Promise<void> {
  // A reader of the output that went away (`| head`, a stopped log collector) is no reason to
  // stop serving, nor to crash on the way out: what cannot be written is dropped.
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {})
  let command: ReturnType<typeof parseCli>
  try {
    command = parseCli(process.argv.slice(2), process.env)
  } catch (error) {
    process.stderr.write(`vt-mock-server: ${(error as Error).message}\n\n${usage()}`)
    process.exitCode = 2
    return
  }
  if (command.kind === 'help') {
    process.stdout.write(usage())
    return
  }
  const { options } = command
  const server = await startServer(options)
  // Ready to stop before saying it listens: a signal sent on reading that must not find the
  // runtime's default (an abrupt exit).
  const stop = (signal: string) => {
    process.stdout.write(`\nvt-mock-server: ${signal}, closing\n`)
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    )
  }
  process.once('SIGINT', () => stop('SIGINT'))
  process.once('SIGTERM', () => stop('SIGTERM'))
  const keys = options.apiKeys ?? [DEV_API_KEY]
  process.stdout.write(
    [
      `vt-mock-server listening on ${server.url}`,
      `  API key:   ${keys[0]}${keys.length > 1 ? ` (+${keys.length - 1} more)` : ''}`,
      `  admin key: ${options.adminKey ?? DEV_ADMIN_KEY}`,
      `  try:       curl -s -X POST ${server.url}/v1/jobs -H 'authorization: Bearer ${keys[0]}' -H 'content-type: application/json' -d '{"video_url":"https://example.com/a.mp4","target_language":"es"}'`,
      `  OpenAPI:   ${server.url}/openapi.json`,
      '',
    ].join('\n'),
  )
}

main().catch((error: unknown) => {
  process.stderr.write(`vt-mock-server: ${(error as Error).message}\n`)
  process.exitCode = 1
})
