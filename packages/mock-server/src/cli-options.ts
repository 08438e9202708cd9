/**
 * The CLI's options: flags, each also read from an environment variable, turned into the options
 * of `startServer`. Pure, so it is tested without starting anything.
 */
import { parseArgs } from 'node:util'
import { checkKeys, DEV_ADMIN_KEY, DEV_API_KEY, DEV_WEBHOOK_SECRET } from './app.js'
import type { StartServerOptions } from './node.js'
import { Hints, type SimulationPatch } from './schemas/simulation.js'
import { createSystemClock } from './simulator/clock.js'

/** Every flag: its environment variable and its help line. */
export const FLAGS = {
  host: { env: 'VT_MOCK_HOST', help: 'interface to listen on (default 127.0.0.1)' },
  port: { env: 'VT_MOCK_PORT', help: 'port to listen on; 0 picks a free one (default 8787)' },
  'api-keys': {
    env: 'VT_MOCK_API_KEYS',
    help: `comma-separated API keys, one tenant each (default ${DEV_API_KEY})`,
  },
  'admin-key': {
    env: 'VT_MOCK_ADMIN_KEY',
    help: `key for /v1/simulation (default ${DEV_ADMIN_KEY})`,
  },
  'webhook-secret': {
    env: 'VT_MOCK_WEBHOOK_SECRET',
    help: `secret that signs webhooks (default ${DEV_WEBHOOK_SECRET})`,
  },
  seed: {
    env: 'VT_MOCK_SEED',
    help: 'PRNG seed: same seed, same ids, durations, outcomes, faults (default 1)',
  },
  'time-scale': {
    env: 'VT_MOCK_TIME_SCALE',
    help: 'speed of simulated time: 10 runs a 1 min job in 6 s; every time the server sends (timestamps, Retry-After, eta_ms, holds, rate limits, webhook t) is simulated time (default 1)',
  },
  hints: { env: 'VT_MOCK_HINTS', help: 'none | retry-after | eta (default eta)' },
  'eta-noise': { env: 'VT_MOCK_ETA_NOISE', help: 'ETA error as a share, 0 to 1 (default 0.1)' },
  'error-rate': {
    env: 'VT_MOCK_ERROR_RATE',
    help: 'share of jobs that end in error, 0 to 1 (default 0.05)',
  },
  'duration-ms': {
    env: 'VT_MOCK_DURATION_MS',
    help: 'every job takes this long (default: lognormal around 6 s)',
  },
  'fault-rate': {
    env: 'VT_MOCK_FAULT_RATE',
    help: 'share of API requests answered 503 (default 0)',
  },
} as const

type Flag = keyof typeof FLAGS

/** What the command line asks for. */
export type CliCommand =
  | { kind: 'help' }
  | { kind: 'serve'; options: StartServerOptions & { port: number; host: string } }

/** Usage text. */
export function usage(): string {
  const lines = Object.entries(FLAGS).map(
    ([flag, { env, help }]) => `  --${flag.padEnd(15)} ${help}\n  ${' '.repeat(17)} env ${env}`,
  )
  return `Usage: vt-mock-server [options]\n\nThe video translation mock server.\n\n${lines.join('\n')}\n  --help            this text\n`
}

/** Reads flags (which win) and environment variables; throws a `TypeError` saying what is wrong. */
export function parseCli(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): CliCommand {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      ...Object.fromEntries(Object.keys(FLAGS).map((flag) => [flag, { type: 'string' as const }])),
      help: { type: 'boolean' as const, short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  })
  if (values.help) return { kind: 'help' }
  const get = (flag: Flag): string | undefined => {
    const given = (values as Record<string, string | undefined>)[flag]
    // An empty flag (`--port=`) is a mistake; an empty variable is an unset one.
    if (given === '') throw new TypeError(`--${flag} needs a value`)
    const value = given ?? env[FLAGS[flag].env]
    return value === '' ? undefined : value
  }
  const number = (flag: Flag, min: number, max: number, integer = false): number | undefined => {
    const raw = get(flag)
    if (raw === undefined) return undefined
    // Written as a decimal (`8787`, `0.5`): not `0x2253`, `1e3` or ` `, which Number() reads too.
    const value = /^\d+(?:\.\d+)?$/.test(raw.trim()) ? Number(raw) : Number.NaN
    if (
      !Number.isFinite(value) ||
      value < min ||
      value > max ||
      (integer && !Number.isInteger(value))
    ) {
      throw new TypeError(
        `--${flag} (or ${FLAGS[flag].env}) must be ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}, got ${JSON.stringify(raw)}`,
      )
    }
    return value
  }

  const simulation: SimulationPatch = {}
  const seed = number('seed', 0, 0xffff_ffff, true)
  if (seed !== undefined) simulation.seed = seed
  const errorRate = number('error-rate', 0, 1)
  if (errorRate !== undefined) simulation.error_rate = errorRate
  const duration = number('duration-ms', 0, 86_400_000, true)
  if (duration !== undefined) simulation.durations = { distribution: 'fixed', ms: duration }
  const faultRate = number('fault-rate', 0, 1)
  if (faultRate !== undefined) simulation.faults = { rate_503: faultRate }
  const given = get('hints')
  const modes = Hints.shape.mode.options
  const hints = modes.find((mode) => mode === given)
  if (given !== undefined && hints === undefined) {
    throw new TypeError(
      `--hints (or VT_MOCK_HINTS) must be ${modes.join(', ')}, got ${JSON.stringify(given)}`,
    )
  }
  const etaNoise = number('eta-noise', 0, 1)
  if (hints !== undefined || etaNoise !== undefined) {
    simulation.hints = {
      ...(hints ? { mode: hints } : {}),
      ...(etaNoise === undefined ? {} : { eta_noise: etaNoise }),
    }
  }

  const options: StartServerOptions & { port: number; host: string } = {
    host: get('host') ?? '127.0.0.1',
    port: number('port', 0, 65_535, true) ?? 8787,
    simulation,
  }
  const keys = get('api-keys')
  if (keys !== undefined)
    options.apiKeys = keys
      .split(',')
      .map((key) => key.trim())
      .filter(Boolean)
  const adminKey = get('admin-key')
  if (adminKey !== undefined) options.adminKey = adminKey
  // Said here, with the usage, not as the server fails to start.
  checkKeys(options.apiKeys ?? [DEV_API_KEY], options.adminKey ?? DEV_ADMIN_KEY)
  const secret = get('webhook-secret')
  if (secret !== undefined) options.webhookSecret = secret
  const scale = number('time-scale', 0.001, 10_000)
  if (scale !== undefined && scale !== 1) options.clock = createSystemClock(scale)
  return { kind: 'serve', options }
}
