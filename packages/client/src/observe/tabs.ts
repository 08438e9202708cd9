/**
 * Tabs that share (opt-in, `shareTabs: true`): the tabs of one origin observe each job once. The
 * tab holding the job's Web Lock asks the server and posts every answer on a BroadcastChannel;
 * the others only listen. When the asking tab stops (closed, or its waits ended), the browser
 * hands the lock to another tab still waiting, which asks from then on. Ten open tabs cost one
 * tab's requests.
 */
import { parseJob } from '../parse.js'
import type { HttpConfig } from '../request/http.js'
import type { Job } from '../types.js'
import type { Observation } from './observation.js'
import { InFlight } from './planner.js'
import { checkOnce } from './sources/poll.js'

/** How long a tab taking over a job's lead waits for the last answer of the tab before it. */
const TAKEOVER_MS = 100

/** What the monitor does with a shared job. */
export interface SharedJob {
  /** This tab holds the lock: ask the server until the returned promise settles. */
  lead(): Promise<void>
  /** Another tab posted an answer. */
  follow(job: Job): void
  /** The job as last seen here, for a tab that starts following it. */
  last(): Job | undefined
  /** A tab following the job this tab leads is shown to its user (`false`: was hidden). */
  shown(shown: boolean): void
}

/** What a shared observation needs of its monitor. */
export interface TabsMonitor {
  /** This tab leads: the first check (or the create's answer). */
  begin(observation: Observation): void
  /** This tab leads, taking over from a tab that led: told before its first check is planned. */
  leads(observation: Observation): void
  plan(observation: Observation, delayMs: number): void
  /** Another tab following the job is shown, or was hidden (this tab asks for it). */
  shownElsewhere(observation: Observation, shown: boolean): void
}

/** Shares job `id` until `signal` aborts: leads when given the lock, follows meanwhile. */
type Share = (id: string, signal: AbortSignal, job: SharedJob) => void

/**
 * The tabs of one origin, for one API (base URL and key). The monitor reaches this module only
 * through it, so a client without `shareTabs` (the legacy one) carries none of it.
 */
export interface Tabs {
  /** Shares `observation` with the other tabs (see `shareObservation`). */
  observe(observation: Observation, monitor: TabsMonitor): void
  /** Posts an answer about job `id` to the other tabs. */
  post(job: Job): void
}

/** The tabs sharing jobs of one API and key; the key itself is not put in the channel's name. */
export function tabsFor(http: HttpConfig): Tabs | undefined {
  // A key a function gives may change: such clients share by their base URL alone.
  const key = http.key ? 'a key function' : (http.headers.authorization ?? '')
  return tabsOf(`${http.baseUrl}#${fingerprint(key)}`)
}

/** A short FNV-1a fingerprint of `text` (not a secret's protection: it only tells keys apart). */
function fingerprint(text: string): string {
  let hash = 0x811c9dc5
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193)
  return (hash >>> 0).toString(36)
}

/**
 * Tabs sharing jobs of `scope`, or undefined outside a page or a browser's worker (Deno and Node
 * 24 have both APIs, and an open channel would keep their process alive for good) or where a
 * browser lacks BroadcastChannel or Web Locks.
 */
