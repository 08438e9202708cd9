/**
 * `pnpm bench`: measures the mock server on loopback and writes docs/mock-server-benchmarks.md.
 *
 * 1. Throughput of `GET /v1/jobs/:id` against bare hono routes served the same way in the same
 *    run: `replay` sends the identical response (status, headers, body) with no logic, so the
 *    ratio is the cost of the app's work (auth, rate limit, fault draw, validation, snapshot,
 *    ETag); `minimal` sends the body alone, for scale. Throughput is counted per second of
 *    server CPU, since on a small machine the load generator, not the server, may saturate
 *    first; raw requests per second are reported too. Target: mock / replay >= 0.7.
 * 2. 5,000 concurrent long-polls held on jobs that finish a few seconds later: every one must be
 *    answered with the finished job, with zero errors.
 *
 * Every load is bounded in count and time and stops by itself.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { Agent, request } from 'node:http'
import { createRequire } from 'node:module'
import { cpus, totalmem } from 'node:os'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'

const BENCH_KEY = 'bench_key_0001'
const ROUNDS = 5
const ROUND_SECONDS = 5
const CONNECTIONS = 50
const LONG_POLLS = 5_000
const LONG_POLL_JOBS = 50
const JOB_MS = 4_000
const TARGET_RATIO = 0.7

const tsx = createRequire(import.meta.url).resolve('tsx')
const here = (path: string) => fileURLToPath(new URL(path, import.meta.url))

interface Server {
  url: string
  child: ChildProcess
}

type Mode = 'mock' | 'replay' | 'minimal'

async function startServer(mode: Mode, jobMs?: number): Promise<Server> {
  const args = ['--import', tsx, here('./server.ts'), mode, ...(jobMs ? [String(jobMs)] : [])]
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] })
  let output = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  for (let i = 0; i < 200; i++) {
    const url = /listening on (\S+)/.exec(output)?.[1]
    if (url) return { url, child }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  child.kill('SIGKILL')
  throw new Error(`${mode} server did not start`)
}

async function stopServer(server: Server): Promise<void> {
  const exited = new Promise((resolve) => server.child.once('exit', resolve))
  server.child.kill('SIGTERM')
  const timer = setTimeout(() => server.child.kill('SIGKILL'), 5_000)
  await exited
  clearTimeout(timer)
}

async function createJob(url: string, durationMs?: number): Promise<string> {
  const response = await fetch(`${url}/v1/jobs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${BENCH_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      video_url: 'https://example.com/a.mp4',
      target_language: 'es',
      ...(durationMs === undefined ? {} : { simulate: { duration_ms: durationMs } }),
    }),
  })
  const { id } = (await response.json()) as { id: string }
  return id
}

interface Stats {
  cpu: { user: number; system: number }
  memory: { rss: number }
}

/** The server process's CPU time and memory, asked over its IPC channel (not over HTTP). */
function stats(server: Server): Promise<Stats> {
  return new Promise((resolve) => {
    server.child.once('message', (message) => resolve(message as Stats))
    server.child.send('stats')
  })
}

async function throughput(mode: Mode) {
  const server = await startServer(mode)
  try {
    const id = await createJob(server.url)
    const before = await stats(server)
    const result = await autocannon({
      url: `${server.url}/v1/jobs/${id}`,
      headers: { authorization: `Bearer ${BENCH_KEY}` },
      connections: CONNECTIONS,
      duration: ROUND_SECONDS,
    })
    const after = await stats(server)
    const cpuSeconds =
      (after.cpu.user + after.cpu.system - before.cpu.user - before.cpu.system) / 1e6
    return {
      rps: result.requests.average,
      perCpuSecond: result.requests.total / cpuSeconds,
      cpuShare: cpuSeconds / result.duration,
      p50: result.latency.p50,
      p99: result.latency.p99,
      non2xx: result.non2xx,
      errors: result.errors,
    }
  } finally {
    await stopServer(server)
  }
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN
}

async function longPolls() {
  const server = await startServer('mock', JOB_MS)
  const agent = new Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY })
  try {
    const ids = await Promise.all(
      Array.from({ length: LONG_POLL_JOBS }, () => createJob(server.url)),
    )
    const { port } = new URL(server.url)
    const started = performance.now()
    let held = 0
    let peakHeld = 0
    const outcomes = await Promise.all(
      Array.from(
        { length: LONG_POLLS },
        (_, i) =>
          new Promise<{ ok: boolean; ms: number; why?: string }>((resolve) => {
            const req = request(
              {
                host: '127.0.0.1',
                port,
                path: `/v1/jobs/${ids[i % ids.length]}?wait=30`,
                headers: { authorization: `Bearer ${BENCH_KEY}` },
                agent,
                timeout: 45_000,
              },
              (res) => {
                let body = ''
                res.on('data', (chunk: Buffer) => {
                  body += chunk.toString()
                })
                res.on('end', () => {
                  held--
                  const ok = res.statusCode === 200 && /"status":"(completed|error)"/.test(body)
                  resolve({
                    ok,
                    ms: performance.now() - started,
                    ...(ok ? {} : { why: `${res.statusCode} ${body.slice(0, 80)}` }),
                  })
                })
              },
            )
            req.on('socket', () => {
              held++
              peakHeld = Math.max(peakHeld, held)
            })
            req.on('timeout', () => req.destroy(new Error('timed out')))
            req.on('error', (error) =>
              resolve({ ok: false, ms: performance.now() - started, why: error.message }),
            )
            req.end()
          }),
      ),
    )
    const { memory } = await stats(server)
    const errors = outcomes.filter((o) => !o.ok)
    return {
      total: outcomes.length,
      answered: outcomes.length - errors.length,
      errors: errors.length,
      firstError: errors[0]?.why,
      peakHeld,
      lastAnsweredS: Math.max(...outcomes.map((o) => o.ms)) / 1000,
      rssMiB: memory.rss / 2 ** 20,
    }
  } finally {
    agent.destroy()
    await stopServer(server)
  }
}

