/**
 * The monitor's planned checks (monitor.ts) and its one timer: it is set for the earliest, and
 * hands over every check due when it fires.
 */
import { type Clock, WAKE_CHECK_MS } from '../clock.js'
import { type Due, Schedule } from './schedule.js'

/** Planned checks, by item, and the timer for the earliest. */
export class Timetable<T> {
  readonly #clock: Clock
  /** Called with the items due when the timer fires, and the time it was set for. */
  readonly #fire: (due: T[], firedFor: number) => void
  readonly #schedule = new Schedule<T>()
  /** Where each item stands in the schedule, to mark it stale when planned again. */
  readonly #planned = new Map<T, Due<T>>()
  #timer: { at: number; controller: AbortController } | undefined

  constructor(clock: Clock, fire: (due: T[], firedFor: number) => void) {
    this.#clock = clock
    this.#fire = fire
  }

  /** Each planned check. */
  get planned(): ReadonlyMap<T, Due<T>> {
    return this.#planned
  }

  /** Plans `item`'s check at `at`, unless it is planned by then already; true if it moved. */
  planAt(item: T, at: number): boolean {
    const current = this.#planned.get(item)
    if (current && current.at <= at) return false
    if (current) this.#schedule.drop(current)
    this.#planned.set(item, this.#schedule.add(at, item))
    this.arm()
    return true
  }

  /** Drops `item`'s planned check (it goes now, or ended); the timer is left as it is. */
  unplan(item: T): void {
    const current = this.#planned.get(item)
    if (current) this.#schedule.drop(current)
    this.#planned.delete(item)
  }

  /**
   * Sets the one timer for the earliest planned check (or clears it when none is). Set again
   * as a timer fires (`firedFor`, the time it was set for), it goes on from that time where the
   * clock is behind it: a clock stepped back since (see `#fired`).
   */
  arm(firedFor = Number.NEGATIVE_INFINITY): void {
    const next = this.#schedule.next()
    const now = Math.max(this.#clock.now(), firedFor)
    // Kept if it fires by the next check (then set again), unless overdue: a timer the runtime
    // dropped (one of a Worker's request that ended) would otherwise hold every check back.
    const current = this.#timer
    if (current && next !== undefined && current.at <= next && current.at >= now) return
    this.#timer?.controller.abort()
    this.#timer = undefined
    if (next === undefined) return
    const delay = Math.min(WAKE_CHECK_MS, Math.max(0, next - now))
    // Past WAKE_CHECK_MS, it fires for an earlier time, and is set again then.
    const timer = { at: Math.min(next, now + delay), controller: new AbortController() }
    this.#timer = timer
    this.#clock.sleep(delay, timer.controller.signal).then(
      () => {
        if (this.#timer !== timer) return
        this.#timer = undefined
        this.#fired(timer.at)
      },
      () => {},
    )
  }

  /**
   * Hands over the checks due, then sets the timer again. Due by `firedFor` too, the time the
   * timer was set for: a wall clock stepped back since would otherwise hold every check back by
   * the step (the timer itself counts real time).
   */
  #fired(firedFor: number): void {
    const due = this.#schedule.takeDue(Math.max(this.#clock.now(), firedFor))
    for (const item of due) this.#planned.delete(item)
    this.#fire(due, firedFor)
    this.arm(firedFor)
  }
}
