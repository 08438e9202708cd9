// The smoke test through the CommonJS build, for Node.
const client = require('../../dist/index.cjs')

import('./smoke-run.mjs').then(({ run }) => run(client.createClient, client, 'cjs'))
