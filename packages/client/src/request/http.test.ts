import { afterEach, describe, expect, it } from 'vitest'
import { conditionalChecks } from './http.js'

const scope = globalThis as { importScripts?: unknown; location?: unknown; document?: unknown }

describe('conditionalChecks', () => {
  afterEach(() => {
    delete scope.importScripts
    delete scope.location
    delete scope.document
  })

  it('should ask conditionally where fetch knows no CORS (Node, Deno with --location)', () => {
    expect(conditionalChecks('https://api.example.com')).toBe(true)
    scope.location = { origin: 'https://app.example.com' }
    expect(conditionalChecks('https://api.example.com')).toBe(true)
  })

  it('should not from a page’s web worker to another origin, and should to its own', () => {
    scope.importScripts = () => {}
    scope.location = { origin: 'https://app.example.com' }
    expect(conditionalChecks('https://api.example.com/v1')).toBe(false)
    expect(conditionalChecks('https://app.example.com/api')).toBe(true)
  })
})
