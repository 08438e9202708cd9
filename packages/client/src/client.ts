/**
 * `createClient`: builds, from the options resolved once (options.ts), the parts every resource
 * of one client shares (HTTP settings, clock, retries, breaker, pacer, polling strategy, events,
 * history) and the monitor every wait goes through.
 */
import { Calls } from './calls.js'
import type { ClientCore } from './core.js'
import { Emitter, type Listener } from './emitter.js'
import type { ClientEvent, ClientEvents } from './events.js'
import { History } from './history.js'
import { Jobs } from './jobs.js'
import { FreshJobs } from './observe/fresh-jobs.js'
import { TransportMemory } from './observe/memory.js'
import { Monitor } from './observe/monitor.js'
import { batchSource } from './observe/sources/batch.js'
import { longPollSource } from './observe/sources/long-poll.js'
import type { Sources } from './observe/sources/source.js'
import { sseSource } from './observe/sources/sse.js'
import { tabsFor } from './observe/tabs.js'
import { type ClientOptions, type ClientState, resolveOptions, type Settings } from './options.js'
import type { AdaptivePolling } from './polling/adaptive.js'
import { ServerDates } from './polling/hints.js'
import { CircuitBreaker } from './request/breaker.js'
import { Pacer } from './request/pacing.js'
import { RetryBudget } from './request/retry.js'
import { RoundTrips } from './request/round-trips.js'

export type { ClientOptions, ClientState, PollingOptions } from './options.js'

/** A client of the video translation API. */
export interface Client {
  /** Create, inspect, cancel and wait for jobs. */
  readonly jobs: Jobs
  /** Calls `listener` on every `type` event; returns the function that stops it. */
  on<K extends keyof ClientEvents>(type: K, listener: Listener<ClientEvents[K]>): () => void
  /**
   * Calls `listener` on every event, given as `{ name, payload }` (a log of everything); returns
   * the function that stops it.
   * @example client.on('*', ({ name, payload }) => log.debug(name, payload))
   */
  on(type: '*', listener: Listener<ClientEvent>): () => void
  /** Stops calling `listener` on `type` events. */
  off<K extends keyof ClientEvents>(type: K, listener: Listener<ClientEvents[K]>): void
  /** Stops calling `listener` on every event. */
  off(type: '*', listener: Listener<ClientEvent>): void
  /**
   * Ends every wait, watch and batch out (`waitAll`, `waitAny`, `createAndWait`, `createBatch`:
   * their streams, held requests, retry pauses) as their own signal would, rejecting each with
   * `reason` (an `AbortError` `DOMException` when none is given); lets the attempt of a single
   * `get`, `create` or `cancel` out finish (a create cut short could leave a job made and its
   * answer lost) but starts no retry of it after;
   * rejects every call made after, unsent; resolves once all have settled. For a service
   * shutting down, or a test's end.
   * @example process.once('SIGTERM', () => client.close())
   */
  close(reason?: unknown): Promise<void>
  /**
   * What this client learned, to pass as `state` to a later one (`JSON.stringify` it): the
   * default strategy's durations and ETA errors, the transport that works here.
   * @example await writeFile('client-state.json', JSON.stringify(client.exportState()))
   */
  exportState(): ClientState
}

/**
 * Creates a client.
 * @example
 * const client = createClient({ baseUrl: 'http://127.0.0.1:8787', apiKey: 'vt_dev_key' })
 * const job = await client.jobs.createAndWait({ video_url: 'https://example.com/a.mp4', target_language: 'es' })
 */
