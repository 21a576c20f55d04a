/** A session document as the API answers it, for tests that need one; `overrides` change fields. */
import type {Session} from '../../src/core/models.js'

export function sampleSession(overrides: Partial<Session> = {}): Session {
  return {
    id: 's-abcdefghijklmnopqrst',
    userId: 'u',
    repo: 'o/r',
    branch: 'main',
    status: 'RUNNING',
    capacity: 'FARGATE',
    cpu: 1024,
    memory: 4096,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    expiresAt: '2026-01-01T04:00:00.000Z',
    idleTimeout: '30m',
    cost: {computeUsd: 0, agentUsd: 0, totalUsd: 0},
    ...overrides,
  }
}
