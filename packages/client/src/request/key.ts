/**
 * A key that an `apiKey` function gives: asked for before each request, checked, learned by the
 * redactor before any request carries it, and awaited within the request's time limit. Its
 * failure is the request's, retried as a network failure is (a token service's blip), and never
 * taken for the server's (`notSent`).
 */
import { VideoTranslationError } from '../errors.js'
import { type keyRing, redactError } from '../redact.js'
import { apiKeyFault } from '../validate.js'
import { type Deadline, settleBy } from './deadlines.js'

/**
 * The key `given` gives now, checked, and learned by `ring` before any request carries it. Its
 * failure is the request's, retried as a network failure is (a token service's blip).
 */
export function keyGiver(
  given: () => string | Promise<string>,
  ring: ReturnType<typeof keyRing>,
): () => Promise<string> {
  return async () => {
    let key: unknown
    try {
      key = await given()
    } catch (cause) {
      throw new VideoTranslationError('The apiKey function failed; see `cause`.', {
        retryable: true,
        cause: redactError(cause, ring),
      })
    }
    const fault = apiKeyFault(key)
    if (fault) throw new VideoTranslationError(`The key the apiKey function gave ${fault}.`)
    ring.learn(key as string)
    return key as string
  }
}

/**
 * `headers` with the key `key` gives, within the request's `deadline`: one that gives none in
 * time fails the request saying so (a `TimeoutError` blamed the server, which was sent nothing).
 */
export async function keyed(
  key: () => Promise<string>,
  headers: Readonly<Record<string, string>>,
  deadline: Deadline,
  timeoutMs: number,
): Promise<Record<string, string>> {
  try {
    return { ...headers, authorization: `Bearer ${await settleBy(key(), deadline.signal)}` }
  } catch (error) {
    if (!deadline.timedOut()) {
      if (typeof error === 'object' && error !== null) notSent.add(error)
      throw error
    }
    const late = new VideoTranslationError(
      `The apiKey function gave no key within the request's time limit (${timeoutMs} ms).`,
      { retryable: true },
    )
    notSent.add(late)
    throw late
  }
}

/**
 * Errors of requests never sent (the key's function failed; the server said it takes none for
 * longer than the request waits: unavailable.ts): nothing against the server's health (the
 * circuit breaker) nor a turn under its rate limit used (the pacer), core.ts and turns.ts, nor a
 * sign of the link's speed (batching.ts). Five failures of a token service opened the breaker
 * with no request sent.
 */
export const notSent = new WeakSet<object>()
