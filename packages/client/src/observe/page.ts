/**
 * Browser manners: while the page is hidden, checks are spaced four times wider; while the
 * browser is offline, nothing is sent; when the page is shown again or the network comes back,
 * the schedule is the one a shown page keeps: a check due meanwhile (or parked offline) goes at
 * once, polled jobs together (in batch requests where the server takes them), held requests and
 * streams a few milliseconds apart (browsers run the timers they deferred all together); a page
 * holds at most a few connections open for push. `PageManners` is the monitor's side of it.
 * Where there is no page (Node, Bun, Deno, a worker) none of this exists.
 */
import type { Observation } from './observation.js'

/** What the monitor needs to know of the page it runs in. */
export interface Page {
  hidden(): boolean
  offline(): boolean
  /**
   * Calls `back` when the page is shown again (`online` false) or the network returns (true);
   * returns the stopper.
   */
  onReturn(back: (online: boolean) => void): () => void
}

/** How much wider checks are spaced while the page is hidden. */
const HIDDEN_FACTOR = 4

/**
 * How long a job another tab shows (`shareTabs`) keeps a shown page's pace here after that tab
 * last said so (it says so on each answer it hears while shown).
 */
const SHOWN_ELSEWHERE_MS = 30_000

/** The page this code runs in, if it runs in one. */
export function currentPage(): Page | undefined {
  const { document, window, navigator } = globalThis as {
    document?: Document
    window?: Window
    navigator?: Navigator
  }
  if (!document || !window) return undefined
  return {
    hidden: () => document.visibilityState === 'hidden',
    offline: () => navigator?.onLine === false,
    onReturn(back) {
      const shown = () => {
        if (document.visibilityState === 'visible') back(false)
      }
      const online = () => back(true)
      document.addEventListener('visibilitychange', shown)
      window.addEventListener('online', online)
      return () => {
        document.removeEventListener('visibilitychange', shown)
        window.removeEventListener('online', online)
      }
    },
  }
}

/** Connections a page may hold open for push at once (browsers allow about six per host). */
const MAX_HELD_IN_PAGE = 4
/**
 * Connections the pages of an origin hold open to one host at once, all together (a Web Lock
 * each): a browser's six connections to an HTTP/1.1 host are the whole browser's, not a page's.
 */
const MAX_HELD_IN_ORIGIN = 4

/** The part of the Web Locks API a page's slots need. */
interface Locks {
  request(
    name: string,
    options: { ifAvailable: boolean },
    callback: (lock: unknown) => Promise<void> | undefined,
  ): Promise<unknown>
}

/** How far apart the checks go when the page is back (they would all fire at once). */
const STAGGER_MS = 25

/** What the page's manners need of the monitor they belong to. */
export interface PagePlanner {
  now(): number
  /** Plans a check of `observation` at `at` (or keeps an earlier one). */
  planAt(observation: Observation, at: number): void
  /** Plans a check of `observation` in `delayMs`, as its answers do (page and batches minded). */
  plan(observation: Observation, delayMs: number): void
  /** The observations live now. */
  observations(): Iterable<Observation>
  /** The observations with a check planned. */
  planned(): Iterable<Observation>
  /** Whether polled jobs due together go in batch requests (the server takes them). */
  batches(): boolean
  /** Whether `observation` has a check planned. */
  isPlanned(observation: Observation): boolean
}

/** A monitor's manners in a page; `undefined` where there is no page. */
export function pageManners(planner: PagePlanner): PageManners | undefined {
  const page = currentPage()
  return page && new PageManners(page, planner)
}

/** The monitor's side of the page: how checks are spaced, parked and resumed. */
export class PageManners {
  readonly #page: Page
  readonly #planner: PagePlanner
  /** Due while the browser was offline: checked when it is back. */
  #parked: Observation[] = []
  /** Stops listening for the page's return; set while jobs are observed. */
  #stop: (() => void) | undefined
  /** Jobs this tab asks for while another tab following them is shown: until when. */
  #shownElsewhere = new WeakMap<Observation, number>()

  constructor(page: Page, planner: PagePlanner) {
    this.#page = page
    this.#planner = planner
  }

  /** Jobs are observed: listen for the page's return. */
  observing(): void {
    this.#stop ??= this.#page.onReturn((online) => this.#back(online))
  }

  /** No job is observed any more: stop listening, forget what was parked. */
  idle(): void {
    this.#stop?.()
    this.#stop = undefined
    this.#parked = []
  }

