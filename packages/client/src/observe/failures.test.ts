import { describe, expect, it } from 'vitest'
import { virtualClock } from '../../test/virtual-time.js'
import { DEFAULTS } from '../defaults.js'
import { CircuitOpenError, createApiError, NetworkError } from '../errors.js'
import { CircuitBreaker } from '../request/breaker.js'
import { judgeFailure, PROBE_WAIT_MS } from './failures.js'

const request = { method: 'GET', path: '/v1/jobs/job_1' }

function apiError(status: number, headers: Record<string, string> = {}) {
  return createApiError({
    status,
    problem: undefined,
    requestId: undefined,
    headers: new Headers(headers),
    request,
  })
}

describe('judgeFailure', () => {
  const down = new NetworkError(request, new Error('reset'))

  it('should tell pacing, refusals, fatal answers and failures apart', () => {
    expect(judgeFailure(apiError(429, { 'retry-after': '3' }), 0, undefined, false, true)).toEqual({
      kind: 'paced',
      retryAfterMs: 3_000,
    })
    expect(judgeFailure(apiError(404), 0, undefined, false, true)).toEqual({ kind: 'fatal' })
    expect(judgeFailure(down, 0, undefined, false, true)).toEqual({
      kind: 'failed',
      opening: undefined,
    })
    // Refused while the circuit waits out its opening: that opening's failed check.
    expect(judgeFailure(new CircuitOpenError(4_000, down, 2), 0, undefined, false, true)).toEqual({
      kind: 'refused',
      retryAfterMs: 4_000,
      opening: 2,
    })
    // Refused while the probe is out: nothing failed; at a last look, look again shortly.
    const probing = new CircuitOpenError(0, down, 2)
    expect(judgeFailure(probing, 0, undefined, false, true)).toEqual({
      kind: 'refused',
      retryAfterMs: PROBE_WAIT_MS,
      opening: undefined,
    })
    expect(judgeFailure(probing, 0, undefined, true, true)).toEqual({
      kind: 'look-again',
      inMs: PROBE_WAIT_MS / 4,
    })
  })

  it('should count a failure that opened the circuit as that opening’s', () => {
    const { clock } = virtualClock()
    const settings = { ...DEFAULTS.circuitBreaker, failureThreshold: 1 }
    const breaker = new CircuitBreaker(settings, clock, () => {})
    breaker.failed(down, false)
    expect(judgeFailure(down, clock.now(), breaker, false, true)).toEqual({
      kind: 'failed',
      opening: 1,
    })
  })

  it('should end the waits on a server never reached once the breaker’s first probe failed', () => {
    // The breaker's second opening (its first probe failed): refusing, or the failure itself.
    const { clock } = virtualClock()
    const settings = { ...DEFAULTS.circuitBreaker, failureThreshold: 1 }
    const breaker = new CircuitBreaker(settings, clock, () => {})
    breaker.failed(down, false)
    breaker.failed(down, true)
    const cases = [
      [new CircuitOpenError(4_000, down, 2), undefined],
      [down, breaker],
    ] as const
    for (const [error, open] of cases) {
      expect(judgeFailure(error, 0, open, false, false)).toEqual({ kind: 'fatal', error: down })
      // Not once the server answered the client.
      expect(judgeFailure(error, 0, open, false, true).kind).not.toBe('fatal')
    }
    // Not a refusal while the probe is out: its answer may be the server's first.
    const probing = new CircuitOpenError(0, down, 2)
    expect(judgeFailure(probing, 0, undefined, false, false).kind).toBe('refused')
    // Not before the first probe (a server starting late), nor an answer with an error status.
    const first = new CircuitOpenError(4_000, down, 1)
    expect(judgeFailure(first, 0, undefined, false, false).kind).toBe('refused')
    expect(judgeFailure(down, 0, undefined, false, false).kind).toBe('failed')
    expect(judgeFailure(apiError(503), 0, undefined, false, false).kind).toBe('failed')
  })
})
