/**
 * A 32-bit hash of `text`: FNV-1a, then a final mix (MurmurHash3's) so that ids differing only
 * in their last character (`job_1`, `job_2`) land far apart. It tells strings apart and spreads
 * them evenly; it keeps nothing secret.
 */
export function hash32(text: string): number {
  let hash = 0x811c9dc5
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193)
  hash = Math.imul(hash ^ (hash >>> 16), 0x85ebca6b)
  hash = Math.imul(hash ^ (hash >>> 13), 0xc2b2ae35)
  return (hash ^ (hash >>> 16)) >>> 0
}
