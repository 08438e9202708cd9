/**
 * Telling that jobs no longer take what the adaptive strategy learned (a state imported from
 * other work, a batch of clips after weeks of films), so that it forgets most of its past at
 * once instead of fading it over a hundred jobs while its checks are misplaced.
 *
 * - Sooner: more jobs end early than the durations learned expect, judged on every job this
 *   strategy follows, not only on those that end. The ends expected are the cumulative hazards
 *   (`-ln` of the share of durations learned still running at an age) over the time each job
 *   was seen at risk, by the server's times, up to each end. Over a run of early ends (each in
 *   the first EARLY of what was learned), `ends` where `expected` were expected: the jobs
 *   changed when the likelihood ratio of a higher rate, `ends * ln(ends / expected) - (ends -
 *   expected)`, reaches ALARM. Jobs that run together end shortest first, and the first ends
 *   of a `waitAll` of 300 jobs like those learned are as many as 300 jobs at their age make
 *   likely: no change. 50 jobs of 13-22 s made together after 10-minute films were learned: a
 *   change at the sixth end. (The rule before counted only jobs made one after the other: jobs of
 *   a minute made every 20 s after a state learned on films were learned one by one, fading the
 *   films over a hundred jobs, and known 7 s late on average, 20 s at p95; now 3.5 s and 10 s.)
 *   Ends that tell nothing either way are left out (INSTANT_MS): jobs done at once, failed, or
 *   first seen at their end.
 * - Later: jobs in a row, each made after the one before ended, that outlive all but 1 % of what
 *   was learned. (Jobs outliving what was learned cost checks, not lateness, and a job no wait
 *   saw end says nothing of its duration: waits given up are not jobs that went on.)
 *
 * Jobs under suspicion are held out of the durations until judged, so that each is judged
 * against the past alone: a change learns them anew, a verdict of no change as usual. At a
 * change the strategy's `observe` says `'replan'`: the checks of jobs in flight, planned by what
 * was learned before, are placed again.
 */
import type { AdaptiveState } from './adaptive.js'
import type { LogSketch } from './sketch.js'

/**
 * The likelihood ratio (log) that tells a change, with at least MIN_ENDS ends: three jobs in a
 * row where the durations learned put less than 0.5 % of theirs (four below 1 %, six below 5 %).
 * By chance, about once in e^12 (160,000) such runs.
 */
const ALARM = 12
const MIN_ENDS = 3
/** A job that leaves the ratio this high is held out of the durations until judged. */
const SUSPECT = 0.5
/**
 * Ends this early or earlier in the durations learned are counted; a later one ends the count
 * (a burst of jobs ending together where many were expected is no change, and a slight bias of
 * the sketch does not pile up over thousands of jobs into a ratio that tells one).
 */
const EARLY = 0.2
/**
 * Jobs done this soon (a result the server had already, a cache's) or failed (an input refused at
 * once, a batch of them together), or not seen running before their end (whose time at risk the
 * watch never counted), tell nothing of a change either way: neither counted nor ending a run.
 */
const INSTANT_MS = 1_000
/**
 * The least weight of jobs learned for the sooner watch to judge: a few jobs against the prior
 * (anything from a second to an hour) all end "sooner", which says nothing but that the prior
 * was wide.
 */
const JUDGED_FROM = 20
/** Jobs in a row past 1 - SURPRISE of the durations learned that tell a change the later way. */
const SURPRISES = 3
const SURPRISE = 0.01
/** Jobs held out of the durations at most (the oldest learned past that), and jobs followed. */
const HELD = 8
const FOLLOWED = 1_000
/** The smallest share still running that a hazard is read from (past it, about 23). */
const SURVIVING = 1e-10

/** What the watch says of a job's end. */
export interface Verdict {
  /** The jobs changed: the past is to be mostly forgotten before `learn` is learned. */
  changed: boolean
  /** Durations to learn now: this job's and those held until it, or none while it is held. */
  learn: number[]
}

/** The change watch of one adaptive strategy. */
export class ChangeWatch {
  /** The sooner watch: early ends in a row, and the ends expected meanwhile. */
  #ends = 0
  #expected = 0
  /** Durations held out while suspected. */
  #held: number[] = []
  /** The later watch's run, and when its last job ended (server time). */
  #run: number[] = []
  #runUntil = Number.NEGATIVE_INFINITY
  /** Jobs seen running, by id: when they were made, and up to which age they were counted. */
  readonly #followed = new Map<string, { createdAt: number; counted: number }>()

  /** Takes up what an earlier run saved (`sooner`, `surprising`) where it makes sense. */
  constructor(saved?: Pick<AdaptiveState, 'sooner' | 'surprising'>) {
    const sooner = saved?.sooner
    if (
      sooner &&
      Number.isFinite(sooner.ends) &&
      sooner.ends > sooner.expected &&
      sooner.expected > 0 &&
      durationsOk(sooner.durations, HELD)
    ) {
      this.#ends = sooner.ends
      this.#expected = sooner.expected
      this.#held = [...sooner.durations]
    }
    const run = saved?.surprising
    if (
      run &&
      Number.isFinite(run.endedAt) &&
      durationsOk(run.durations, SURPRISES - 1) &&
      run.durations.length > 0
    ) {
      this.#run = [...run.durations]
      this.#runUntil = run.endedAt
    }
  }

