import { describe, expect, it } from 'vitest'
import { Schedule } from './schedule.js'

describe('Schedule', () => {
  it('should hand out items earliest first, skipping the ones marked stale', () => {
    const schedule = new Schedule<string>()
    const times = [50, 10, 40, 10, 30, 70, 20, 60]
    const entries = times.map((at, i) => schedule.add(at, `item${i}`))
    ;(entries[2] as { stale: boolean }).stale = true
    expect(schedule.next()).toBe(10)
    expect(schedule.takeDue(10).sort()).toEqual(['item1', 'item3'])
    expect(schedule.takeDue(45)).toEqual(['item6', 'item4'])
    expect(schedule.next()).toBe(50)
    expect(schedule.takeDue(1_000)).toEqual(['item0', 'item7', 'item5'])
    expect(schedule.next()).toBeUndefined()
  })
})
