/**
 * The key scan: every text a client produces (log lines, event payloads, errors down their
 * causes, history entries, whatever else a run adds), kept and then searched for the API key,
 * as written and JSON-escaped.
 */
import type { Client, ClientEvents, Logger } from '../src/index.js'

/** What a run records, and the search. */
export interface KeyScan {
  /** Every text recorded so far; a run may add its own (the URLs it asked for, say). */
  said: string[]
  /** A logger recording every line: pass it to `createClient`. */
  logger: Logger
  /** Records every event of these types the client emits. */
  listen(client: Client, types: readonly (keyof ClientEvents)[]): void
  /** Records an error and its causes, down the chain: their messages and their fields. */
  error(error: unknown): void
  /** Whether anything recorded holds `key`. */
  holds(key: string): boolean
}

/** A new, empty scan. */
export function keyScan(): KeyScan {
  const said: string[] = []
  const log = (message: string, data?: Record<string, unknown>) => {
    said.push(message, JSON.stringify(data ?? {}))
  }
  const error = (error: unknown) => {
    for (let e = error, depth = 0; e !== undefined && depth < 5; depth++) {
      said.push(String(e), fields(e))
      // An ApiError's response headers (JSON.stringify shows a Headers object as `{}`).
      const { headers } = (e ?? {}) as { headers?: unknown }
      if (headers instanceof Headers) said.push(JSON.stringify([...headers]))
      e = (e as { cause?: unknown })?.cause
    }
  }
  return {
    said,
    logger: { debug: log, warn: log, error: log },
    listen(client, types) {
      for (const type of types) {
        client.on(type, (event) => {
          said.push(JSON.stringify(event))
          error((event as { error?: unknown }).error)
        })
      }
    },
    error,
    holds(key) {
      const escaped = JSON.stringify(key).slice(1, -1)
      return said.some((text) => text.includes(key) || text.includes(escaped))
    },
  }
}

/** A value's own fields as JSON (an error's problem body, its job), or nothing if it has none. */
function fields(value: unknown): string {
  try {
    return JSON.stringify(value) ?? ''
  } catch {
    return ''
  }
}
