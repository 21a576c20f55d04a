/**
 * Writing the usage ledger (core/usage-ledger.ts) where spend is recorded: a session created, a
 * prompt's result, a task's stop. The session's own record stays the truth of its cost; the
 * ledger is the running sum budgets and `devflow usage` read, so a failed add is logged and the
 * request that caused it still succeeds.
 */
import type {SessionRecord} from '../models.js'
import {billedSeconds} from '../pricing.js'
import {type UsageDelta, usageItemsFor} from '../usage-ledger.js'
import type {CoreDeps} from './index.js'
import {sessionRecordCost, taskUsageOf} from './spend.js'

export async function recordUsage(deps: CoreDeps, session: Pick<SessionRecord, 'id' | 'userId' | 'repo'>, delta: UsageDelta): Promise<void> {
  try {
    await deps.usage.add(usageItemsFor(session, deps.clock.now()), delta)
  } catch (error) {
    deps.log?.warn('usage not recorded', {sessionId: session.id, delta, error: error instanceof Error ? error.message : String(error)})
  }
}

/** The task's compute, once its stop time is recorded: its cost and billed hours join the ledger in one piece. */
export async function recordTaskStop(deps: CoreDeps, ended: SessionRecord): Promise<void> {
  const seconds = billedSeconds(taskUsageOf(ended), deps.clock.now())
  const {computeUsd} = sessionRecordCost(deps, ended)
  if (computeUsd > 0 || seconds > 0) await recordUsage(deps, ended, {computeUsd, hours: seconds / 3600})
}

/**
 * Runs a session update that may record the task's stop time and, when this update is the one
 * that did, records the task's compute: exactly once, whoever wins the race to end the session.
 */
export async function endingTask(deps: CoreDeps, update: (marksStop: (changes: {taskStoppedAt?: string} | undefined) => void) => Promise<SessionRecord>): Promise<SessionRecord> {
  let marked = false
  const ended = await update((changes) => (marked = changes?.taskStoppedAt !== undefined))
  if (marked && ended.taskStoppedAt) await recordTaskStop(deps, ended)
  return ended
}
