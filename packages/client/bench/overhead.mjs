// One side of the jobs.get overhead benchmark, in a process of its own (bench/run.ts starts one
// per side): `node --expose-gc bench/overhead.mjs <url> <requests> <concurrency> <bare|sdk>`.
// Each message from the parent runs one round of <requests> calls, <concurrency> at a time, and
// answers with this process's CPU time and the wall time per call. A process of its own, because
// two sides in one process share the JIT's view of fetch: whichever ran first ran a few per cent
// faster. It imports the built package, as users do; plain JavaScript run by node itself, so no
// loader touches the code being measured.
import { createClient } from '@video-translation/client'

const [url, requestsArg, concurrencyArg, side] = process.argv.slice(2)
const requests = Number(requestsArg)
const concurrency = Number(concurrencyArg)
if (!url || !(requests > 0 && concurrency > 0) || !process.send || !globalThis.gc) {
  console.error(
    'usage (from bench/run.ts): node --expose-gc overhead.mjs <url> <requests> <concurrency> <bare|sdk>',
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
const once = sides[side]
if (!once) {
  console.error(`unknown side ${side}`)
  process.exit(2)
}

/**
 * One round: this process's CPU time and the wall time per call, in µs. A round starts from a
 * collected young generation and ends by collecting what it left (counted), so each round pays
 * for its own garbage.
 */
async function round() {
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

process.on('message', async (message) => {
  if (message === 'round') process.send(await round())
  else process.disconnect()
})
process.send('ready')
