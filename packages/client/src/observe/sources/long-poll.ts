/**
 * The long-poll source: `GET /v1/jobs/:id?wait=N` with the last `ETag`; the server holds the
 * request until the job's status changes or N seconds pass, so the end is known one round trip
 * after it happens, at about one request per N seconds. When only the end matters to everyone
 * listening (`Observation.endOnly`), `&until=terminal` asks the server to hold through the other
 * changes: 1 + duration / N requests at most (a server without it ends holds at each change).
 * Its time limit is the hold plus the client's request limit, so a dropped connection is noticed
 * within it. A server that ignores `wait` (answers at once, with nothing new, twice in a row) is
 * polled instead.
 *
 * Held requests cut on the way (a proxy's idle limit below the hold): a cut is asked again at
 * once; cut again at about the same point, the holds of the whole client end a second before it
 * from then on (or, below MIN_HOLD_S, the job is polled); cut yet again, at scattered points or
 * after the hold should have been answered, each cut is a failed check like any other, so a dead
 * path ends the wait as a dead server would. After RETRY_LONGEST_AFTER holds that ran their full
 * length, holds twice as long are tried again (up to the longest). A held request that gets no
 * answer at all by the end of its hold and its time limit (dropped on the way without a word, as
 * a middlebox forgetting idle connections does, or a server hung a while) is followed by a plain
 * check: answered, held requests vanished, and the client's holds are at most half the one lost
 * from then on; vanished again for the same job, in a row, the job is polled (long-poll chosen:
 * holds halved again). Each hold was retried until the breaker opened: a fixed 20 s job known
 * 203 s after its end. A server that refuses the `wait` parameter (a 400 or
 * 422 to a held request, and again without `until`), or answers one 404 where a plain check
 * finds the job, is polled; one that ends an idle hold with a 204 or a 304 is told nothing new.
 */
import { type ClientCore, cutHolds } from '../../core.js'
import { isApiError, isTimeoutError } from '../../errors.js'
import { hintsOf, serverTimeOf } from '../../polling/hints.js'
import { isTerminalStatus, type Job, stageOf } from '../../types.js'
import { jobPath } from '../../validate.js'
import type { Observation } from '../observation.js'
import { LAST_LOOK_MS } from '../subscription.js'
import { holdOpen, notHeld, UntilTerminal } from './held.js'
import { getJob, UNCONDITIONAL_EVERY } from './poll.js'
import type { Source } from './source.js'

/** How long the server is asked to hold a request, in seconds (the protocol allows up to 60). */
export const HOLD_S = 30

/** An answer faster than this, with nothing new, means the server did not hold it. */
const QUICK_MS = 1_000

/** Answers in a row the server did not hold before the job is polled instead. */
const IGNORED_LIMIT = 2

/** A path that cuts held requests sooner than this is not worth holding on: the job is polled. */
const MIN_HOLD_S = 5

/**
 * Full-length holds at a lowered limit before holds twice as long are tried again, and how long
 * after the limit was lowered at least: 20 jobs held at once make 20 full holds in seconds (behind
 * nginx cutting at 5 s, each job's holds were cut again every few seconds: 346 504s for 20 jobs).
 */
const RETRY_LONGEST_AFTER = 20
const RETRY_LONGER_MS = 300_000

/**
 * A change told this long after it happened, by a held request answered at the end of its hold,
 * shows a server that does not end holds at changes (it sleeps through them): polling knows
 * sooner. Long enough that a server waking its holds on a loop of its own of a few seconds,
 * or whose job store's clock is a little behind its own, keeps them.
 */
const TOLD_LATE_MS = 10_000

/**
 * Whether the answer to a held request of `holdS` (`job`, after `previous`) tells a change of
 * status that happened while it was held, at least TOLD_LATE_MS before the answer (its
 * `updated_at` against the answer's `Date`, both the server's clock), and came at the hold's end.
 * A hold for the end alone (`endOnly`), or without `previous`, is for the end only: the server
 * holds through the other changes (a job started mid-hold is told at its end, rightly).
 */
function toldLate(
  job: Job,
  previous: Job | undefined,
  endOnly: boolean,
  headers: Headers,
  heldMs: number,
  holdS: number,
): boolean {
  const changed =
    previous && !endOnly
      ? job.status !== previous.status
      : isTerminalStatus(job.status) && job.status !== previous?.status
  const answeredAt = serverTimeOf(headers)
  if (!changed || answeredAt === undefined || heldMs < (holdS - 1) * 1_000) return false
  // The `Date` is whole seconds, up to one before the answer: `lateMs` is never more than it was.
  const lateMs = answeredAt - Date.parse(job.updated_at)
  return lateMs >= TOLD_LATE_MS && lateMs < heldMs
}

