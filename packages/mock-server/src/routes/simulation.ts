/**
 * The simulator's settings over HTTP, for the admin key only: read them, or change any of them
 * while the server runs (the demo's fault and hint toggles use this).
 */
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi'
import type { AppEnv } from '../env.js'
import { validationProblem } from '../middleware/problem.js'
import { sendJson } from '../middleware/response.js'
import { problemResponses } from '../schemas/problem.js'
import { SimulationPatch, SimulationSettings } from '../schemas/simulation.js'
import type { Simulator } from '../simulator/simulator.js'

const security = [{ bearer: [] }, { apiKey: [] }]
const settingsContent = { 'application/json': { schema: SimulationSettings } }

const getSettings = createRoute({
  method: 'get',
  path: '/v1/simulation',
  summary: 'Read the simulator settings (admin key)',
  security,
  responses: {
    200: { description: 'The settings in force.', content: settingsContent },
    ...problemResponses(401, 403),
  },
})

const putSettings = createRoute({
  method: 'put',
  path: '/v1/simulation',
  summary: 'Change simulator settings (admin key); nested objects merge',
  security,
  request: {
    body: { required: true, content: { 'application/json': { schema: SimulationPatch } } },
  },
  responses: {
    200: { description: 'The settings now in force.', content: settingsContent },
    ...problemResponses(400, 401, 403, 413, 415),
  },
})

/** Registers the settings routes on `app`. */
export function registerSimulationRoutes(app: OpenAPIHono<AppEnv>, simulator: Simulator): void {
  app.openapi(getSettings, (c) => sendJson(c, simulator.settings, 200))

  app.openapi(putSettings, (c) => {
    const result = simulator.updateSettings(c.req.valid('json'))
    if (!result.success) return validationProblem(c, 'body', result.error.issues)
    return sendJson(c, result.data, 200)
  })
}
