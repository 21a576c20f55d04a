/**
 * Starting a session's task: the container's environment (the contract with the workspace image),
 * Spot first with an on-demand fallback, and no orphan when anything after RunTask fails.
 */
import {REPOSITORY_EGRESS_ENV, repositoryEgressMessage, repositoryEgressVerdict} from '../egress-policy.js'
import {isDevflowError} from '../errors.js'
import type {CapacityProvider, SessionRecord} from '../models.js'
import type {TaskSpec} from '../ports.js'
import type {Caller} from '../session-api.js'
import type {CoreDeps} from './index.js'
import {updateSessionWithRetry} from './records.js'

export async function startTask(deps: CoreDeps, record: SessionRecord, bootstrapNonce: string, caller: Caller): Promise<SessionRecord> {
  let started: {taskArn: string; capacity: CapacityProvider}
  try {
    started = await runWithFallback(deps, record, workspaceEnvironment(deps, record, caller), bootstrapNonce)
  } catch (error) {
    const reason = isDevflowError(error) ? {code: error.code, message: error.message} : {code: 'TASK_START_FAILED', message: String((error as Error)?.message ?? error)}
    await updateSessionWithRetry(deps, record, (c) => (c.status === 'PENDING' ? {status: 'FAILED', error: reason} : undefined))
    throw error
  }
  try {
    return await updateSessionWithRetry(deps, record, (current) =>
      current.status === 'PENDING' ? {status: 'PROVISIONING', taskArn: started.taskArn, capacity: started.capacity} : undefined,
    ).then(async (stored) => {
      // A stop that came in while the task was starting wins: the new task must not outlive it.
      if (stored.taskArn !== started.taskArn) await deps.runtime.stop(started.taskArn, 'The session was stopped while it started.')
      return stored
    })
  } catch (error) {
    await deps.runtime.stop(started.taskArn, 'DevFlow could not record the session.')
    throw error
  }
}

async function runWithFallback(deps: CoreDeps, record: SessionRecord, environment: Record<string, string>, bootstrapNonce: string) {
  const spec = {sessionId: record.id, owner: record.userId, cpu: record.cpu, memory: record.memory, environment, bootstrapNonce}
  try {
    return await deps.runtime.run({...spec, capacity: record.capacity})
  } catch (error) {
    if (record.capacity === 'FARGATE_SPOT' && isDevflowError(error) && error.code === 'CAPACITY_UNAVAILABLE') {
      return deps.runtime.run({...spec, capacity: 'FARGATE'})
    }
    throw error
  }
}

/** Runs a task spec on the capacity it asks for, and on demand when Spot has no room (the warm pool's tasks too). */
export async function runSpecWithFallback(deps: CoreDeps, spec: TaskSpec): Promise<{taskArn: string; capacity: CapacityProvider}> {
  try {
    return await deps.runtime.run(spec)
  } catch (error) {
    if (spec.capacity === 'FARGATE_SPOT' && isDevflowError(error) && error.code === 'CAPACITY_UNAVAILABLE') return deps.runtime.run({...spec, capacity: 'FARGATE'})
    throw error
  }
}

/**
 * The environment the workspace container reads (container/entrypoint.sh). No secret: the agent
 * token and the editor password come from the bootstrap call (agent-service.ts).
 */
export function workspaceEnvironment(deps: CoreDeps, record: SessionRecord, caller: Caller): Record<string, string> {
  const apiUrl = deps.settings.agentApiUrl ?? caller.apiBaseUrl
  const author = gitAuthor(record.userId)
  return {
    SESSION_ID: record.id,
    REPO: record.repo,
    BRANCH: record.branch,
    ...(apiUrl ? {DEVFLOW_API_URL: apiUrl.replace(/\/+$/, '')} : {}),
    GIT_AUTHOR_NAME: author.name,
    GIT_AUTHOR_EMAIL: author.email,
    ...repositoryEgressEnvironment(deps),
  }
}

/** What becomes of the repository's `.devflow/egress.txt`: the agent reports it in the first prompt's events. */
function repositoryEgressEnvironment(deps: CoreDeps): Record<string, string> {
  const egress = deps.settings.egress
  if (!egress) return {}
  const verdict = repositoryEgressVerdict(egress.policy, egress.enforcer)
  return {[REPOSITORY_EGRESS_ENV]: verdict, [`${REPOSITORY_EGRESS_ENV}_NOTE`]: repositoryEgressMessage(verdict)}
}

/**
 * A commit identity from the user id: an IAM ARN's last segment (an SSO session name is often the
 * user's e-mail address) or the id itself.
 */
export function gitAuthor(userId: string): {name: string; email: string} {
  const last = userId.split(/[/:]/).filter(Boolean).at(-1) ?? userId
  if (/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(last)) return {name: last.split('@')[0], email: last}
  const name = last.replace(/[^\w.-]/g, '-') || 'devflow'
  return {name, email: `${name}@users.noreply.devflow.local`}
}
