#!/usr/bin/env node
// The `vt-mock-server` command. A committed file rather than dist/cli.js itself, so that
// installing a workspace can link the command before dist/ is built; it runs the built CLI.
import '../dist/cli.js'
