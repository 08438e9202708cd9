/**
 * `pnpm test:reliability [--long]`: the reliability suite's categories (chaos, leaks, bad input
 * from and to the server, security, races, load), each with the deliberately broken variant it
 * catches, and their figures: printed, and written to docs/reliability.md by the long profile
 * (the committed report; the fast one's figures would replace it with a smaller run's). The fast
 * profile (also run by `pnpm test`, in test/reliability.node.test.ts and races.node.test.ts)
 * takes under a minute;
 * `--long` runs a thousand jobs per chaos mix, ten thousand waits for leaks, 500 race orders, and
 * 2,000 event streams and 5,000 long-polls at once (a few minutes). Virtual time but for the load
 * (real time over loopback). Exits non-zero when an invariant does not hold.
 */
import { writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { fileURLToPath } from 'node:url'
import { type ChaosReport, FAULT_MIX, runChaos } from './chaos.js'
import { plainTextErrors, runHostileRequests, serverHeldUp } from './hostile-requests.js'
import { type BadCaseResult, heldUp, naiveWaiter, runBadCase } from './hostile-server.js'
import { BAD_CASES } from './hostile-server-cases.js'
import { type LeakReport, runLeaks } from './leaks.js'
import { type LoadReport, loadHeldUp, runLoad } from './load.js'
import { runRaces } from './races.js'
import { runSecurity, securityHeldUp, wrongTenantGateway } from './security.js'

const long = process.argv.includes('--long')
const jobs = long ? 1_000 : 200
const waits = long ? 10_000 : 3_000

const chaos: { name: string; report: ChaosReport }[] = []
for (const [name, transport] of [
  ['polling', 'poll'],
  ['push (auto: event streams)', 'auto'],
] as const) {
  chaos.push({ name, report: await runChaos({ jobs, seed: 11, transport }) })
  process.stderr.write(`reliability: chaos, ${name}\n`)
}
// A bounded subset over a loopback port: `vt-mock-server` and the client on a clock 30× real time.
const loopbackJobs = long ? 300 : 60
chaos.push({
  name: `polling over loopback (${loopbackJobs} jobs, 30× time)`,
  report: await runChaos({
    jobs: loopbackJobs,
    seed: 12,
    transport: 'poll',
    loopback: { scale: 30 },
  }),
})
process.stderr.write('reliability: chaos over loopback\n')
const leaks: LeakReport = await runLeaks(waits)
const streamed: LeakReport = await runLeaks(Math.round(waits / 3), { transport: 'sse' })
process.stderr.write('reliability: leaks\n')
const hostileServer: BadCaseResult[] = []
for (const bad of BAD_CASES) hostileServer.push(await runBadCase(bad))
const naive: BadCaseResult[] = []
for (const bad of BAD_CASES) naive.push(await runBadCase(bad, naiveWaiter, 60_000))
const hostileRequests = await runHostileRequests()
process.stderr.write('reliability: bad input\n')
const security = await runSecurity()
const races = await runRaces(long ? 500 : 100)
process.stderr.write('reliability: security, races\n')
// SSE streams and held requests at once, the clients in this process, the server in one of its
// own, as users run it (needs `pnpm build`).
const load: LoadReport[] = long
  ? await runLoad(
      [
        { transport: 'sse', jobs: 2_000 },
        { transport: 'long-poll', jobs: 5_000 },
      ],
      (i) => 18_000 + ((i * 7) % 4_000),
      { serverProcess: true },
    )
  : await runLoad(
      [
        { transport: 'sse', jobs: 200 },
        { transport: 'long-poll', jobs: 500 },
      ],
      (i) => 2_000 + ((i * 37) % 3_000),
      { serverProcess: true },
    )
process.stderr.write('reliability: load\n')
const broken = {
  chaos: await runChaos({
    jobs: 50,
    seed: 5,
    faults: {},
    tamper: async (response, url) => {
      if (!/\/v1\/jobs\/job_[^/?]+$/.test(new URL(url).pathname)) return response
      const body = await response.clone().text()
      if (!body.includes('"status":"running"')) return response
      const lie = body
        .replace('"status":"running"', '"status":"completed"')
        .replace('"result":null', '"result":{"url":"https://example.com/lie.mp4"}')
      return new Response(lie, response)
    },
  }),
  leaks: await runLeaks(300, { leaky: true }),
  naive: naive.filter((r) => !heldUp(r)),
  problems: await runHostileRequests({
    sockets: false,
    tamper: plainTextErrors,
  }),
  gateway: await runSecurity({
    gateway: wrongTenantGateway,
  }),
  races: await runRaces(20, { resending: true }),
  load: await runLoad([{ transport: 'sse', jobs: 20 }], () => 4_000, { cutAfterMs: 1_500 }),
}

// Nothing wrong, and not by waiting for nothing: nine jobs in ten at least end as the server has them.
const holds = (r: ChaosReport) =>
  r.wrong === 0 &&
  r.unhandled === 0 &&
  !r.keySeen &&
  r.budgetRetries <= r.budgetBound &&
  r.completed + r.failedAsFailed >= 0.9 * r.jobs
const ok =
  chaos.every((c) => holds(c.report)) &&
  [leaks, streamed].every(
    (l) => l.realTimers + l.virtualTimers + l.listeners + l.openStreams === 0,
  ) &&
  hostileServer.every(heldUp) &&
  serverHeldUp(hostileRequests) &&
  securityHeldUp(security) &&
  races.broken === 0 &&
  load.every(loadHeldUp) &&
  broken.chaos.wrong > 0 &&
  broken.leaks.listeners > 0 &&
  broken.naive.length > 0 &&
  !serverHeldUp(broken.problems) &&
  broken.gateway.failures.length > 0 &&
  broken.races.broken > 0 &&
  !broken.load.every(loadHeldUp)

const brokenWorst = Math.max(...broken.load.map((r) => r.worstRequests))
const count = (items: string[]) =>
  Object.entries(
    items.reduce<Record<string, number>>((acc, item) => {
      acc[item] = (acc[item] ?? 0) + 1
      return acc
    }, {}),
  )
    .map(([item, n]) => `${n} ${item}`)
    .join(', ')
const bytes = (l: LeakReport) =>
  l.heapPerWait === undefined ? 'not measured (--expose-gc)' : `${l.heapPerWait.toFixed(0)} bytes`
const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, Node ${process.version}`
const typed = (r: ChaosReport) =>
  Object.entries(r.typedErrors)
    .map(([name, n]) => `${n} ${name}`)
    .join(', ') || 'none'
const faults = Object.entries(FAULT_MIX)
  .filter(([key]) => key.startsWith('rate_'))
  .map(([key, rate]) => `${key.slice(5)} ${Math.round(Number(rate) * 100)} %`)
  .join(', ')
const report = `# Reliability

Generated by \`pnpm test:reliability${long ? ' --long' : ''}\` (packages/client/reliability/) on ${machine}.
The real client and the real mock server in one process on one virtual clock (the same figures
on every machine), but for the load (real time over a loopback port); the fast profile also runs
in \`pnpm test\` (test/reliability.node.test.ts, test/races.node.test.ts). Each category names a
deliberately broken variant it catches (a test of the test: nothing shipped does it).
${ok ? 'Every invariant below holds.' : '**An invariant does not hold: see the figures.**'}

## Chaos: ${jobs.toLocaleString('en')} jobs through every fault

Faults on every request: ${faults} (429 and 503 with \`Retry-After: 1\`, slow answers 2 s late);
1 job in 20 ends in \`error\` by design. Each job is a \`createAndWait\` with a 2 h deadline;
each outcome is checked against the server's own record, status and time (a terminal status
known before the server reached it counts as wrong). The last row runs over a loopback port, in
real time sped up 30×: real sockets, real resets and hangs.

| transport | completed | failed as the server has it | other typed errors (why) | wrong | unhandled rejections | key in any output | retries on the budget / allowed |
| --- | ---: | ---: | --- | ---: | ---: | --- | ---: |
${chaos
  .map(
    ({ name, report: r }) =>
      `| ${name} | ${r.completed} | ${r.failedAsFailed} | ${typed(r)} (${r.createFailures} at the create) | ${r.wrong} | ${r.unhandled} | ${r.keySeen ? '**yes**' : 'no'} | ${r.budgetRetries} / ${Math.floor(r.budgetBound)} |`,
  )
  .join('\n')}

A typed error, when there is one, says why the job could not be followed (a create refused for
good, say). The retry budget lets a burst of 50 retries through, then about one per five
successes (as AWS's standard retry mode does): with one request in five failing for good,
retries would need a quarter of the successes, so over a long run some creates are refused (a
wait on push makes far fewer requests, and loses none). A 429 or 503 with \`Retry-After\` is
waited out without spending the budget; a status check that fails is a missed look, not a failed
wait. Key scan:
every event payload, log line, error message and history entry of the run, searched for the
API key.

**Caught by it (a test of the test):** a client that once reported a running job as completed:
${broken.chaos.wrong} wrong outcome${broken.chaos.wrong === 1 ? '' : 's'} flagged.

## Leaks: thousands of waits on one client

A third finish, a third time out, a third are aborted; the first two share one signal. Polled,
and on event streams (each job's stream open until its end, its wait's deadline or its abort).

| left after | polled (${leaks.waits.toLocaleString('en')} waits) | event streams (${streamed.waits.toLocaleString('en')} waits) |
| --- | ---: | ---: |
| waits completed / timed out / aborted | ${leaks.completed} / ${leaks.timedOut} / ${leaks.aborted} | ${streamed.completed} / ${streamed.timedOut} / ${streamed.aborted} |
| client timers (request limits) | ${leaks.realTimers} | ${streamed.realTimers} |
| planned sleeps and watchdogs (virtual clock) | ${leaks.virtualTimers} | ${streamed.virtualTimers} |
| abort listeners on the shared signal | ${leaks.listeners} | ${streamed.listeners} |
| event streams still open | ${leaks.openStreams} | ${streamed.openStreams} |
| heap growth per wait, collected | ${bytes(leaks)} | ${bytes(streamed)} |

(The history keeps the last 1,000 jobs by design.)

**Caught by it:** a signal that never lets its listeners go: ${broken.leaks.listeners} listener${broken.leaks.listeners === 1 ? '' : 's'} left.

## Bad input from the server: ${BAD_CASES.length} hostile servers

Each answers every status check the same wrong way; one client waits (10 min deadline) and must
end with its true job or a typed error, by its deadline, without a request loop (ten checks in a
second) or an unhandled rejection.

| the server answers | the wait ended | requests | most in one second |
| --- | --- | ---: | ---: |
${hostileServer
  .map(
    (r) =>
      `| ${r.name} | ${heldUp(r) ? '' : '**broken:** '}${r.outcome === 'job' ? `the job, ${r.detail}` : r.detail} | ${r.requests} | ${r.busiestSecond} |`,
  )
  .join('\n')}

**Caught by it:** the loop many write first (fetch, a quick retry when not ok, \`json()\`, sleep a
second): ${broken.naive.length} of ${BAD_CASES.length} servers break it (${count(broken.naive.map((r) => r.outcome))}).

## Bad input to the server: ${hostileRequests.requests.toLocaleString('en')} requests on its ${hostileRequests.routes} routes

Every route the app has (read from it), each id-bearing one with hostile ids; broken bodies
(JSON cut short, \`null\`, arrays, \`1e400\`, \`__proto__\` and \`constructor.prototype\` keys,
wrong types, 5,000 levels deep, 70 kB, bytes that are not UTF-8, NUL), hostile headers and query
strings; without a key and with a wrong one.

| answers | server errors (5xx) | errors not problem+json | a prototype polluted | still serving after |
| --- | ---: | ---: | --- | --- |
| ${Object.entries(hostileRequests.byStatus)
  .map(([status, n]) => `${n} × ${status}`)
  .join(
    ', ',
  )} | ${hostileRequests.serverErrors} | ${hostileRequests.notProblems} | ${hostileRequests.polluted ? '**yes**' : 'no'} | ${hostileRequests.stillServing ? 'yes' : '**no**'} |

Over a raw socket (what \`fetch\` cannot send): ${hostileRequests.sockets
  .map((c) => `${c.name}: ${c.status}${c.problem ? '' : ' **without a problem body**'}`)
  .join('; ')}.

**Caught by it:** a server whose error answers lost their problem type: ${broken.problems.notProblems.toLocaleString('en')} answers flagged.

## Security

${security.checks} route and key pairs (every route without a key, with a wrong one, the admin
key on tenant routes and a tenant's on the admin's, another tenant's on every route naming a job,
and another tenant's batch): ${security.failures.length === 0 ? 'all answered as they must (401, 403 or 404)' : `**${security.failures.length} not**: ${security.failures.map((f) => `${f.what} got ${f.got}`).join('; ')}`}.
Rate limit per key: a burst of ${security.rateLimit.burst}, then 429 ${security.rateLimit.retryAfter ? 'with' : '**without**'} \`Retry-After\`; the other key ${security.rateLimit.otherKeyServed ? 'still served' : '**held up too**'}.
Webhooks: ${security.webhooks.verified} delivery verified by \`verifyWebhook\`, ${security.webhooks.refused} of ${security.webhooks.forged} forgeries refused
(tampered body, tampered signature, an hour late, unsigned). A server echoing the key (raw, as a
bearer token, JSON-escaped twice) in every error: the key ${security.keySeen ? '**appeared**' : 'never appeared'} in the client's errors, causes, events, logs or history.

**Caught by it:** a gateway that forwards another tenant's key: ${broken.gateway.failures.length} routes flagged.

## Races

${races.runs} orders drawn by fast-check's scheduler (answers, an abort, deadlines and a watch that
may break off, on one shared job): ${races.broken === 0 ? 'each wait settled once, no watch left a terminal status, nothing was sent once every waiter had left' : `**${races.broken} broke a promise**: ${races.example}`}.

**Caught by it:** a fetch wrapper that sends each request again 150 ms later: ${broken.races.broken} of ${broken.races.runs} orders flagged.

## Load: push over loopback, real time

A client per transport in this process, \`vt-mock-server\` (the built command) in a process of its
own, over a loopback port; every job of both transports at once, each under a 2 min deadline.

| transport | jobs at once | completed | errors | p99 latency | requests / job | most over the bound | handles left | wall time |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${load
  .map(
    (r) =>
      `| ${r.transport} | ${r.jobs.toLocaleString('en')} | ${r.completed.toLocaleString('en')} | ${r.errors.length} | ${r.p99.toFixed(0)} ms | ${r.requestsPerJob.toFixed(2)} | ${r.worstRequests} | ${r.handlesLeft} | ${r.seconds.toFixed(0)} s |`,
  )
  .join('\n')}

The bound: one stream per job, or 1 + duration / 30 s held requests.
Latency and memory figures for more transports: docs/client-push.md (\`pnpm bench\`).

**Caught by it:** a proxy that cuts every event stream after 1.5 s: up to ${brokenWorst} request${brokenWorst === 1 ? '' : 's'} a job over the bound.

## Elsewhere

- Timers and signals: test/engine.node.test.ts and test/push.node.test.ts (abort, timeout,
  reply and joins in every order the engine allows: a wait joining during a slow check, a
  throwing strategy, a stream dropped or buffered, a proxy cutting held requests),
  src/request/breaker.test.ts (a slow half-open probe).
- Random requests to the server: packages/mock-server/test/fuzz.test.ts (3,000 drawn by
  fast-check); 2,000 concurrent waits under the default rate limit: docs/client-concurrency.md.
`
process.stderr.write(report)
if (long)
  writeFileSync(fileURLToPath(new URL('../../../docs/reliability.md', import.meta.url)), report)
else
  process.stderr.write('\n(The fast profile: docs/reliability.md is written by `--long` only.)\n')
if (!ok) process.exitCode = 1
