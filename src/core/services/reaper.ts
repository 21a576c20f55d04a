/**
 * The scheduled reaper: stops sessions past their TTL or idle for longer than their idle timeout,
 * reconciles the others with their tasks, and settles prompts whose lease expired.
 */
import type {SessionRecord} from '../models.js'
import {isSessionActive} from '../state-machine.js'
import type {CoreDeps} from './index.js'
import {effectiveSessionBudget} from '../budgets.js'
import {endSession, settleExpiredLease, updateSessionWithRetry} from './records.js'
import {budgetLimits, dueSessionAlerts, notify, sessionRecordCost, sessionRef} from './spend.js'
import {reconcile} from './session-service.js'

export interface ReapReport {
  readonly checked: number
  readonly stopped: ReadonlyArray<{sessionId: string; reason: ReapReason}>
  readonly reconciled: number
  readonly failures: ReadonlyArray<{sessionId: string; message: string}>
}

export function createReaper(deps: CoreDeps): () => Promise<ReapReport> {
  return async () => {
    let checked = 0
    let reconciled = 0
    const stopped: Array<{sessionId: string; reason: ReapReason}> = []
    const failures: Array<{sessionId: string; message: string}> = []
    let nextToken: string | undefined
    do {
      const page = await deps.sessions.listAll({limit: 100, nextToken})
      for (const record of page.items) {
        if (!isSessionActive(record.status) && record.status !== 'STOPPING') continue
        checked++
        try {
          const reason = reapReason(deps, record)
          if (reason) {
            const ended = await endSession(deps, record, 'STOPPED', REAP_ERRORS[reason], STOP_REASONS[reason])
            stopped.push({sessionId: record.id, reason})
            await notify(deps, {kind: 'session.reaped', ...sessionRef(deps, ended), reason: STOP_REASONS[reason]})
            continue
          }
          const alerted = await alertSessionBudget(deps, record)
          const after = await reconcile(deps, alerted)
          if (after.status !== record.status) reconciled++
          await settlePrompts(deps, record.id)
        } catch (error) {
          failures.push({sessionId: record.id, message: error instanceof Error ? error.message : String(error)})
        }
      }
      nextToken = page.nextToken
    } while (nextToken)
    return {checked, stopped, reconciled, failures}
  }
}

export type ReapReason = 'EXPIRED' | 'IDLE' | 'BUDGET'

const STOP_REASONS = {EXPIRED: 'TTL', IDLE: 'IDLE', BUDGET: 'BUDGET'} as const

const REAP_ERRORS: Record<ReapReason, {code: string; message: string}> = {
  EXPIRED: {code: 'SESSION_EXPIRED', message: 'The session reached its TTL.'},
  IDLE: {code: 'SESSION_IDLE', message: 'The session was idle for longer than its idle timeout.'},
  BUDGET: {code: 'SESSION_BUDGET', message: 'The session\'s compute cost passed its budget.'},
}

function reapReason(deps: CoreDeps, record: SessionRecord): ReapReason | undefined {
  const now = deps.clock.now().getTime()
  const budgetUsd = effectiveSessionBudget(record.budgetUsd, budgetLimits(deps))
  if (budgetUsd !== undefined && record.status !== 'STOPPING' && sessionRecordCost(deps, record).computeUsd >= budgetUsd) return 'BUDGET'
  if (Date.parse(record.expiresAt) <= now) return 'EXPIRED'
  const lastActive = Date.parse(record.lastActivityAt ?? record.createdAt)
  if (lastActive + record.idleTimeoutSeconds * 1000 <= now) return 'IDLE'
  return undefined
}

/** Compute cost grows while a session runs: its 80% and 100% alerts may be due without a prompt ending. */
async function alertSessionBudget(deps: CoreDeps, record: SessionRecord): Promise<SessionRecord> {
  const alerts = dueSessionAlerts(deps, record, sessionRecordCost(deps, record).totalUsd)
  if (alerts.length === 0) return record
  const stored = await updateSessionWithRetry(deps, record, (c) => ({budgetAlerted: [...new Set([...(c.budgetAlerted ?? []), ...alerts.map((a) => a.thresholdPercent)])]}))
  for (const alert of alerts) await notify(deps, {kind: 'budget.alert', alert, repo: record.repo})
  return stored
}

async function settlePrompts(deps: CoreDeps, sessionId: string): Promise<void> {
  let nextToken: string | undefined
  do {
    const page = await deps.prompts.list(sessionId, {limit: 100, nextToken})
    for (const prompt of page.items) if (prompt.status === 'RUNNING') await settleExpiredLease(deps, prompt)
    nextToken = page.nextToken
  } while (nextToken)
}
