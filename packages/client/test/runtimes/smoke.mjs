// The same smoke test in every runtime: the built ESM client against a mock server whose URL and
// key come from VT_BASE_URL and VT_API_KEY. Prints one JSON line; exits 1 if a check failed.
import { createClient, isJobFailedError, isNotFoundError } from '../../dist/index.js'
import { run } from './smoke-run.mjs'

await run(createClient, { isJobFailedError, isNotFoundError }, 'esm')