function tabsOf(scope: string): Tabs | undefined {
  const { BroadcastChannel, navigator, document, WorkerGlobalScope } = globalThis as {
    BroadcastChannel?: typeof globalThis.BroadcastChannel
    navigator?: { locks?: LockManager }
    document?: Document
    WorkerGlobalScope?: unknown
  }
  const locks = navigator?.locks
  const browser = document !== undefined || WorkerGlobalScope !== undefined
  if (!BroadcastChannel || !locks || !browser) return undefined
  const name = `video-translation:${scope}`
  const channel = new BroadcastChannel(name)
  const followers = new Map<string, Set<SharedJob>>()
  const leading = new Map<string, SharedJob>()
  // A tab shown to its user says so of the jobs it follows (on each answer it hears, and when
  // shown again), so that the tab asking for them, hidden perhaps, keeps a shown page's pace;
  // hidden, it says that too, and the tab asking slows from its next check unless another tab
  // still shows them.
  const shown = (id: string) => {
    if (document?.visibilityState === 'visible' && !leading.has(id))
      channel.postMessage({ shown: id })
  }
  const onVisibility = () => {
    const visible = document?.visibilityState === 'visible'
    for (const id of followers.keys()) {
      if (visible) shown(id)
      else if (!leading.has(id)) channel.postMessage({ hidden: id })
    }
  }
  /** This tab's asks not answered yet. */
  const asked = new Set<string>()
  type Message = { job?: unknown; ask?: unknown; shown?: unknown; hidden?: unknown; for?: unknown }
  channel.onmessage = (event: MessageEvent<Message>) => {
    const { ask, shown: seen, hidden, for: answering } = event.data ?? {}
    // A tab starting to follow a job asks for it as last seen (`ask`: its id and the ask's
    // own); the tab leading it answers that ask alone.
    if (Array.isArray(ask) && typeof ask[0] === 'string') {
      const last = leading.get(ask[0])?.last()
      if (last) channel.postMessage({ job: last, for: ask[1] })
      return
    }
    if (typeof seen === 'string') return leading.get(seen)?.shown(true)
    if (typeof hidden === 'string') {
      leading.get(hidden)?.shown(false)
      // Still shown here: said again, so the tab asking keeps the pace.
      if (followers.has(hidden)) shown(hidden)
      return
    }
    if (answering !== undefined && !asked.delete(String(answering))) return
    // Read like any answer: another tab may run another version, or be any script of the origin.
    const job = parseJob(event.data?.job)
    if (typeof job === 'string' || !followers.has(job.id)) return
    for (const f of followers.get(job.id) ?? []) f.follow(job)
    shown(job.id)
  }
  const share: Share = (id, signal, job) => {
    // Listened to while this tab shares jobs.
    if (followers.size === 0) document?.addEventListener('visibilitychange', onVisibility)
    const listening = followers.get(id) ?? new Set()
    listening.add(job)
    followers.set(id, listening)
    const ask = `${id} ${asked.size} ${Math.random()}`
    const stop = () => {
      asked.delete(ask)
      listening.delete(job)
      if (listening.size === 0) {
        followers.delete(id)
        // No longer shown here: the tab asking slows unless another tab still shows the job.
        if (document?.visibilityState === 'visible' && !leading.has(id)) {
          channel.postMessage({ hidden: id })
        }
      }
      if (followers.size === 0) document?.removeEventListener('visibilitychange', onVisibility)
    }
    signal.addEventListener('abort', stop, { once: true })
    asked.add(ask)
    channel.postMessage({ ask: [id, ask] })
    shown(id)
    const lead = () => {
      leading.set(id, job)
      return job.lead().finally(() => {
        if (leading.get(id) === job) leading.delete(id)
      })
    }
    locks.request(`${name}:${id}`, { signal }, lead).catch(() => {})
  }
  return {
    observe: (observation, monitor) => shareObservation(share, observation, monitor),
    post(job) {
      channel.postMessage({ job })
    },
  }
}

/**
 * Shares `observation` with the other tabs: it listens to the tab that leads it (an answer is
 * awaited from elsewhere, so its waits' deadlines are guarded as for a stream) until this tab
 * is handed the lead, then `begin`s checking (or `plan`s a check, taking over from a tab that
 * led), and lets go of it when it ends.
 */
function shareObservation(share: Share, observation: Observation, monitor: TabsMonitor): void {
  const { begin, leads, plan } = monitor
  const following = new InFlight(1)
  observation.inFlight = following
  observation.sharedWithTabs = true
  // A wait of this tab looks once itself at its deadline: the leading tab's next answer may be
  // far off, and a job that ended in time must not be lost for it.
  let looking = false
  observation.interrupt = () => {
    if (looking) return
    looking = true
    observation.cursor.state.checks++
    checkOnce(observation.core, observation, following.controller.signal, 'look')
      .catch(() => {})
      .finally(() => {
        looking = false
      })
  }
  observation.guardDeadlines(0)
  share(observation.id, following.controller.signal, {
    lead: () =>
      new Promise<void>((resolve) => {
        if (observation.ended) return resolve()
        observation.onEnd = () => {
          following.controller.abort()
          resolve()
        }
        observation.inFlight = undefined
        // Its checks are its own now: each wait gives a check out at its deadline its second.
        observation.interrupt = undefined
        observation.guardDeadlines()
        // Taking over from a tab that led: its last answer may be on its way still (the lock
        // and the channel are not ordered), so the first check waits a moment for it.
        if (observation.answers > 0) {
          leads(observation)
          plan(observation, TAKEOVER_MS)
        } else begin(observation)
      }),
    follow: (job) => observation.answered(job, {}, undefined, 'relayed'),
    last: () => (observation.answers > 0 ? observation.cursor.state.job : undefined),
    shown: (shown) => monitor.shownElsewhere(observation, shown),
  })
}
