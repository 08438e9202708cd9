/**
 * Where the simulator's time comes from, timers included. Jobs derive their status from `now()`
 * and every wait (long-poll, SSE, webhooks, faults) goes through `schedule`, so a manual clock
 * replays hours of job lifecycles in no real time at all.
 */

/** Cancels a scheduled callback; calling it after the callback ran does nothing. */
export type Cancel = () => void

/** How a callback is scheduled. */
export interface ScheduleOptions {
  /**
   * Work of the server's own that no caller awaits (a webhook due at a job's end, its retry): its
   * real timer does not keep a process alive by itself. Anything else does, as any timer: a
   * client on this clock (`sleep` as its `clock.sleep`) waits for its job before Node may exit.
   */
  background?: boolean | undefined
}

/** The server's own work that no caller awaits (see `ScheduleOptions`). */
export const BACKGROUND: ScheduleOptions = { background: true }

/** A source of time: the current instant and callbacks after a delay. */
export interface Clock {
  /** The current time in epoch milliseconds. */
  now(): number
  /** Runs `callback` once `ms` milliseconds have passed on this clock. */
  schedule(ms: number, callback: () => void, options?: ScheduleOptions): Cancel
}

/** Resolves after `ms` on `clock`, or rejects with the signal's reason when it aborts first. */
export function sleep(
  clock: Clock,
  ms: number,
  signal?: AbortSignal,
  options?: ScheduleOptions,
): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason)
    let unlink = () => {}
    const cancel = clock.schedule(
      ms,
      () => {
        unlink()
        resolve()
      },
      options,
    )
    if (signal) {
      unlink = whenAborted(signal, () => {
        cancel()
        reject(signal.reason)
      })
    }
  })
}

/** The sleeps waiting on each signal, run by its one listener. */
const sleepers = new WeakMap<AbortSignal, { callbacks: Set<() => void>; fire: () => void }>()

/**
 * Calls `callback` once `signal` aborts; returns its unlink. One listener per signal however
 * many sleeps share it (a client's hundred waits under one caller's signal): Node warns of a
 * leak past ten listeners.
 */
function whenAborted(signal: AbortSignal, callback: () => void): () => void {
  let entry = sleepers.get(signal)
  if (!entry) {
    const callbacks = new Set<() => void>()
    const fire = () => {
      sleepers.delete(signal)
      for (const call of callbacks) call()
    }
    entry = { callbacks, fire }
    sleepers.set(signal, entry)
    signal.addEventListener('abort', fire, { once: true })
  }
  const { callbacks, fire } = entry
  callbacks.add(callback)
  return () => {
    if (!callbacks.delete(callback) || callbacks.size > 0) return
    sleepers.delete(signal)
    signal.removeEventListener('abort', fire)
  }
}

/**
 * Real time, optionally sped up: at `scale` 10, a job of one minute finishes in six seconds.
 * Background timers (`ScheduleOptions`) are unref'd where the runtime allows, so a pending
 * webhook never keeps a process alive on its own; the others keep it alive as any timer does
 * (unref'd too, a client waiting on this clock let Node exit in the middle of its wait).
 */
export function createSystemClock(scale = 1): Clock {
  if (!(scale > 0)) throw new RangeError(`time scale must be positive (got ${scale})`)
  const origin = Date.now()
  return {
    now: () => (scale === 1 ? Date.now() : origin + Math.round((Date.now() - origin) * scale)),
    schedule(ms, callback, options) {
      // A timer longer than the runtime's longest (about 24.8 days) would fire at once: one
      // that long waits in parts (a day of a slow clock's time is 100 real days at 0.01).
      const due = Date.now() + Math.max(0, ms / scale)
      let timer: ReturnType<typeof setTimeout>
      const arm = () => {
        const left = Math.max(0, due - Date.now())
        timer = setTimeout(
          left > LONGEST_TIMER_MS ? arm : callback,
          Math.min(left, LONGEST_TIMER_MS),
        )
        if (options?.background) (timer as { unref?: () => void }).unref?.()
      }
      arm()
      return () => clearTimeout(timer)
    },
  }
}

/** The longest delay `setTimeout` takes as given (a longer one fires at once). */
const LONGEST_TIMER_MS = 2 ** 31 - 1

/** Real wall-clock time. */
export const systemClock: Clock = createSystemClock()

/** A clock that only moves when told to: for tests and virtual-time runs. */
export interface ManualClock extends Clock {
  /** Moves time forward by `ms`, running due callbacks in time order, synchronously. */
  advance(ms: number): void
  /**
   * Moves time forward by `ms` like `advance`, but lets pending promise chains and I/O settle
   * before each due callback and after the last, so work that a callback starts (and the timers
   * it schedules) runs as it would in real time.
   */
  tickAsync(ms: number): Promise<void>
  /** How many callbacks are waiting. */
  pending(): number
  /** When the next callback is due, or undefined when none waits. */
  nextDueAt(): number | undefined
}

interface Timer {
  at: number
  seq: number
  callback: () => void
}

/** Creates a manual clock starting at `start` (epoch milliseconds). */
export function createManualClock(start = Date.UTC(2026, 0, 1)): ManualClock {
  let current = start
  let seq = 0
  const timers = new Set<Timer>()

  const nextDue = (until: number): Timer | undefined => {
    let next: Timer | undefined
    for (const timer of timers) {
      if (timer.at > until) continue
      if (!next || timer.at < next.at || (timer.at === next.at && timer.seq < next.seq)) {
        next = timer
      }
    }
    return next
  }
  const fire = (timer: Timer) => {
    timers.delete(timer)
    current = Math.max(current, timer.at)
    timer.callback()
  }
  const target = (ms: number) => {
    if (!(ms >= 0)) throw new RangeError(`a clock only moves forward (got ${ms} ms)`)
    return current + ms
  }

  return {
    now: () => current,
    schedule(ms, callback) {
      const timer = { at: current + Math.max(0, ms), seq: seq++, callback }
      timers.add(timer)
      return () => timers.delete(timer)
    },
    advance(ms) {
      const until = target(ms)
      for (let timer = nextDue(until); timer; timer = nextDue(until)) fire(timer)
      current = until
    },
    async tickAsync(ms) {
      const until = target(ms)
      await settle()
      for (let timer = nextDue(until); timer; timer = nextDue(until)) {
        fire(timer)
        await settle()
      }
      current = until
      await settle()
    },
    pending: () => timers.size,
    nextDueAt: () => nextDue(Number.POSITIVE_INFINITY)?.at,
  }
}

/** Lets queued microtasks and already-due macrotasks run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0))
}
