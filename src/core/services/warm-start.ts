/**
 * A start's use of the warm pool: take a warm task of the session's size, and run one in its place
 * so the pool is back at its size without waiting for the keeper's next round. A miss, or a pool
 * that fails, leaves the start to run a cold task.
 */
import type {SessionRecord} from '../models.js'
import type {CoreDeps} from './index.js'
import {startWarmTask, takeWarmTask} from './warm-pool.js'

/** @param apiUrl where the replacement calls back when the stage names no agent API URL (the start's own request) */
export async function takeFromWarmPool(deps: CoreDeps, record: SessionRecord, apiUrl?: string): Promise<SessionRecord | undefined> {
  const pool = deps.warmPool
  if (!pool) return undefined
  let taken: SessionRecord | undefined
  try {
    taken = await takeWarmTask(deps, pool, record)
  } catch (error) {
    deps.log?.warn('the warm pool failed; starting a cold task', {sessionId: record.id, error: error instanceof Error ? error.message : String(error)})
    return undefined
  }
  if (taken && pool.settings.refillOnTake !== false) {
    // One for one: concurrent starts each replace the task they took, so refills never overshoot.
    await startWarmTask(deps, pool, apiUrl).catch((error: unknown) => deps.log?.warn('refilling the warm pool failed', {error: error instanceof Error ? error.message : String(error)}))
  }
  return taken
}
