/**
 * The schedules the lab compares, each a `PollingStrategy` given to the same client, so only the
 * schedule differs. The anchors reproduce other SDKs' published polling formulas; `delays` is the
 * number of delays already taken, and delay 0 is the one between the create and the first check.
 */
import {
  adaptivePolling,
  exponentialBackoff,
  fixedInterval,
  hintAware,
  type PollingStrategy,
} from '@video-translation/client'

/** One schedule of the lab. */
export interface Contender {
  id: string
  label: string
  /** Where the schedule comes from, for the report. */
  source: string
  /** A curve of the chart this point belongs to (a sweep of one knob), if any. */
  family?: string
  /** A new strategy, with nothing learned yet. */
  make(): PollingStrategy
  /**
   * Whether the client's waits share requests (`shareRequests`): off for every schedule but the
   * one that shows it, so each job's checks are its own, as the optimal frontier's are.
   */
  shareRequests?: boolean
}

/** `min` plus a uniform draw below `max - min`. */
const between = (random: () => number, min: number, max: number) => min + random() * (max - min)

/** The default: the adaptive strategy with its default price of a request (300 ms). */
export const DEFAULT: Contender = {
  id: 'default',
  label: 'default (adaptive, 0.3 s a request)',
  source: 'this SDK: `adaptivePolling()`, packages/client/src/polling/adaptive.ts',
  family: 'adaptive',
  make: () => adaptivePolling(),
}

/**
 * The client as it comes: the default strategy, and checks of jobs due within 1/8 of their delay
 * of one another sharing one batch request (`shareRequests`). Below the optimal frontier at
 * times, as that is the best schedule for one job checked alone.
 */
export const DEFAULT_SHARED: Contender = {
  ...DEFAULT,
  id: 'default-shared',
  label: 'default, sharing requests among waits (as the client comes)',
  source: 'this SDK: `adaptivePolling()` and `shareRequests` (on by default)',
  family: 'shared',
  shareRequests: true,
}

/**
 * The default in a program that never keeps what it learned (a new client for every job, nothing
 * saved between them with `exportState()`): what its prior alone is worth. It forgets every job
 * that ends, so each is placed as the first.
 */
export const NEVER_LEARNING: Contender = {
  id: 'default-never-learning',
  label: 'default, never learning (a new client a job, no saved state)',
  source: 'this SDK: `adaptivePolling()`, told of no job’s end',
  family: 'unlearned',
  make: () => {
    const strategy = adaptivePolling()
    return {
      nextDelay: (context) => strategy.nextDelay(context),
      observe: (job, ageMs) => {
        if (job.status === 'pending' || job.status === 'running') strategy.observe?.(job, ageMs)
      },
    }
  },
}

/** The adaptive strategy at other prices of a request: its curve. */
export const ADAPTIVE_SWEEP: readonly Contender[] = [100, 1_000, 3_000, 10_000].map((ms) => ({
  id: `adaptive-${ms}`,
  label: `adaptive, ${ms / 1000} s a request`,
  source: `this SDK: \`adaptivePolling({ requestCostMs: ${ms} })\``,
  family: 'adaptive',
  make: () => adaptivePolling({ requestCostMs: ms }),
}))

/** Fixed intervals: their curve. */
export const FIXED_SWEEP: readonly Contender[] = [2, 3.5, 5.4, 8, 13].map((s) => ({
  id: `fixed-${s}`,
  label: `fixed ${s} s`,
  source: 'a plain loop',
  family: 'fixed',
  make: () => fixedInterval(s * 1000),
}))

