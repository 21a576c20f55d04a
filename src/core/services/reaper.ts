/**
 * The scheduled reaper: stops sessions past their TTL or idle for longer than their idle timeout,
 * reconciles the others with their tasks, and settles prompts whose lease expired.
 */
import type {SessionRecord} from '../models.js'
import {isSessionActive} from '../state-machine.js'
import type {CoreDeps} from './index.js'
import {endSession, settleExpiredLease} from './records.js'
import {reconcile} from './session-service.js'

export interface ReapReport {
  readonly checked: number
  readonly stopped: ReadonlyArray<{sessionId: string; reason: 'EXPIRED' | 'IDLE'}>
  readonly reconciled: number
  readonly failures: ReadonlyArray<{sessionId: string; message: string}>
}

export function createReaper(deps: CoreDeps): () => Promise<ReapReport> {
  return async () => {
    let checked = 0
    let reconciled = 0
    const stopped: Array<{sessionId: string; reason: 'EXPIRED' | 'IDLE'}> = []
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
            await endSession(deps, record, 'STOPPED', {
              code: reason === 'EXPIRED' ? 'SESSION_EXPIRED' : 'SESSION_IDLE',
              message: reason === 'EXPIRED' ? 'The session reached its TTL.' : 'The session was idle for longer than its idle timeout.',
            })
            stopped.push({sessionId: record.id, reason})
            continue
          }
          const after = await reconcile(deps, record)
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

function reapReason(deps: CoreDeps, record: SessionRecord): 'EXPIRED' | 'IDLE' | undefined {
  const now = deps.clock.now().getTime()
  if (Date.parse(record.expiresAt) <= now) return 'EXPIRED'
  const lastActive = Date.parse(record.lastActivityAt ?? record.createdAt)
  if (lastActive + record.idleTimeoutSeconds * 1000 <= now) return 'IDLE'
  return undefined
}

async function settlePrompts(deps: CoreDeps, sessionId: string): Promise<void> {
  let nextToken: string | undefined
  do {
    const page = await deps.prompts.list(sessionId, {limit: 100, nextToken})
    for (const prompt of page.items) if (prompt.status === 'RUNNING') await settleExpiredLease(deps, prompt)
    nextToken = page.nextToken
  } while (nextToken)
}