type Round = Awaited<ReturnType<typeof throughput>>

const MODES: Mode[] = ['mock', 'replay', 'minimal']
const LABELS: Record<Mode, string> = {
  mock: 'mock server',
  replay: 'bare route, identical response',
  minimal: 'bare route, body + content type only',
}

async function main() {
  const rounds: Record<Mode, Round[]> = { mock: [], replay: [], minimal: [] }
  for (let round = 0; round < ROUNDS; round++) {
    for (const mode of MODES) {
      const result = await throughput(mode)
      rounds[mode].push(result)
      console.log(
        `round ${round + 1} ${mode}: ${result.rps.toFixed(0)} req/s, ${result.perCpuSecond.toFixed(0)} req per server CPU-second`,
      )
    }
  }
  const med = (mode: Mode, pick: (r: Round) => number) => median(rounds[mode].map(pick))
  const capacity = (mode: Mode) => med(mode, (r) => r.perCpuSecond)
  const ratio = capacity('mock') / capacity('replay')
  const ratioMinimal = capacity('mock') / capacity('minimal')
  const rpsRatio = med('mock', (r) => r.rps) / med('replay', (r) => r.rps)
  const polls = await longPolls()
  console.log(
    `ratio ${ratio.toFixed(2)}; long-polls: ${polls.answered}/${polls.total} answered, ${polls.errors} errors`,
  )

  const cpu = cpus()
  const machine = `${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${process.platform}`
  const pass = (ok: boolean) => (ok ? 'meets the target' : '**misses the target**')
  const rows = MODES.map((mode) => {
    const sum = (pick: (r: Round) => number) =>
      rounds[mode].reduce((total, r) => total + pick(r), 0)
    return `| ${LABELS[mode]} | ${capacity(mode).toFixed(0)} | ${med(mode, (r) => r.rps).toFixed(0)} | ${med(mode, (r) => r.p50)} ms | ${med(mode, (r) => r.p99)} ms | ${sum((r) => r.non2xx)} | ${sum((r) => r.errors)} |`
  })
  const report = `# Mock server benchmarks

Generated by \`pnpm --filter @video-translation/mock-server bench\` on ${new Date().toISOString().slice(0, 10)}.
Machine: ${machine}. The server and the load generator (autocannon) are separate processes on
127.0.0.1. Figures are medians of the rounds of one run; compare ratios rather than absolute
numbers (this VM varies by ±20 % from round to round).

## Throughput of \`GET /v1/jobs/:id\`

Three servers, each on \`@hono/node-server\` and served directly (no wrapping app), one at a time,
${ROUNDS} rounds in turn of ${ROUND_SECONDS} s with ${CONNECTIONS} connections:

- **mock server**, through its Node entry \`startServer\`: API-key auth, rate limit, fault and latency draws, path, query and header
  validation, the job snapshot, ETag, hint, rate-limit, security and request-id headers;
- **bare route, identical response**: a hono route sending the mock server's response for the same
  request (status, every header, body), computed once: the cost of the same bytes without the work;
- **bare route, body only**: the same body with a content type and nothing else, for scale.

Throughput is counted per second of server CPU time (\`process.cpuUsage()\` of the server process),
because on a two-core machine the load generator can saturate before the server does; raw
requests per second are shown beside it.

| server | requests per server CPU-second | requests/s | p50 latency | p99 latency | non-2xx | errors |
| --- | --- | --- | --- | --- | --- | --- |
${rows.join('\n')}

**Ratio mock / identical response: ${ratio.toFixed(2)}** (target ≥ ${TARGET_RATIO}): ${pass(ratio >= TARGET_RATIO)}.
Against the body-only route: ${ratioMinimal.toFixed(2)}; in raw requests per second against the
identical response: ${rpsRatio.toFixed(2)}.

## ${LONG_POLLS.toLocaleString('en')} concurrent long-polls

${LONG_POLLS.toLocaleString('en')} requests \`GET /v1/jobs/:id?wait=30\` opened at once on ${LONG_POLL_JOBS} jobs that finish
${JOB_MS / 1000} s after creation, one connection each.

| held at once (peak) | answered with the finished job | errors | last answer after | server RSS after |
| --- | --- | --- | --- | --- |
| ${polls.peakHeld} | ${polls.answered} / ${polls.total} | ${polls.errors}${polls.firstError ? ` (first: ${polls.firstError})` : ''} | ${polls.lastAnsweredS.toFixed(1)} s | ${polls.rssMiB.toFixed(0)} MiB |

Target: all held and answered with zero errors: ${pass(polls.errors === 0 && polls.peakHeld === polls.total)}.
`
  const out = fileURLToPath(new URL('../../../docs/mock-server-benchmarks.md', import.meta.url))
  writeFileSync(out, report)
  console.log(`wrote ${out}`)
  if (ratio < TARGET_RATIO || polls.errors > 0) process.exitCode = 1
}

await main()
