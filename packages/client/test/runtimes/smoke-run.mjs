// The smoke checks, shared by smoke.mjs (ESM build) and smoke.cjs (CommonJS build).

/** Runs the checks; shared with smoke.cjs. */
export async function run(create, guards, format) {
  const env = (name) => globalThis.Deno?.env.get(name) ?? globalThis.process?.env?.[name]
  const runtime = globalThis.Deno
    ? `deno ${globalThis.Deno.version.deno}`
    : globalThis.Bun
      ? `bun ${globalThis.Bun.version}`
      : `node ${globalThis.process.version}`
  const client = create({ baseUrl: env('VT_BASE_URL'), apiKey: env('VT_API_KEY') })
  const params = { video_url: 'https://example.com/a.mp4', target_language: 'es' }
  const checks = {}
  const check = async (name, body) => {
    try {
      checks[name] = (await body()) === true
    } catch (error) {
      checks[name] = `threw ${error}`
    }
  }
  await check('createAndWait completes', async () => {
    const job = await client.jobs.createAndWait(
      { ...params, simulate: { duration_ms: 300 } },
      { timeoutMs: 10_000 },
    )
    return job.status === 'completed' && client.jobs.history(job.id).length > 0
  })
  await check('unknown job is NotFoundError', async () => {
    const error = await client.jobs.get('job_missing').catch((e) => e)
    return guards.isNotFoundError(error) && error.status === 404
  })
  await check('failed job is JobFailedError', async () => {
    const error = await client.jobs
      .createAndWait(
        { ...params, simulate: { duration_ms: 100, outcome: 'error' } },
        { timeoutMs: 10_000 },
      )
      .catch((e) => e)
    return guards.isJobFailedError(error) && error.job.status === 'error'
  })
  await check('abort rejects with the reason', async () => {
    const job = await client.jobs.create({ ...params, simulate: { duration_ms: 60_000 } })
    const controller = new AbortController()
    const waiting = client.jobs.wait(job.id, { signal: controller.signal })
    const reason = new Error('stop')
    controller.abort(reason)
    return (await waiting.catch((e) => e)) === reason
  })
  await check('close ends the waits out and refuses later calls', async () => {
    const closing = create({ baseUrl: env('VT_BASE_URL'), apiKey: env('VT_API_KEY') })
    const job = await closing.jobs.create({ ...params, simulate: { duration_ms: 60_000 } })
    const waiting = closing.jobs.wait(job.id).catch((e) => e)
    await closing.close()
    const ended = await waiting
    const later = await closing.jobs.get(job.id).catch((e) => e)
    return ended?.name === 'AbortError' && later?.name === 'AbortError'
  })
  const ok = Object.values(checks).every((value) => value === true)
  console.log(JSON.stringify({ runtime, format, ok, checks }))
  if (!ok) globalThis.Deno?.exit(1) ?? globalThis.process.exit(1)
}
