/**
 * `pnpm bench` (third part): the waiting engine at scale, in virtual time against the mock server
 * in-process (the same figures on every machine; a few seconds of wall time). Writes
 * docs/client-engine.md. Bounded: 10,000 jobs, then 100 waits on one job, each under a deadline.
 *
 * Targets (issue 11): `waitAll` of 10,000 jobs all correct, status requests per tick at most
 * ceil(pending / 100), zero 429s, heap growth at most 2 kB per waited job; 100 concurrent waits
 * on one job cost one request per tick.
 */
import { writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { fileURLToPath } from 'node:url'
import { type CreateJobParams, createClient } from '@video-translation/client'
import {
  createManualClock,
  createMockServer,
  createRandom,
  DEV_API_KEY,
  sleep,
} from '@video-translation/mock-server'

const gc = (globalThis as { gc?: () => void }).gc

interface Sent {
  at: number
  ids: string[]
}

/** The client and the server on one manual clock, every status request recorded. */
function setup(transport: 'poll' | 'auto' = 'poll') {
  const manual = createManualClock()
  const { app, simulator } = createMockServer({
    clock: manual,
    simulation: { durations: { distribution: 'lognormal', median_ms: 30_000, sigma: 1 } },
  })
  const sent: Sent[] = []
  let refused = 0
  const client = createClient({
    baseUrl: 'http://mock.test',
    apiKey: DEV_API_KEY,
    random: createRandom(7),
    // The engine's sharing and batching of status checks (push has its own report), unless
    // the sharing of one stream is measured.
    transport,
    clock: { now: () => manual.now(), sleep: (ms, signal) => sleep(manual, ms, signal) },
    fetch: async (input, init) => {
      const url = new URL(input)
      if ((init.method ?? 'GET') === 'GET' && url.pathname.startsWith('/v1/jobs')) {
        const ids = url.searchParams.get('ids')?.split(',') ?? [url.pathname.split('/')[3] ?? '']
        sent.push({ at: manual.now(), ids })
      }
      const response = await app.request(input, init)
      if (response.status === 429) refused++
      return response
    },
  })
  /** Runs virtual time from timer to timer until `promise` settles. */
  async function settle<T>(promise: Promise<T>, onTick?: () => void): Promise<T> {
    let done = false
    promise.then(
      () => (done = true),
      () => (done = true),
    )
    for (let idle = 0; !done && idle < 50; ) {
      await manual.tickAsync(0)
      const next = manual.nextDueAt()
      if (done) break
      if (next === undefined) {
        idle++
        continue
      }
      idle = 0
      await manual.tickAsync(next - manual.now())
      onTick?.()
    }
    return promise
  }
  return { client, simulator, sent, refused: () => refused, settle, manual }
}

/** Status requests grouped by the instant they were sent. */
function ticks(sent: Sent[]): Map<number, Sent[]> {
  const byTime = new Map<number, Sent[]>()
  for (const s of sent) byTime.set(s.at, [...(byTime.get(s.at) ?? []), s])
  return byTime
}

async function waitAllRow(jobs: number) {
  const { client, sent, refused, settle } = setup()
  const params: CreateJobParams = { video_url: 'https://example.com/a.mp4', target_language: 'es' }
  const created = await settle(
    client.jobs.createBatch(
      Array.from({ length: jobs }, () => params),
      { concurrency: 16 },
    ),
  )
  const ids = created.flatMap((c) => (c.status === 'fulfilled' ? [c.job.id] : []))
  gc?.()
  const heapBefore = process.memoryUsage().heapUsed
  let heapPeak = heapBefore
  let settled = 0
  client.on('batch:progress', (p) => {
    settled = p.settled
  })
  const before = sent.length
  let samples = 0
  const outcomes = await settle(client.jobs.waitAll(ids, { timeoutMs: 4 * 3_600_000 }), () => {
    if (++samples % 500 === 0) {
      gc?.()
      heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed)
    }
  })
  const status = sent.slice(before)
  // Every id a tick asks for is pending, so requests <= ceil(ids asked / 100) in every tick
  // bounds them by ceil(pending / 100).
  let worst = 0
  let exact = true
  for (const group of ticks(status).values()) {
    const asked = new Set(group.flatMap((g) => g.ids)).size
    if (group.length > Math.ceil(asked / 100)) exact = false
    worst = Math.max(worst, group.length)
  }
  const correct = outcomes.every((o, i) =>
    o.status === 'fulfilled'
      ? o.job.id === ids[i] && o.job.status === 'completed'
      : o.job?.id === ids[i],
  )
  const fulfilled = outcomes.filter((o) => o.status === 'fulfilled').length
  return {
    jobs: ids.length,
    fulfilled,
    failed: outcomes.length - fulfilled,
    correct,
    statusRequests: status.length,
    checks: status.reduce((n, s) => n + s.ids.length, 0),
    worstTick: worst,
    exact,
    refused: refused(),
    heapPerJob: (heapPeak - heapBefore) / ids.length,
    settled,
  }
}

