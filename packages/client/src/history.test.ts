import { describe, expect, it } from 'vitest'
import { History, type HistoryEntry } from './history.js'

const check = (at: number): HistoryEntry => ({
  at,
  status: 'running',
  httpStatus: 200,
  latencyMs: 1,
  attempt: at,
})

describe('History', () => {
  it('should keep the last thousand checks of a job, oldest first, as a copy', () => {
    const history = new History()
    for (let at = 1; at <= 2_345; at++) history.record('job_1', check(at))
    const entries = history.get('job_1')
    expect(entries).toHaveLength(1_000)
    expect(entries[0]?.at).toBe(1_346)
    expect(entries.at(-1)?.at).toBe(2_345)
    expect(entries.every((entry, i) => entry.at === 1_346 + i)).toBe(true)
    entries.pop()
    expect(history.get('job_1')).toHaveLength(1_000)
  })

  it('should keep a job with fewer checks whole and in order', () => {
    const history = new History()
    for (let at = 1; at <= 3; at++) history.record('job_1', check(at))
    expect(history.get('job_1').map((entry) => entry.at)).toEqual([1, 2, 3])
    expect(history.get('job_unknown')).toEqual([])
  })

  it('should forget the least recently checked job beyond a thousand jobs', () => {
    const history = new History()
    for (let job = 0; job < 1_000; job++) history.record(`job_${job}`, check(job))
    // Checking job_0 again makes job_1 the least recently checked.
    history.record('job_0', check(1_000))
    history.record('job_new', check(1_001))
    expect(history.get('job_1')).toEqual([])
    expect(history.get('job_0').map((entry) => entry.at)).toEqual([0, 1_000])
    expect(history.get('job_2')).toHaveLength(1)
    expect(history.get('job_new')).toHaveLength(1)
  })

  it('should keep a stream’s events of one status in a row as one entry, the latest', () => {
    const history = new History()
    const pushed = (at: number, status: HistoryEntry['status']): HistoryEntry => ({
      ...check(at),
      status,
      pushed: true,
    })
    history.record('job_1', check(1))
    for (let at = 2; at <= 1_500; at++) history.record('job_1', pushed(at, 'running'))
    history.record('job_1', pushed(1_501, 'completed'))
    const entries = history.get('job_1')
    expect(entries.map((e) => [e.at, e.status, e.pushed])).toEqual([
      [1, 'running', undefined],
      [1_500, 'running', true],
      [1_501, 'completed', true],
    ])
  })

  it('should keep at most twenty thousand checks in all, forgetting the least recent jobs', () => {
    const history = new History()
    // 40 jobs of 1,000 checks: 40,000 asked, the last 20 jobs kept.
    for (let job = 0; job < 40; job++) {
      for (let at = 0; at < 1_000; at++) history.record(`job_${job}`, check(at))
    }
    expect(history.get('job_19')).toEqual([])
    expect(history.get('job_20')).toHaveLength(1_000)
    expect(history.get('job_39')).toHaveLength(1_000)
    // One more check of a kept job costs the least recent one its entries.
    history.record('job_new', check(0))
    expect(history.get('job_20')).toEqual([])
    expect(history.get('job_new')).toHaveLength(1)
  })
})
