/**
 * Record helpers shared by the session, agent and reaper services: loading with ownership checks,
 * optimistic-locking retries, ending a session, and settling prompts whose lease ran out.
 */
import {endingTask} from './usage-recording.js'
import {isDevflowError, promptNotFound, sessionNotFound} from '../errors.js'
import type {ErrorInfo, PromptRecord, SessionRecord, SessionStatus, StopReason} from '../models.js'
import type {PromptChanges, SessionChanges} from '../ports.js'
import type {Caller} from '../session-api.js'
import {assertSessionTransition, isPromptTerminal, isSessionTerminal} from '../state-machine.js'
import {parsePromptId, parseSessionId} from '../validation.js'
import type {CoreDeps} from './index.js'

const MAX_UPDATE_ATTEMPTS = 8

export async function loadSession(deps: CoreDeps, sessionId: string): Promise<SessionRecord> {
  const id = parseSessionId(sessionId)
  const record = await deps.sessions.get(id)
  if (!record) throw sessionNotFound(id)
  return record
}

/** Another user's session is reported exactly like a missing one. */
export async function loadOwnedSession(deps: CoreDeps, caller: Caller, sessionId: string): Promise<SessionRecord> {
  const record = await loadSession(deps, sessionId)
  if (record.userId !== caller.userId && !caller.admin) throw sessionNotFound(record.id)
  return record
}

export async function loadPrompt(deps: CoreDeps, sessionId: string, promptId: string): Promise<PromptRecord> {
  const id = parsePromptId(promptId)
  const record = await deps.prompts.get(sessionId, id)
  if (!record) throw promptNotFound(sessionId, id)
  return record
}

export function isConcurrentUpdate(error: unknown): boolean {
  return isDevflowError(error) && error.code === 'CONCURRENT_UPDATE'
}

/**
 * Applies `decide(current)` as a conditional write, re-reading and deciding again when another
 * writer got there first. `decide` returns undefined when nothing needs to change.
 */
async function writeWithRetry<R, C>(
  record: R,
  decide: (current: R) => C | undefined,
  write: (current: R, changes: C) => Promise<R>,
  reread: (current: R) => Promise<R>,
): Promise<R> {
  let current = record
  for (let attempt = 1; ; attempt++) {
    const changes = decide(current)
    if (changes === undefined) return current
    try {
      return await write(current, changes)
    } catch (error) {
      if (!isConcurrentUpdate(error) || attempt >= MAX_UPDATE_ATTEMPTS) throw error
      current = await reread(current)
    }
  }
}

export async function updateSessionWithRetry(
  deps: CoreDeps,
  record: SessionRecord,
  decide: (current: SessionRecord) => SessionChanges | undefined,
): Promise<SessionRecord> {
  return writeWithRetry(
    record,
    decide,
    (current, changes) => {
      if (changes.status && changes.status !== current.status) assertSessionTransition(current.status, changes.status, current.id)
      return deps.sessions.update(current.id, current.version, {...changes, updatedAt: deps.clock.now().toISOString()})
    },
    async (current) => {
      const fresh = await deps.sessions.get(current.id)
      if (!fresh) throw sessionNotFound(current.id)
      return fresh
    },
  )
}

export async function updatePromptWithRetry(
  deps: CoreDeps,
  record: PromptRecord,
  decide: (current: PromptRecord) => PromptChanges | undefined,
): Promise<PromptRecord> {
  return writeWithRetry(
    record,
    decide,
    (current, changes) => deps.prompts.update(current.sessionId, current.id, current.version, {...changes, updatedAt: deps.clock.now().toISOString()}),
    async (current) => {
      const fresh = await deps.prompts.get(current.sessionId, current.id)
      if (!fresh) throw promptNotFound(current.sessionId, current.id)
      return fresh
    },
  )
}

/**
 * Ends a session: stops its task (idempotent in the runtime), then records the final state, and
 * cancels the prompts no agent will run any more. Returns the record as stored.
 */
export async function endSession(
  deps: CoreDeps,
  record: SessionRecord,
  status: Extract<SessionStatus, 'STOPPED' | 'FAILED'>,
  reason: ErrorInfo | undefined,
  stopReason?: StopReason,
  taskStoppedAt?: string,
): Promise<SessionRecord> {
  if (isSessionTerminal(record.status)) return record
  if (record.taskArn) await deps.runtime.stop(record.taskArn, reason?.message ?? 'Stopped by DevFlow')
  const stoppedAt = taskStoppedAt ?? deps.clock.now().toISOString()
  const ended = await endingTask(deps, (marksStop) =>
    updateSessionWithRetry(deps, record, (current) => {
      const changes = isSessionTerminal(current.status)
        ? undefined
        : {
            status,
            ...(reason ? {error: reason} : {}),
            ...(stopReason ? {stopReason} : {}),
            // Compute cost ends here (the task's own stop time when the runtime reported one).
            ...(current.taskStartedAt && !current.taskStoppedAt ? {taskStoppedAt: stoppedAt} : {}),
          }
      marksStop(changes)
      return changes
    }),
  )
  // A task started by a start that lost the race with this stop is stopped too.
  if (ended.taskArn && ended.taskArn !== record.taskArn) await deps.runtime.stop(ended.taskArn, reason?.message ?? 'Stopped by DevFlow')
  await cancelOpenPrompts(deps, ended.id, `The session ${status === 'FAILED' ? 'failed' : 'was stopped'} before the prompt finished.`)
  await deps.sessionEnded?.(ended)
  return ended
}

async function cancelOpenPrompts(deps: CoreDeps, sessionId: string, message: string): Promise<void> {
  let nextToken: string | undefined
  do {
    const page = await deps.prompts.list(sessionId, {limit: 100, nextToken})
    for (const prompt of page.items) {
      if (!isPromptTerminal(prompt.status)) await cancelPrompt(deps, prompt, message)
    }
    nextToken = page.nextToken
  } while (nextToken)
}

/** Cancels a prompt no agent will run because its session ended (a terminal prompt stays as it is). */
export async function cancelPrompt(deps: CoreDeps, prompt: PromptRecord, message: string): Promise<PromptRecord> {
  return updatePromptWithRetry(deps, prompt, (current) =>
    isPromptTerminal(current.status) ? undefined : {status: 'CANCELLED', leaseUntil: undefined, error: {code: 'SESSION_ENDED', message}},
  )
}

/**
 * A RUNNING prompt whose lease ran out goes back to QUEUED for another attempt, or becomes FAILED
 * once it has used up its attempts. Returns the prompt as it is afterwards.
 */
export async function settleExpiredLease(deps: CoreDeps, prompt: PromptRecord): Promise<PromptRecord> {
  const now = deps.clock.now().getTime()
  return updatePromptWithRetry(deps, prompt, (current) => {
    if (current.status !== 'RUNNING' || !current.leaseUntil || Date.parse(current.leaseUntil) > now) return undefined
    if (current.attempt >= deps.settings.maxPromptAttempts) {
      return {
        status: 'FAILED',
        leaseUntil: undefined,
        error: {code: 'PROMPT_LEASE_EXPIRED', message: `The agent did not finish the prompt in ${current.attempt} attempts.`},
      }
    }
    return {status: 'QUEUED', leaseUntil: undefined}
  })
}