  /**
   * A job seen running, made at `createdAt` and `age` old then (server times, ms): at risk of
   * ending from then on (a wait resumed on an old job counts its time from there).
   */
  seen(id: string, createdAt: number, age: number): void {
    if (this.#followed.has(id) || !Number.isFinite(createdAt)) return
    if (this.#followed.size >= FOLLOWED) {
      this.#followed.delete(this.#followed.keys().next().value as string)
    }
    this.#followed.set(id, { createdAt, counted: Number.isFinite(age) ? Math.max(0, age) : 0 })
  }

  /** A job that ended with nothing to learn (canceled, or with times that tell no duration). */
  drop(id: string): void {
    this.#followed.delete(id)
  }

  /**
   * A job ended `duration` ms after it was made, at `endedAt` (server time); `completed`: done,
   * not failed.
   */
  ended(
    job: { id: string; createdAt: number; endedAt: number; duration: number; completed: boolean },
    durations: LogSketch,
  ): Verdict {
    const { id, createdAt, endedAt, duration } = job
    const shares = durations.shares()
    const hazard = (age: number, through = false) =>
      age > 0 || through ? -Math.log(Math.max(SURVIVING, 1 - shares(age, through))) : 0
    // The ends expected since the last end: this job's time at risk not yet counted (through
    // the whole of the bin it ended in), and what the others followed lived through since (up
    // to this end, by the server's clock).
    const own = this.#followed.get(id)
    this.#followed.delete(id)
    let expected = Math.max(0, hazard(duration, true) - hazard(own?.counted ?? 0))
    for (const other of this.#followed.values()) {
      const age = endedAt - other.createdAt
      if (!(age > other.counted)) continue
      expected += hazard(age) - hazard(other.counted)
      other.counted = age
    }
    const learn: number[] = []
    const judged = own !== undefined && job.completed && duration >= INSTANT_MS
    const early = shares(duration) < EARLY && durations.learnedWeight() >= JUDGED_FROM
    const ratio = this.#sooner(judged ? early : undefined, expected)
    if (ratio === 0) learn.push(...this.#held.splice(0))
    else if (ratio >= ALARM && this.#ends >= MIN_ENDS) {
      learn.push(...this.#held.splice(0), ...this.#run, duration)
      this.#sooner(false, 0)
      this.#endRun()
      return { changed: true, learn }
    }
    if (shares(duration) > 1 - SURPRISE) {
      // Made before the run's last job ended: learned as usual, and the run goes on (jobs made
      // together end longest last, which says nothing of a change).
      if (createdAt < this.#runUntil) return { changed: false, learn: [...learn, duration] }
      this.#run.push(duration)
      this.#runUntil = endedAt
      if (this.#run.length < SURPRISES) return { changed: false, learn }
      learn.push(...this.#run)
      this.#endRun()
      return { changed: true, learn }
    }
    learn.push(...this.#run)
    this.#endRun()
    if (judged && ratio >= SUSPECT) this.#held.push(duration)
    else learn.push(duration)
    if (this.#held.length > HELD) learn.push(this.#held.shift() as number)
    return { changed: false, learn }
  }

  /** What to save for the next run (`sooner` and `surprising` of the state). */
  toJSON(): Pick<AdaptiveState, 'sooner' | 'surprising'> {
    const round = (n: number) => Number(n.toPrecision(4))
    return {
      ...(this.#ends > 0 && {
        sooner: {
          ends: this.#ends,
          expected: round(this.#expected),
          durations: [...this.#held],
        },
      }),
      ...(this.#run.length > 0 && {
        surprising: { durations: [...this.#run], endedAt: this.#runUntil },
      }),
    }
  }

  /**
   * Counts one end where `expected` were expected since the last, `early` in the durations
   * learned (undefined: an end that tells nothing, its time at risk alone counted): the
   * likelihood ratio (log) of a higher rate of ends than learned since the last end that was
   * not early, 0 when the ends came no faster than expected.
   */
  #sooner(early: boolean | undefined, expected: number): number {
    if (early === false) {
      this.#ends = 0
      this.#expected = 0
      return 0
    }
    if (early) this.#ends += 1
    if (this.#ends > 0) this.#expected += expected
    const ends = this.#ends
    const sum = this.#expected
    return ends > sum && sum > 0 ? ends * Math.log(ends / sum) - (ends - sum) : 0
  }

  #endRun(): void {
    this.#run = []
    this.#runUntil = Number.NEGATIVE_INFINITY
  }
}

/** A saved list of durations that can be taken up: finite, not negative, at most `most`. */
function durationsOk(durations: unknown, most: number): durations is number[] {
  return (
    Array.isArray(durations) &&
    durations.length <= most &&
    durations.every((d) => Number.isFinite(d) && d >= 0)
  )
}