export const ANCHORS: readonly Contender[] = [
  {
    id: 'previous-default',
    label: 'previous default (hints, else backoff 0.5 s ×2 to 30 s, full jitter)',
    source: 'this SDK before the lab: `hintAware(exponentialBackoff())`',
    make: () => hintAware(exponentialBackoff()),
  },
  {
    id: 'fixed-1',
    label: 'fixed 1 s',
    source: 'a plain loop',
    family: 'fixed',
    make: () => fixedInterval(1_000),
  },
  {
    id: 'azure',
    label: 'Azure core-lro',
    source:
      'Azure/azure-sdk-for-js `sdk/core/core-lro/src/poller/poller.ts`, `poller/constants.ts` (@azure/core-lro): first poll at once, then `intervalInMs` = 2 s, a `Retry-After` header replacing it',
    make: () => ({
      nextDelay: ({ delays, hints }) => (delays === 0 ? 0 : (hints.retryAfterMs ?? 2_000)),
    }),
  },
  {
    id: 'openai',
    label: 'OpenAI poll helpers',
    source:
      'openai/openai-node `poll` helpers (`createAndPoll`, `pollWithResponse`): a first look at once, then every 5 s (`pollIntervalMs` default 5000; its `openai-poll-after-ms` header is OpenAI’s own)',
    make: () => ({ nextDelay: ({ delays }) => (delays === 0 ? 0 : 5_000) }),
  },
  {
    id: 'aws',
    label: 'AWS waiter (2 s to 120 s)',
    source:
      'smithy-lang/smithy-typescript `packages/util-waiter/src/poller.ts` (@smithy/util-waiter, behind AWS SDK v3 waiters): first check at once, then attempt k waits U(min, min(min·2^(k−1), max)), max once k passes log2(max/min)+1',
    make: () => ({
      nextDelay: ({ delays, random }) => {
        if (delays === 0) return 0
        const min = 2_000
        const max = 120_000
        const ceiling = Math.log2(max / min) + 1
        return delays > ceiling ? max : between(random, min, Math.min(max, min * 2 ** (delays - 1)))
      },
    }),
  },
  {
    id: 'gax',
    label: 'google-gax LRO',
    source:
      'googleapis/gax-nodejs `src/longRunningCalls/longrunning.ts`: a first poll at once, then 100 ms, ×1.3 per poll, at most 60 s (`initialRetryDelayMillis`, `retryDelayMultiplier`, `maxRetryDelayMillis`)',
    make: () => ({
      nextDelay: ({ delays }) => (delays === 0 ? 0 : Math.min(60_000, 100 * 1.3 ** (delays - 1))),
    }),
  },
  {
    id: 'runway',
    label: 'Runway SDK',
    source:
      'runwayml/sdk-node `src/lib/polling.ts` (`waitForTaskOutput`): every 6 s, jittered by ±1.5 s, the first before any look',
    make: () => ({ nextDelay: ({ random }) => between(random, 4_500, 7_500) }),
  },
  {
    id: 'heygen-cli',
    label: 'HeyGen CLI',
    source:
      'heygen-com/heygen-cli `internal/client/retry.go` (`backoffDelay`) with the poll’s 2 s base and 30 s cap: a first look at once, then 2 s, ×2 per poll, capped at 30 s, then ×U(0.75, 1.25) (the jitter applies at the cap too)',
    make: () => ({
      nextDelay: ({ delays, random }) =>
        delays === 0
          ? 0
          : Math.min(30_000, 2_000 * 2 ** (delays - 1)) * between(random, 0.75, 1.25),
    }),
  },
  {
    id: 'challenge-a',
    label: 'challenge client A (1 s ×2 to 60 s)',
    source:
      'a published Python client of the original challenge (`TranslationClient.wait_for_completion`, httpx; `initial_retry_delay` 1 s, `max_retry_delay` 60 s): a first look at once, then 1 s, doubling, capped at 60 s',
    make: () => ({
      nextDelay: ({ delays }) => (delays === 0 ? 0 : Math.min(60_000, 1_000 * 2 ** (delays - 1))),
    }),
  },
  {
    id: 'challenge-b',
    label: 'challenge client B (0.5 s ×2 to 5 s, 10 % jitter)',
    source:
      'a published Python client of the original challenge (`PollingConfig(0.5, 5.0, 2.0, 0.1)`): a first look at once, then the 0.5 s base doubled (1 s), 2 s, 4 s, 5 s, … each ±10 % (the source carries each jittered delay into the next doubling; here each is jittered alone)',
    make: () => ({
      nextDelay: ({ delays, random }) =>
        delays === 0 ? 0 : Math.min(5_000, 1_000 * 2 ** (delays - 1)) * between(random, 0.9, 1.1),
    }),
  },
]
