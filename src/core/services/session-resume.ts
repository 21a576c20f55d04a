/**
 * `session resume`: a new task for a STOPPED or FAILED session, with the same id. The new task
 * checks out the branch at the checkpoint the last one pushed and restores its Claude Code
 * conversation (checkpoint.ts); the session's prompts stay as they are.
 *
 * STOPPED | FAILED -> PENDING (this conditional write) -> PROVISIONING (warm-start.ts, or task-start.ts) -> RUNNING.
 */
import {decidePromptStart} from '../budgets.js'
import {conflict} from '../errors.js'
import {hashToken} from '../ids.js'
import type {SessionRecord} from '../models.js'
import type {SessionChanges} from '../ports.js'
import type {Caller} from '../session-api.js'
import {isSessionTerminal} from '../state-machine.js'
import type {CoreDeps} from './index.js'
import {loadOwnedSession, updateSessionWithRetry} from './records.js'
import {checkSessionQuota} from './session-service.js'
import {budgetLimits, budgetSpend, sessionRecordCost} from './spend.js'
import {startTask} from './task-start.js'
import {takeFromWarmPool} from './warm-start.js'

export async function resumeSession(deps: CoreDeps, caller: Caller, sessionId: string): Promise<SessionRecord> {
  const record = await loadOwnedSession(deps, caller, sessionId)
  assertResumable(record)
  await assertPreviousTaskEnded(deps, record)
  const decision = decidePromptStart(await budgetSpend(deps, record), budgetLimits(deps), deps.clock.now())
  if (!decision.ok) throw decision.error
  await checkSessionQuota(deps, caller)

  const bootstrapNonce = deps.ids.secret(32)
  const claimed = await updateSessionWithRetry(deps, record, (current) => {
    // Of two racing resumes, the second sees PENDING here and is refused.
    assertResumable(current)
    return resumeChanges(deps, current, hashToken(bootstrapNonce))
  })
  // Like a start: a warm task of the session's size if the pool has one (it proves itself with its own
  // nonce or task id, which takeWarmTask records on the session), else a cold task with this nonce.
  return (await takeFromWarmPool(deps, claimed, caller.apiBaseUrl)) ?? startTask(deps, claimed, bootstrapNonce, caller)
}

/** A resumed session starts over as a new task would, keeping its id, repository, branch, prompts and checkpoint. */
function resumeChanges(deps: CoreDeps, current: SessionRecord, bootstrapNonceHash: string): SessionChanges {
  const now = deps.clock.now()
  const ttlSeconds = current.ttlSeconds ?? Math.max(60, Math.round((Date.parse(current.expiresAt) - Date.parse(current.createdAt)) / 1000))
  return {
    status: 'PENDING',
    resumeCount: (current.resumeCount ?? 0) + 1,
    ttlSeconds,
    expiresAt: new Date(now.getTime() + ttlSeconds * 1000).toISOString(),
    lastActivityAt: now.toISOString(),
    // The earlier tasks' compute stays counted; the new task's is counted from its own start.
    priorComputeUsd: sessionRecordCost(deps, current).computeUsd,
    taskStartedAt: undefined,
    taskStoppedAt: undefined,
    // The old task can no longer prove itself (nonce, task id), nor use its token.
    taskArn: undefined,
    // How the last task started says nothing of the next one.
    warm: undefined,
    bootstrapNonceHash,
    bootstrappedAt: undefined,
    agentTokenHash: '',
    agentReadyAt: undefined,
    editorPassword: deps.ids.secret(18),
    error: undefined,
    stopReason: undefined,
    paused: undefined,
    pausedAt: undefined,
  }
}

/** An ended session whose workspace ran: a workspace that never did has neither a checkpoint nor a pushed branch to come back to. */
export function isResumable(record: SessionRecord): boolean {
  return isSessionTerminal(record.status) && (record.checkpoint !== undefined || record.agentReadyAt !== undefined)
}

function assertResumable(record: SessionRecord): void {
  if (!isSessionTerminal(record.status)) {
    throw conflict(
      'SESSION_NOT_STOPPED',
      `Session ${record.id} is ${record.status}; only a STOPPED or FAILED session can be resumed.`,
      record.status === 'STOPPING'
        ? `Wait for it to stop (\`devflow session status ${record.id} --watch\`), then resume it.`
        : `It is still going: send it a prompt with \`devflow session prompt ${record.id}\`, or stop it first with \`devflow session stop ${record.id}\`.`,
      {details: {status: record.status}},
    )
  }
  if (!isResumable(record)) {
    throw conflict(
      'SESSION_NOT_RESUMABLE',
      `Session ${record.id} is ${record.status} and its workspace never started, so there is no checkpoint to resume${record.error ? ` (${record.error.code}: ${record.error.message})` : ''}.`,
      `Start a new session instead: \`devflow session start --repo ${record.repo} --branch ${record.branch}\`.`,
      {details: {status: record.status}},
    )
  }
}

/** The last task saves its checkpoint on the way out: a resume waits until it is gone. */
async function assertPreviousTaskEnded(deps: CoreDeps, record: SessionRecord): Promise<void> {
  if (!record.taskArn) return
  const task = await deps.runtime.describe(record.taskArn)
  if (task && task.lastStatus !== 'STOPPED') {
    throw conflict(
      'SESSION_STILL_STOPPING',
      `Session ${record.id}'s last task is still ${task.lastStatus}: it is saving its checkpoint.`,
      'Try again in a minute (`devflow session resume --wait` retries by itself).',
      {details: {taskStatus: task.lastStatus}},
    )
  }
}