  /** The delay to plan `observation`'s next check with: wider while no page shows the job. */
  delay(ms: number, observation: Observation): number {
    if (!this.#page.hidden()) return ms
    const shownElsewhere = (this.#shownElsewhere.get(observation) ?? 0) > this.#planner.now()
    return shownElsewhere ? ms : ms * HIDDEN_FACTOR
  }

  /**
   * Another tab following `observation`'s job (`shareTabs`) is shown: this tab, asking for it,
   * keeps a shown page's pace for it a while, from now. `shown` false: that tab was hidden; the
   * pace is this page's own from the next check (a tab still showing the job says so again).
   */
  shownElsewhere(observation: Observation, shown = true): void {
    if (!shown) {
      this.#shownElsewhere.delete(observation)
      return
    }
    const now = this.#planner.now()
    this.#shownElsewhere.set(observation, now + SHOWN_ELSEWHERE_MS)
    if (this.#page.hidden() && this.#planner.isPlanned(observation)) this.#resume(observation, now)
  }

  /**
   * Whether a new observation may hold a connection open (a stream, a held request): a browser
   * keeps about six per host over HTTP/1.1, so a few at most, and creates and checks are never
   * queued behind streams.
   */
  mayHold(): boolean {
    let held = 0
    for (const o of this.#planner.observations()) if (o.transport !== 'poll') held++
    return held < MAX_HELD_IN_PAGE
  }

  /**
   * A stream or held request opens to `host`: it takes one of the origin's slots for them
   * (MAX_HELD_IN_ORIGIN, shared by its tabs), or, where none is free, `denied` is called (it
   * falls back to polling). Two tabs of an app waiting on three jobs each held the browser's six
   * connections: creates queued behind them timed out, the circuit breaker opened. Returns the
   * slot's release. (Without Web Locks, the page's own limit alone.)
   */
  claimConnection(host: string, denied: () => void): () => void {
    const { navigator } = globalThis as { navigator?: { locks?: Locks } }
    const locks = navigator?.locks
    if (typeof locks?.request !== 'function') return () => {}
    let released = false
    let release = () => {}
    const held = new Promise<void>((resolve) => {
      release = resolve
    })
    const claim = (slot: number): void => {
      if (released) return
      if (slot === MAX_HELD_IN_ORIGIN) {
        denied()
        return
      }
      const name = `@video-translation/client held ${host} ${slot}`
      locks
        .request(name, { ifAvailable: true }, (lock) => {
          if (lock) return held
          claim(slot + 1)
          return undefined
        })
        .catch(() => {})
    }
    claim(0)
    return () => {
      released = true
      release()
    }
  }

  /**
   * Offline: nothing can be sent, so the checks due are parked until the network is back;
   * meanwhile each wait still ends at its deadline. Returns whether it parked them.
   */
  park(due: Observation[]): boolean {
    if (!this.#page.offline()) return false
    const now = this.#planner.now()
    for (const observation of due) {
      for (const s of [...observation.subscriptions]) s.checkLimits(now)
      if (observation.ended) continue
      this.#parked.push(observation)
      const deadline = observation.nearestDeadline()
      if (deadline > now && deadline < Infinity) this.#planner.planAt(observation, deadline)
    }
    return true
  }

  /**
   * The page is shown again or back online: each job is checked when a shown page would check
   * it (a page hidden and shown again in quick succession adds no checks).
   */
  #back(online: boolean): void {
    // A stream or a held request out while the network went away may be on a connection that
    // died without a word (a laptop asleep, another Wi-Fi): opened again at once.
    if (online) {
      for (const observation of this.#planner.observations()) observation.holding?.()
    }
    const now = this.#planner.now()
    const parked = new Set(this.#parked)
    this.#parked = []
    let apart = 0
    for (const observation of new Set([...parked, ...this.#planner.planned()])) {
      if (!observation.ended) apart = this.#resume(observation, now, parked.has(observation), apart)
    }
  }

  /**
   * Plans `observation` as a shown page would (at once if `overdue`); the `apart`-th of those
   * going now one by one goes that many staggers later. Returns the next `apart`.
   */
  #resume(observation: Observation, now: number, overdue = false, apart = 0): number {
    const polled = observation.transport === 'poll'
    // A stream or a held request is planned only after a drop or a refusal: its wait stands too.
    const due = overdue ? now : (observation.shownDueAt ?? now)
    if (due > now) this.#planner.plan(observation, due - now)
    else if (polled && this.#planner.batches()) this.#planner.planAt(observation, now)
    else this.#planner.planAt(observation, now + Math.min(1_000, apart++ * STAGGER_MS))
    return apart
  }
}