export function createClient(options: ClientOptions = {}): Client {
  const settings = resolveOptions(options)
  const calls = new Calls()
  const core = { ...createCore(settings), closing: calls.closing }
  const { events } = core
  const tabs = settings.shareTabs ? tabsFor(core.http) : undefined
  // A transport the user chose is kept: a saved state's is read (and written) under 'auto' alone.
  const { transport: best, auto } = settings.transport
  const memory = new TransportMemory(
    best,
    settings.http.baseUrl,
    auto ? settings.savedTransport : undefined,
  )
  const engine = enginesOf(settings, core, (callCore) => {
    const { transport, shareRequests } = settings
    return new Monitor(callCore, resolveSources(callCore), {
      ...transport,
      tabs,
      memory,
      shareRequests,
    })
  })
  type AnyListener = Listener<ClientEvent> & Listener<ClientEvents[keyof ClientEvents]>
  return {
    jobs: new Jobs(engine, calls),
    on: (type: keyof ClientEvents | '*', listener: AnyListener) => {
      const off = type === '*' ? events.onAny(listener) : events.on(type, listener)
      // Every status change is wanted from now on, also of the jobs already held for their end
      // (by the client's one monitor: isolated calls' holds keep to what they asked).
      const statuses = type === 'job:status' || type === '*'
      if (statuses && !settings.isolateCalls) engine().monitor.widenHolds()
      return off
    },
    off: (type: keyof ClientEvents | '*', listener: AnyListener) =>
      type === '*' ? events.offAny(listener) : events.off(type, listener),
    close: (reason = new DOMException('The client was closed.', 'AbortError')) =>
      calls.close(reason),
    exportState: () => {
      const { exportState } = settings.polling as Partial<AdaptivePolling>
      // A strategy that keeps nothing (a fixed interval) passes the saved one's state on.
      const polling = typeof exportState === 'function' ? exportState() : settings.savedPolling
      // (One not read, with a transport chosen, is passed on too.)
      const transport = auto ? memory.toJSON(core.clock.now()) : settings.savedTransport
      return { version: 1, ...(polling && { polling }), ...(transport && { transport }) }
    },
  }
}

/** Builds the parts every resource of one client shares. */
export function createCore(settings: Settings): ClientCore {
  const { clock, logger } = settings
  const events = new Emitter<ClientEvents>((error, type) =>
    logger.error?.(`a listener of ${String(type)} threw`, { error: String(error) }),
  )
  return {
    http: settings.http,
    clock,
    random: settings.random,
    events,
    budget: new RetryBudget(settings.budget),
    retry: settings.retry,
    polling: settings.polling,
    history: new History(),
    logger,
    dates: new ServerDates(clock),
    trips: new RoundTrips(),
    fresh: new FreshJobs(),
    ...gatesOf(settings, events),
  }
}

/**
 * The parts of a core that make requests wait for one another (one per client, or one per call:
 * `isolateCalls`): the circuit breaker (its probe holds every other call back) and the pacer.
 */
function gatesOf(settings: Settings, events: Emitter<ClientEvents>) {
  const { clock } = settings
  const breaker =
    settings.breaker &&
    new CircuitBreaker(settings.breaker, clock, (state) =>
      events.emit(`circuit:${state.state === 'closed' ? 'close' : state.state}`, { state }),
    )
  return {
    breaker: breaker || undefined,
    pacer: settings.pacing ? new Pacer(clock, settings.random) : undefined,
  }
}

/** What a call goes through: the client's core and a monitor (of any kind: the legacy API's differ). */
export interface Engine<M = Monitor> {
  core: ClientCore
  monitor: M
}

/**
 * The engine of each call: the client's one, or with `isolateCalls` a new one for each call (its
 * own breaker, pacer and monitor, sharing no timer, request, promise or probe with other calls;
 * the rest of the core is data, shared).
 */
export function enginesOf<M>(
  settings: Settings,
  core: ClientCore,
  monitorOf: (core: ClientCore) => M,
): () => Engine<M> {
  if (!settings.isolateCalls) {
    const shared = { core, monitor: monitorOf(core) }
    return () => shared
  }
  return () => {
    const own = { ...core, ...gatesOf(settings, core.events) }
    return { core: own, monitor: monitorOf(own) }
  }
}

/** The ways the client's monitor can look at jobs. */
function resolveSources(core: ClientCore): Sources {
  return { poll: batchSource(core), 'long-poll': longPollSource(core), sse: sseSource(core) }
}
