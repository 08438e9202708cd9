/** Random identifiers (idempotency keys) in every runtime, including Node 18 without global `crypto`. */

/** A random UUID where the runtime makes them, else 32 random hex digits: opaque either way. */
export function randomId(): string {
  const webCrypto = (globalThis as { crypto?: Partial<Crypto> }).crypto
  if (webCrypto?.randomUUID) return webCrypto.randomUUID()
  const bytes = new Uint8Array(16)
  if (webCrypto?.getRandomValues) webCrypto.getRandomValues(bytes)
  else for (let i = 0; i < 16; i++) bytes[i] = Math.random() * 256
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('')
}
