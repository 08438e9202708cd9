import { it } from 'vitest'
import { virtualSetup } from './virtual-time.js'

it('two clients', async () => {
  const { client, newClient, settle, manual, requests } = virtualSetup({
    simulation: {
      durations: { distribution: 'fixed', ms: Number(process.env.DUR ?? 8_000) },
      hints: { mode: 'none' },
      rate_limit: {
        capacity: Number(process.env.CAP ?? 20),
        refill_per_s: Number(process.env.RATE ?? 10),
      },
    },
  })
  const other = newClient()
  const n = Number(process.env.N ?? 300)
  const t0 = manual.now()
  const run = (c: typeof client, name: string) => {
    const done: number[] = []
    const all = Array.from({ length: n }, async (_, i) => {
      await c.jobs.createAndWait(
        { video_url: `https://e.com/${name}${i}.mp4`, target_language: 'es' },
        { timeoutMs: 3_600_000 },
      )
      done.push(manual.now() - t0)
    })
    return Promise.allSettled(all).then((r) => ({
      name,
      failed: r.filter((x) => x.status === 'rejected').length,
      mean: Math.round(done.reduce((a, b) => a + b, 0) / done.length),
      last: Math.max(...done),
    }))
  }
  const results = await settle(Promise.all([run(client, 'a'), run(other, 'b')]))
  console.log(
    results,
    'requests',
    requests.length,
    '429',
    requests.filter((r) => r.status === 429).length,
    'span',
    manual.now() - t0,
  )
}, 900_000)
