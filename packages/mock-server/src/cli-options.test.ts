import { describe, expect, it } from 'vitest'
import { parseCli, usage } from './cli-options.js'

describe('parseCli', () => {
  it('should default to 127.0.0.1:8787 with no settings', () => {
    expect(parseCli([], {})).toEqual({
      kind: 'serve',
      options: { host: '127.0.0.1', port: 8787, simulation: {} },
    })
  })

  it('should refuse keys a server cannot serve with, as it refuses other flags', () => {
    expect(() => parseCli(['--api-keys', 'short'], {})).toThrow(/at least 8 characters/)
    expect(() => parseCli(['--admin-key', 'short'], {})).toThrow(/adminKey/)
    expect(() =>
      parseCli([], { VT_MOCK_API_KEYS: 'tenant_aaaa', VT_MOCK_ADMIN_KEY: 'tenant_aaaa' }),
    ).toThrow(/must not be one of the apiKeys/)
  })

  it('should read every flag', () => {
    const command = parseCli(
      [
        '--host',
        '0.0.0.0',
        '--port',
        '0',
        '--api-keys',
        'key_one_1, key_two_2',
        '--admin-key',
        'admin_xyz',
        '--seed',
        '42',
        '--hints',
        'retry-after',
        '--eta-noise',
        '0.2',
        '--error-rate',
        '0.5',
        '--duration-ms',
        '1500',
        '--fault-rate',
        '0.1',
        '--webhook-secret',
        's3cret',
        '--time-scale',
        '10',
      ],
      {},
    )
    expect(command.kind).toBe('serve')
    if (command.kind !== 'serve') return
    const { clock, ...rest } = command.options
    expect(rest).toEqual({
      host: '0.0.0.0',
      port: 0,
      apiKeys: ['key_one_1', 'key_two_2'],
      adminKey: 'admin_xyz',
      webhookSecret: 's3cret',
      simulation: {
        seed: 42,
        error_rate: 0.5,
        durations: { distribution: 'fixed', ms: 1_500 },
        faults: { rate_503: 0.1 },
        hints: { mode: 'retry-after', eta_noise: 0.2 },
      },
    })
    expect(clock).toBeDefined()
  })

  it('should read the environment, with flags winning', () => {
    const command = parseCli(['--port', '9000'], {
      VT_MOCK_PORT: '1234',
      VT_MOCK_SEED: '9',
      VT_MOCK_HINTS: 'none',
    })
    expect(command).toMatchObject({
      options: { port: 9000, simulation: { seed: 9, hints: { mode: 'none' } } },
    })
  })

  it.each([
    [['--port', '70000'], /--port .* 0 to 65535/],
    [['--error-rate', '2'], /--error-rate/],
    [['--hints', 'loud'], /--hints .* none, retry-after, eta/],
    [['--seed', '1.5'], /whole number/],
    [['--nope'], /nope/],
  ])('should reject %j, saying what is wrong', (argv, message) => {
    expect(() => parseCli(argv, {})).toThrow(message)
  })

  it('should ask for help', () => {
    expect(parseCli(['--help'], {})).toEqual({ kind: 'help' })
    expect(usage()).toContain('VT_MOCK_ERROR_RATE')
  })

  it.each([
    [['--port', '0x4E25'], /--port .*whole number/],
    [['--port', '1e3'], /--port .*whole number/],
    [['--error-rate', ' '], /--error-rate .*number/],
    [['--port='], /--port needs a value/],
    [['--time-scale', '0.0001'], /--time-scale .*from 0.001/],
  ])('should refuse %j clearly', (argv, message) => {
    expect(() => parseCli(argv, {})).toThrow(message)
  })

  it('should take decimals as written, and an empty variable as unset', () => {
    const command = parseCli(['--error-rate', '0.25', '--port', '9000'], { VT_MOCK_SEED: '' })
    expect(command).toMatchObject({ options: { port: 9000, simulation: { error_rate: 0.25 } } })
  })
})
