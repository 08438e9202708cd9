import { describe, expect, it } from 'vitest'
import { Schedule } from './schedule.js'

describe('Schedule', () => {
  it('should hand out items earliest first, skipping the ones marked stale', () => {
    const schedule = new Schedule<string>()
    const times = [50, 10, 40, 10, 30, 70, 20, 60]
    const entries = times.map((at, i) => schedule.add(at, `item${i}`))
    schedule.drop(entries[2] as (typeof entries)[number])
    expect(schedule.next()).toBe(10)
    expect(schedule.takeDue(10).sort()).toEqual(['item1', 'item3'])
    expect(schedule.takeDue(45)).toEqual(['item6', 'item4'])
    expect(schedule.next()).toBe(50)
    expect(schedule.takeDue(1_000)).toEqual(['item0', 'item7', 'item5'])
    expect(schedule.next()).toBeUndefined()
  })

  it('should rebuild itself once most entries are dropped, keeping the live ones in order', () => {
    const schedule = new Schedule<number>()
    const entries = Array.from({ length: 100 }, (_, i) => schedule.add(1_000 - i, i))
    for (const entry of entries.slice(0, 70)) schedule.drop(entry)
    expect(schedule.takeDue(Infinity)).toEqual(Array.from({ length: 30 }, (_, i) => 99 - i))
  })
})
