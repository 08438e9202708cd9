// One process of the jobs.get overhead benchmark (bench/run.ts starts two, one per order):
// `node --expose-gc bench/overhead.mjs <url> <rounds> <requests> <concurrency> <first> <second>`
// runs the two sides in interleaved rounds of <requests> calls, <concurrency> at a time, `first`
// leading, and prints each side's CPU and wall time per round as JSON. It imports the built package, as users do. Plain JavaScript run by node itself,
// so no loader touches the code being measured.
import { createClient } from '@video-translation/client'

const [url, ...rest] = process.argv.slice(2)
const [rounds, requests, concurrency] = rest.slice(0, 3).map(Number)
const [first, second] = rest.slice(3)
if (
  !url ||
  !(rounds > 0 && requests > 0 && concurrency > 0) ||
  !first ||
  !second ||
  !globalThis.gc
) {
  console.error(
    'usage: node --expose-gc overhead.mjs <url> <rounds> <requests> <concurrency> <first> <second>',
  )
  process.exit(2)
}

const id = 'job_0123456789abcdef'
const client = createClient({ baseUrl: url, apiKey: 'bench_key' })
const sides = {
  bare: async () => {
    const response = await fetch(`${url}/v1/jobs/${id}`, {
      headers: { authorization: 'Bearer bench_key', accept: 'application/json' },
    })
    return response.json()
  },
  sdk: () => client.jobs.get(id),
}

/**
 * `requests` calls of `once`, `concurrency` at a time: this process's CPU time and the wall time per
 * request, in µs. A round starts from a collected young generation and ends by collecting what it
 * left (counted), so each side pays for its own garbage rather than the next round's.
 */
async function measure(once) {
  let next = 0
  globalThis.gc({ type: 'minor' })
  const cpuBefore = process.cpuUsage()
  const started = performance.now()
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < requests) await once()
    }),
  )
  globalThis.gc({ type: 'minor' })
  const wall = ((performance.now() - started) * 1000) / requests
  const cpu = process.cpuUsage(cpuBefore)
  return { wall, cpu: (cpu.user + cpu.system) / requests }
}

const order = [first, second]
for (const side of order) {
  await measure(sides[side])
  await measure(sides[side])
}
const times = { [first]: [], [second]: [] }
// ABBA: within this process each side leads every other round.
for (let round = 0; round < rounds; round++) {
  for (const side of round % 2 === 0 ? order : [second, first]) {
    times[side].push(await measure(sides[side]))
  }
}
console.log(JSON.stringify(times))
