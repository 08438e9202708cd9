/**
 * The long-poll source: `GET /v1/jobs/:id?wait=N` with the last `ETag`; the server holds the
 * request until the job's status changes or N seconds pass, so the end is known one round trip
 * after it happens, at about one request per N seconds. Its time limit is the hold plus the
 * client's request limit, so a dropped connection is noticed within it. A server that ignores
 * `wait` (answers at once, with nothing new, twice in a row) is polled instead. A held request
 * cut on the way is asked again at once; cut twice in a row (a proxy's idle limit below the hold,
 * rather than a server restarting once), the hold is lowered for the whole client to end before
 * the cut does.
 */
import { type ClientCore, cutHolds } from '../../core.js'
import type { Source } from '../monitor.js'
import { getJob, hintsOf } from './poll.js'

/** How long the server is asked to hold a request, in seconds (the protocol allows up to 60). */
export const HOLD_S = 30

/** An answer faster than this, with nothing new, means the server did not hold it. */
const QUICK_MS = 1_000

/** Answers in a row the server did not hold before the job is polled instead. */
const IGNORED_LIMIT = 2

/** Held requests of a job cut in a row before the holds are made shorter. */
const CUT_LIMIT = 2

/** Checks jobs with held requests. */
export function longPollSource(core: ClientCore): Source {
  /** Per observation: how many answers in a row came back at once with nothing new. */
  const ignored = new WeakMap<object, number>()
  /** Per observation: how many held requests in a row were cut on the way. */
  const cuts = new WeakMap<object, number>()
  /** The longest hold asked for, in seconds: lowered when held requests are cut on the way. */
  let holdLimitS = HOLD_S
  return {
    async one(observation, signal) {
      const { clock } = core
      const { state } = observation.cursor
      const startedAt = clock.now()
      const left = observation.nearestDeadline() - startedAt
      // Never held past the nearest deadline: the wait ends on time.
      const holdS = Math.max(1, Math.min(holdLimitS, Math.floor(left / 1_000)))
      const previous = state.job
      const sentEtag = previous ? state.etag : undefined
      // The hold is within the deadline; the request's own limit (and its retries) too.
      observation.guardDeadlines()
      let answer: Awaited<ReturnType<typeof getJob>>
      try {
        answer = await getJob(core, observation.id, {
          attempt: state.checks,
          signal,
          timeoutMs: observation.requestLimitMs(startedAt),
          etag: sentEtag,
          holdS,
        })
      } catch (error) {
        if (!cutHolds.has(error as object)) throw error
        // Cut after holding a while: nothing changed meanwhile. Cut again, and the holds end a
        // second before the cut did from now on.
        const times = (cuts.get(observation) ?? 0) + 1
        cuts.set(observation, times)
        // Something held it: the server does not ignore wait.
        ignored.set(observation, 0)
        const lastedS = Math.floor((clock.now() - startedAt) / 1_000)
        if (times >= CUT_LIMIT && lastedS - 1 < holdLimitS) {
          holdLimitS = Math.max(1, lastedS - 1)
          core.logger.debug?.('held requests are cut on the way: shorter holds from now on', {
            holdS: holdLimitS,
          })
        }
        observation.answered(
          undefined,
          hintsOf(previous, new Headers(), clock.now()),
          undefined,
          'now',
        )
        return
      }
      const { job, response } = answer
      const now = clock.now()
      const hints = hintsOf(job ?? previous, response.headers, now)
      const etag = response.headers.get('etag') ?? undefined
      // A held request ends when the status changes: a quick answer with a new status is a
      // hold that ended at once, and the next one goes at once too.
      const newStatus = job !== undefined && job.status !== previous?.status
      if (now - startedAt < QUICK_MS && !newStatus) {
        // Not held. The first such answer in a row with a new ETag (progress moved since the one
        // sent, as after a gap) is the server catching up: ask again at once. Otherwise the
        // server may ignore wait: the strategy says when to ask again, so a server that answers
        // at once is never asked in a loop; twice in a row, and the job is polled.
        const times = (ignored.get(observation) ?? 0) + 1
        ignored.set(observation, times)
        if (times >= IGNORED_LIMIT)
          observation.planner.fallback(observation, 'poll', 'wait ignored')
        const caughtUp = times === 1 && etag !== undefined && etag !== sentEtag
        observation.answered(job, hints, etag, caughtUp ? 'now' : 'plan')
        return
      }
      ignored.set(observation, 0)
      // A hold that ended by itself: the path held it this long without cutting it.
      cuts.delete(observation)
      // Held until something changed (or the hold ran out): ask again at once.
      observation.answered(job, hints, etag, 'now')
    },
  }
}