async function sharedRow(waits: number, transport: 'poll' | 'auto') {
  const { client, sent, settle } = setup(transport)
  const job = await client.jobs.create({
    video_url: 'https://example.com/a.mp4',
    target_language: 'es',
    simulate: { duration_ms: 120_000, outcome: 'completed' },
  })
  const before = sent.length
  const done = await settle(
    Promise.all(
      Array.from({ length: waits }, () => client.jobs.wait(job.id, { timeoutMs: 600_000 })),
    ),
  )
  const status = sent.slice(before)
  const perTick = Math.max(...[...ticks(status).values()].map((g) => g.length))
  const alone = setup(transport)
  const single = await alone.client.jobs.create({
    video_url: 'https://example.com/a.mp4',
    target_language: 'es',
    simulate: { duration_ms: 120_000, outcome: 'completed' },
  })
  const aloneBefore = alone.sent.length
  await alone.settle(alone.client.jobs.wait(single.id))
  return {
    transport,
    waits,
    resolved: done.filter((j) => j.status === 'completed').length,
    requests: status.length,
    perTick,
    aloneRequests: alone.sent.length - aloneBefore,
  }
}

const started = performance.now()
const all = await waitAllRow(10_000)
process.stderr.write('engine: waitAll done\n')
const shared = [await sharedRow(100, 'poll'), await sharedRow(100, 'auto')]
const seconds = (performance.now() - started) / 1000
const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, Node ${process.version}`
const yes = (ok: boolean) => (ok ? 'yes' : '**no**')
const report = `# Client: the waiting engine at scale

Generated by \`pnpm bench\` (packages/client/bench/engine.ts) in virtual time: the client and
the mock server in one process on one manual clock, so the figures are the same on every machine
(wall time ${seconds.toFixed(0)} s on ${machine}). Mock server defaults (rate limit: a burst of
100 requests, then 50 a second; 1 job in 20 ends in \`error\`), durations lognormal with median
30 s and sigma 1.

## \`waitAll\` of ${all.jobs.toLocaleString('en')} jobs

Created with \`createBatch\` (16 at a time), then one \`waitAll\` with a 4 h deadline.

| figure | value | target |
| --- | ---: | --- |
| outcomes correct, in order | ${yes(all.correct)} (${all.fulfilled.toLocaleString('en')} completed, ${all.failed} failed) | all |
| status requests | ${all.statusRequests.toLocaleString('en')} for ${all.checks.toLocaleString('en')} job checks (${(all.checks / all.statusRequests).toFixed(1)} jobs a request) | |
| most requests in one tick | ${all.worstTick} | at most ceil(pending / 100) |
| every tick at ceil(ids asked / 100) requests | ${yes(all.exact)} | |
| 429 answers | ${all.refused} | 0 |
| heap growth per waited job | ${gc ? `${(all.heapPerJob / 1024).toFixed(2)} kB` : 'not measured (run with --expose-gc)'} | at most 2 kB |

## 100 concurrent \`wait\` calls on one job

Polled (\`transport: 'poll'\`), and over the server's event stream (\`'auto'\`, the default).

| transport | waits resolved with the completed job | status requests | one wait alone | most requests in one tick | costs what one wait costs |
| --- | ---: | ---: | ---: | ---: | --- |
${shared
  .map(
    (r) =>
      `| ${r.transport} | ${r.resolved} of ${r.waits} | ${r.requests} | ${r.aloneRequests} | ${r.perTick} | ${yes(r.requests === r.aloneRequests && r.perTick === 1)} |`,
  )
  .join('\n')}

Target: one request per tick (at most 1 in every tick), all waits resolved.
`
writeFileSync(fileURLToPath(new URL('../../../docs/client-engine.md', import.meta.url)), report)
process.stderr.write(report)