/** Checks jobs with held requests. */
export function longPollSource(core: ClientCore): Source {
  /** Per observation: how many answers in a row came back at once with nothing new. */
  const ignored = new WeakMap<object, number>()
  /**
   * Observations whose last answer came back early with only a new ETag: the one sent was stale
   * (progress moved while it was on the way), and a server that answers a stale `If-None-Match`
   * at once would do so again whenever the way takes longer than a progress step (a loaded
   * server: a request loop). Their next hold goes without one: held until the status changes.
   */
  const staleTags = new WeakSet<object>()
  /** Per observation: how long (s) its held requests cut in a row lasted. */
  const cuts = new WeakMap<object, number[]>()
  /** The longest hold asked for, in seconds, and the full-length holds made at it since lowered. */
  let holdLimitS = HOLD_S
  let fullHolds = 0
  let loweredAt = Number.NEGATIVE_INFINITY
  /**
   * Holds for the end alone while the server takes them: one with `until` refused (a 400: strict
   * about parameters it does not know) is asked once without it (held.ts); a 400 may be about
   * something else.
   */
  const until = new UntilTerminal(() =>
    core.logger.debug?.('the server refuses until=terminal: holds end at every change'),
  )
  /** Held requests refused with a 400 or 422 even without `until` (see below). */
  let waitRefusals = 0
  /**
   * Observations whose held request was answered 404: a server routing by the whole URL (or
   * answering so for parameters it does not know) says it of a job that exists. A plain check
   * next tells: a 404 again, the job is missing (the wait fails with it); answered, it was
   * `until` (held again at once without it, as after a 400) or, without it, held requests are
   * refused here and the job is polled, the client's next jobs too (long-poll chosen: this job's
   * checks stay plain).
   */
  const notFoundHeld = new WeakMap<object, 'asking' | 'asking without until' | 'refused'>()
  /** Observations whose last held request got no answer at all, with its hold: a plain check next. */
  const unanswered = new WeakMap<object, number>()
  /** Per observation: its held requests that vanished in a row (see `vanished`). */
  const vanishedInRow = new WeakMap<object, number>()
  /** Jobs polled since a held request was last answered, for held requests vanishing. */
  let vanishedJobs = 0
  /** Held requests in a row that told a change long after it (see `toldLate`). */
  let sleptThrough = 0
  /** Held requests out (see `cold`). */
  let heldOut = 0
  /**
   * A plain check was answered where a held request of `lostS` got none: held requests vanish
   * on the way (or the server hung a while). Holds are at most half that from then on; the second
   * time in a row for this job, it is polled (the client's next jobs too, once two were), or,
   * long-poll chosen, holds are halved again.
   */
  const vanished = (observation: Observation, lostS: number) => {
    const times = (vanishedInRow.get(observation) ?? 0) + 1
    vanishedInRow.set(observation, times)
    const reason = 'held requests get no answer'
    if (
      times >= 2 &&
      observation.planner.fallback(observation, 'poll', reason, ++vanishedJobs >= 2)
    )
      return
    const lowered = Math.max(1, Math.floor(lostS / 2))
    if (lowered >= holdLimitS) return
    holdLimitS = lowered
    fullHolds = 0
    loweredAt = core.clock.now()
    core.logger.debug?.('held requests get no answer: shorter holds', { holdS: holdLimitS })
  }
  return {
    async one(observation, signal, turn) {
      const { clock } = core
      const { state } = observation.cursor
      const startedAt = clock.now()
      const left = observation.nearestDeadline() - startedAt
      // Held to end a second before the nearest deadline, so its answer comes before it (under
      // two seconds left, the last look is a plain check).
      const holdS = Math.min(holdLimitS, Math.floor((left - LAST_LOOK_MS) / 1_000))
      const previous = state.job
      // The last look asks for the body (see checkOnce).
      // Sent from a page to another origin too, though it costs a preflight a hold there
      // (http.ts, `conditionalChecks`): it tells the server which version this client has, so a
      // change made between two holds ends the next one at once, not a hold later.
      // Not every UNCONDITIONAL_EVERY-th (see checkOnce): a cache answering 304 whatever changed
      // hid a job's end from held requests until the deadline, or for ever (28 holds in 100 s).
      const asked = state.checks % UNCONDITIONAL_EVERY !== 0
      const knownEtag = previous && left > 0 && asked ? state.etag : undefined
      // While the circuit breaker is not closed, a plain check: it may be the breaker's probe,
      // and a probe held for a hold would keep every other call refused meanwhile.
      const probing = core.breaker !== undefined && core.breaker.state.state !== 'closed'
      // Nothing known of the job yet, and someone wants every change (a watch): a plain check
      // first brings the job as it is now, where a held one would wait for its next change.
      const unknown = previous === undefined && !observation.endOnly()
      // A held request goes unpaced while the rate limit is unknown (it cannot be the probe: its
      // answer may be a hold away): with one out already, a plain check in its place, which
      // waits for the limit's probe. 1,000 waits on a new client sent 1,000 holds at once, 900
      // refused with 429.
      const cold = previous === undefined && core.pacer?.unknown === true && heldOut > 0
      const plain =
        probing ||
        holdS < 1 ||
        unknown ||
        cold ||
        unanswered.has(observation) ||
        notFoundHeld.has(observation)
      const sentEtag = plain || !staleTags.has(observation) ? knownEtag : undefined
      // A wait for the end alone is held through the other status changes; someone who wants
      // them joining meanwhile ends the hold (`widen`), and the job is asked again at once.
      const endOnly = !plain && until.asks(observation)
      // A plain check is not interrupted: it is the look a deadline would want.
      const held = plain ? notHeld(signal) : holdOpen(observation, signal, endOnly)
      // The hold ends by the deadline, but the request may be held up on the way: a held request
      // still out at a wait's deadline is interrupted for a plain last look; a plain check has
      // a second past it.
      observation.guardDeadlines(plain ? LAST_LOOK_MS : 0)
      let answer: Awaited<ReturnType<typeof getJob>>
      if (!plain) heldOut++
      try {
        answer = await getJob(core, observation.id, {
          attempt: state.checks,
          signal: held.signal,
          timeoutMs: observation.requestLimitMs(startedAt),
          etag: sentEtag,
          holdS: plain ? undefined : holdS,
          endOnly,
          lastLook: left <= 0,
          turn,
          known: state.job?.status,
        })
      } catch (error) {
        held.done()
        if (!plain) heldOut--
        if (held.interrupted()) return observation.requeue()
        // Cut on the way after being held a while (core.ts, `isCutHold`): see below.
        const lastedMs = cutHolds.get(error as object)
        if (!plain && isApiError(error) && error.status === 404 && lastedMs === undefined) {
          notFoundHeld.set(observation, endOnly ? 'asking without until' : 'asking')
          return observation.requeue()
        }
        if (!plain && isApiError(error) && (error.status === 400 || error.status === 422)) {
          // Perhaps a server that knows no `until` and refuses what it does not know: asked
          // again without it, at once.
          if (endOnly) {
            until.suspect(observation)
            return observation.requeue()
          }
          // Nor `wait`: a strict server without long-poll, or a request wrong for this job
          // alone. Polled (unless long-poll was chosen); the client's next jobs too once two
          // were refused.
          const reason = `GET ${jobPath(observation.id)}?wait= answered ${error.status}`
          const remember = ++waitRefusals >= 2
          if (observation.planner.fallback(observation, 'poll', reason, remember)) {
            return observation.requeue()
          }
        }
        // Held requests refused otherwise (as a stream's open would be: sse.ts): the job is
        // polled instead, the client's next jobs too when not for this key or plan.
        const refused = isApiError(error) && error.status !== 401 && error.status !== 404
        if (!plain && refused && lastedMs === undefined) {
          const remember = error.status === 403 || error.status === 410
          const reason = `GET ${jobPath(observation.id)}?wait= answered ${error.status}`
          if (observation.planner.fallback(observation, 'poll', reason, remember)) {
            return observation.requeue()
          }
        }
        if (lastedMs === undefined) throw error
        if (isTimeoutError(error)) {
          // Not a word by the end of the hold and its time limit: held requests vanish on the
          // way, or the server hangs. A plain check next tells which (see `vanished`).
          unanswered.set(observation, holdS)
          return observation.requeue()
        }
        // Something held it: the server does not ignore wait.
        ignored.set(observation, 0)
        const lasted = [...(cuts.get(observation) ?? []), Math.floor(lastedMs / 1_000)].slice(-3)
        cuts.set(observation, lasted)
        const [before, last = 0] = lasted
        if (lasted.length === 1) return observation.requeue()
        // Cut at scattered points, or after the hold should have been answered: not an idle
        // limit on the way but a failing path or server.
        const agree = lasted.length === 2 && Math.abs(last - (before ?? 0)) <= 1
        if (!agree || last >= holdS) {
          // A proxy's error page, then, is the server's failure it passes on: counted by the
          // breaker as the request layer would have (a server failing every held request with
          // a 504 after a few seconds never opened it).
          if (isApiError(error)) core.breaker?.failed(error, false, startedAt)
          throw error
        }
        // Cut twice at the same point: something on the way limits held requests (or the
        // network was down a while: so this job alone is polled, and lower holds recover).
        cuts.delete(observation)
        const lowered = Math.max(1, last - 1)
        const reason = `held requests cut after ${last} s`
        // Short holds are not worth it: poll, unless long-poll was chosen (then hold less).
        const polled =
          lowered < MIN_HOLD_S && observation.planner.fallback(observation, 'poll', reason, false)
        if (!polled && lowered < holdLimitS) {
          holdLimitS = lowered
          fullHolds = 0
          loweredAt = core.clock.now()
          core.logger.debug?.('held requests are cut on the way: shorter holds', {
            holdS: holdLimitS,
          })
        }
        return observation.requeue()
      }
      held.done()
      if (!plain) heldOut--
      // Answered without `until` after a refusal with it: held at every change from now on.
      until.answered(observation)
      const { job, response } = answer
      const now = clock.now()
      const hints = hintsOf(job ?? previous, response.headers, now)
      const etag = response.headers.get('etag') ?? undefined
      // A plain check while the breaker probed: ask again at once (held, once it is closed); as
      // the first look at a job, held at once. One under a second before the deadline: the
      // next (if any) as the strategy says.
      if (plain) {
        const asked = notFoundHeld.get(observation)
        if (asked === 'asking without until') {
          notFoundHeld.delete(observation)
          until.suspect(observation)
        } else if (asked === 'asking') {
          notFoundHeld.set(observation, 'refused')
          const reason = `GET ${jobPath(observation.id)}?wait= answered 404, the job found without`
          observation.planner.fallback(observation, 'poll', reason)
        }
        // After a held request unanswered: held again at once when still long-polled.
        const lostS = unanswered.get(observation)
        unanswered.delete(observation)
        if (lostS !== undefined) vanished(observation, lostS)
        const holdAgain = lostS !== undefined && observation.transport === 'long-poll'
        const withoutUntil = asked === 'asking without until'
        const again = probing || ((unknown || cold) && holdS >= 1) || holdAgain || withoutUntil
        return observation.answered(job, hints, etag, again ? 'now' : 'plan')
      }
      // How long the server held the attempt that answered (not the pacer's wait or retries).
      const heldMs = now - (response.sentAt ?? startedAt)
      const newTag = etag !== undefined && etag !== knownEtag
      const changed = job !== undefined && (job.status !== previous?.status || newTag)
      const early = heldMs < (holdS * 1_000) / 4
      if (newTag && job?.status === previous?.status && early) staleTags.add(observation)
      else staleTags.delete(observation)
      // Held: until something changed, or for a good part of the hold (a server may hold less
      // than asked). An unchanged answer after a second or two is a slow server ignoring wait.
      if (heldMs >= QUICK_MS && (changed || !early)) {
        // Held to its end past the change it was for: the server sleeps through its holds. The
        // job is polled, the client's next jobs too once two in a row showed it (a job of 6 s
        // was known 24 s after its end). A hold ended early by a change says the opposite.
        if (
          job !== undefined &&
          toldLate(job, previous, endOnly, response.headers, heldMs, holdS)
        ) {
          const reason = 'held requests end when their hold does, not at the change'
          if (observation.planner.fallback(observation, 'poll', reason, ++sleptThrough >= 2)) {
            return observation.answered(job, hints, etag, 'plan')
          }
        } else if (changed && heldMs < (holdS - 1) * 1_000) sleptThrough = 0
        // Not cut: ask again at once.
        cuts.delete(observation)
        ignored.set(observation, 0)
        vanishedInRow.delete(observation)
        vanishedJobs = 0
        if (holdLimitS < HOLD_S && holdS === holdLimitS && heldMs >= holdS * 1_000) {
          const longAgo = now - loweredAt >= RETRY_LONGER_MS
          if (++fullHolds >= RETRY_LONGEST_AFTER && longAgo) {
            holdLimitS = Math.min(HOLD_S, holdLimitS * 2)
            fullHolds = 0
          }
        }
        return observation.answered(job, hints, etag, 'now')
      }
      // A held request ends when the status changes: a quick answer moving the job forward is a
      // hold that ended at once, and the next one goes at once too. (Not one moving it back:
      // a server flipping a job's status would be asked in a loop.)
      // The 'ignored' count goes on: only a held answer resets it.
      if (job !== undefined && stageOf(job.status) > (previous ? stageOf(previous.status) : -1)) {
        return observation.answered(job, hints, etag, 'now')
      }
      // Not held. The first such answer in a row with a new ETag (progress moved since the one
      // sent, as after a gap) is the server catching up: ask again at once. Otherwise the
      // server may ignore wait: the strategy says when to ask again, so a server that answers
      // at once is never asked in a loop; twice in a row, and the job is polled.
      const times = (ignored.get(observation) ?? 0) + 1
      ignored.set(observation, times)
      if (times >= IGNORED_LIMIT) observation.planner.fallback(observation, 'poll', 'wait ignored')
      const caughtUp = times === 1 && newTag
      observation.answered(job, hints, etag, caughtUp ? 'now' : 'plan')
    },
  }
}
