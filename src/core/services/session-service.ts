/**
 * The user's session operations (SessionApi) over the ports: start, list, get (reconciled with the
 * task), stop, prompts and editor info.
 */
import {endingTask, recordUsage} from './usage-recording.js'
import {EDITOR_PORT} from '../deployment.js'
import {decidePromptStart, raisedSessionBudget} from '../budgets.js'
import {conflict, invalidInput, isDevflowError, tooLarge} from '../errors.js'
import {hashToken, sessionIdForIdempotencyKey} from '../ids.js'
import {createPageTokens} from '../page-tokens.js'
import {type Prompt, type Page, type Session, type SessionRecord, type StopReason, toPrompt, toSession} from '../models.js'
import type {TaskState} from '../ports.js'
import {
  AddBudgetRequest,
  type EditorAccess,
  type Caller,
  type EditorInfo,
  type Health,
  type ListSessionsOptions,
  MAX_PROMPT_BYTES,
  type PromptEventsPage,
  PromptRequest,
  type SessionApi,
  StartSessionRequest,
  UsageRequest,
} from '../session-api.js'
import {isSessionActive, isSessionTerminal} from '../state-machine.js'
import {DEFAULT_CAPACITY, formatDuration, parseBranchName, parseCpu, parseDuration, parseMemory, parseRepoRef, type RepoRef, validateCapacity} from '../validation.js'
import type {CoreDeps} from './index.js'
import {cancelPrompt, endSession, loadOwnedSession, loadPrompt, updateSessionWithRetry} from './records.js'
import {startTask} from './task-start.js'
import {isResumable, resumeSession} from './session-resume.js'
import {takeFromWarmPool} from './warm-start.js'
import {warmPoolStatus} from './warm-pool.js'
import {assertAdmin} from '../admins.js'
import {assertRepositoryAllowed, repositoryChoices} from '../repository-access.js'
import {parseRequest} from './parse.js'
import {budgetLimits, budgetSpend, notify, reachedThresholds, sessionRecordCost, sessionRef} from './spend.js'
import {usageReport} from './usage.js'
import {eventsWaitSeconds, readPromptEvents} from './prompt-events.js'

const MAX_PAGE = 100
const MAX_SEQ_ATTEMPTS = 10

export function createSessionService(deps: CoreDeps): SessionApi {
  const present = (record: SessionRecord): Session => toSession(record, formatDuration, sessionRecordCost(deps, record))
  const pageTokens = createPageTokens(deps.pageTokenKey)

  return {
    async start(caller, input, origin) {
      const request = parseRequest(StartSessionRequest, input)
      const plan = planSession(deps, request)
      assertRepositoryAllowed(deps.settings.repositoryAccess, caller.userId, plan.repo)
      const id = request.idempotencyKey ? sessionIdForIdempotencyKey(caller.userId, request.idempotencyKey) : deps.ids.sessionId()
      if (request.idempotencyKey) {
        const existing = await deps.sessions.get(id)
        if (existing) return {session: present(sameRequestOrConflict(existing, plan)), created: false}
      }
      await checkSessionQuota(deps, caller)
      // Checks that the App can reach the repository before anything is written or started.
      await deps.tokens.mintRepoToken(plan.repo)

      // The agent token is minted by the workspace's bootstrap call; only this nonce's hash is kept
      // meanwhile, for runtimes whose tasks have no IAM role to prove themselves with.
      const bootstrapNonce = deps.ids.secret(32)
      const now = deps.clock.now()
      const record: SessionRecord = {
        id,
        userId: caller.userId,
        repo: plan.repo.fullName,
        branch: plan.branch,
        status: 'PENDING',
        capacity: deps.settings.defaultCapacity,
        cpu: plan.cpu,
        memory: plan.memory,
        createdAt: now.toISOString(),
        updatedAt: now.toISOString(),
        expiresAt: new Date(now.getTime() + plan.ttlSeconds * 1000).toISOString(),
        idleTimeoutSeconds: plan.idleTimeoutSeconds,
        editorPassword: deps.ids.secret(18),
        agentTokenHash: '',
        bootstrapNonceHash: hashToken(bootstrapNonce),
        ...(request.idempotencyKey ? {idempotencyKey: request.idempotencyKey} : {}),
        ...(origin ? {source: origin.source} : {}),
        ...(request.budgetUsd === undefined ? {} : {budgetUsd: request.budgetUsd}),
        version: 0,
      }
      try {
        await deps.sessions.create(record)
      } catch (error) {
        // Another start with the same key won the conditional create: its session is the answer.
        if (request.idempotencyKey && isDevflowError(error) && error.code === 'SESSION_EXISTS') {
          const winner = await deps.sessions.get(id)
          if (winner) return {session: present(sameRequestOrConflict(winner, plan)), created: false}
        }
        throw error
      }
      await recordUsage(deps, record, {sessions: 1})
      const started = (await takeFromWarmPool(deps, record, caller.apiBaseUrl)) ?? (await startTask(deps, record, bootstrapNonce, caller))
      return {session: present(started), created: true}
    },

    async list(caller, options: ListSessionsOptions) {
      const limit = pageLimit(options.limit)
      const all = options.all === true
      if (all) assertAdmin(deps.settings.admins, caller)
      // A token pages the list it came from: this caller's sessions, or every user's.
      const scope = all ? 'sessions:all' : `sessions:${caller.userId}`
      const cursor = await pageTokens.open(scope, options.nextToken)
      const page = all ? await deps.sessions.listAll({limit, nextToken: cursor}) : await deps.sessions.listByUser(caller.userId, {limit, nextToken: cursor})
      const items = options.status ? page.items.filter((r) => r.status === options.status) : page.items
      const nextToken = await pageTokens.seal(scope, page.nextToken)
      return {items: items.map(present), ...(nextToken ? {nextToken} : {})}
    },

    async get(caller, sessionId) {
      const record = await loadOwnedSession(deps, caller, sessionId)
      return present(await reconcile(deps, record))
    },

    async stop(caller, sessionId) {
      const record = await loadOwnedSession(deps, caller, sessionId)
      return present(await endSession(deps, record, 'STOPPED', undefined, 'USER'))
    },

    async resume(caller, sessionId) {
      return present(await resumeSession(deps, caller, sessionId))
    },

    async enqueuePrompt(caller, sessionId, input) {
      const request = parseRequest(PromptRequest, input)
      await deps.agentKey?.ensureKey()
      const bytes = Buffer.byteLength(request.text, 'utf8')
      if (bytes > MAX_PROMPT_BYTES) {
        throw tooLarge('PROMPT_TOO_LARGE', `The prompt is ${bytes} bytes; the limit is ${MAX_PROMPT_BYTES}.`, 'Shorten the prompt, or put the details in a file in the repository and refer to it.')
      }
      if (request.text.trim() === '') throw invalidInput('PROMPT_EMPTY', 'The prompt is empty.', 'Say what the agent should do, for example "add a health check endpoint".')
      const session = await loadOwnedSession(deps, caller, sessionId)
      assertAcceptsPrompts(session)
      const decision = decidePromptStart(await budgetSpend(deps, session), budgetLimits(deps), deps.clock.now())
      if (!decision.ok) throw decision.error
      for (let attempt = 1; ; attempt++) {
        const now = deps.clock.now().toISOString()
        const seq = (await deps.prompts.lastSeq(session.id)) + 1
        const record = {
          id: deps.ids.promptId(),
          sessionId: session.id,
          seq,
          text: request.text,
          status: 'QUEUED' as const,
          pr: request.pr ?? 'none',
          createdAt: now,
          updatedAt: now,
          attempt: 0,
          version: 0,
        }
        try {
          await deps.prompts.create(record)
        } catch (error) {
          if (!(isDevflowError(error) && error.code === 'PROMPT_SEQ_TAKEN') || attempt >= MAX_SEQ_ATTEMPTS) throw error
          continue
        }
        // A stop records the end, then cancels the open prompts it lists. If its list missed this
        // prompt, the list ran before the write, so this (strongly consistent) read after the
        // write sees the end: the prompt that lost the race is cancelled here instead.
        const after = await loadOwnedSession(deps, caller, session.id)
        if (!acceptsPrompts(after)) {
          await cancelPrompt(deps, record, 'The session ended while the prompt was being queued.')
          assertAcceptsPrompts(after)
        }
        return toPrompt(record)
      }
    },

    async listPrompts(caller, sessionId, options): Promise<Page<Prompt>> {
      const session = await loadOwnedSession(deps, caller, sessionId)
      const scope = `prompts:${session.id}`
      const page = await deps.prompts.list(session.id, {limit: pageLimit(options.limit), nextToken: await pageTokens.open(scope, options.nextToken)})
      const nextToken = await pageTokens.seal(scope, page.nextToken)
      return {items: page.items.map(toPrompt), ...(nextToken ? {nextToken} : {})}
    },

    async getPrompt(caller, sessionId, promptId) {
      const session = await loadOwnedSession(deps, caller, sessionId)
      return toPrompt(await loadPrompt(deps, session.id, promptId))
    },

    async promptEvents(caller, sessionId, promptId, after, options = {}): Promise<PromptEventsPage> {
      if (!Number.isSafeInteger(after) || after < 0) {
        throw invalidInput('INVALID_CURSOR', `"${after}" is not an event cursor.`, 'Pass the seq of the last event you have (0 for all).')
      }
      eventsWaitSeconds(options)
      const session = await loadOwnedSession(deps, caller, sessionId)
      return readPromptEvents(deps, session, promptId, after, options)
    },

    async editor(caller, sessionId): Promise<EditorInfo> {
      const record = await reconcile(deps, await loadOwnedSession(deps, caller, sessionId))
      const info = {
        sessionId: record.id,
        status: record.status,
        port: EDITOR_PORT,
        container: deps.settings.containerName,
        ...(deps.settings.cluster ? {cluster: deps.settings.cluster} : {}),
        ...(record.taskArn ? {taskArn: record.taskArn, taskId: record.taskArn.split('/').at(-1)} : {}),
      }
      if (record.status !== 'RUNNING') {
        return {
          ...info,
          unavailableReason: `The session is ${record.status}; the editor is reachable once it is RUNNING.`,
          unavailableHint: isSessionTerminal(record.status)
            ? 'The session has ended; start a new one with `devflow session start`.'
            : `Wait for it with \`devflow session status ${record.id} --watch\`, then run this again.`,
        }
      }
      const withPassword = {...info, password: record.editorPassword}
      if (!record.taskArn) return withPassword
      return editorInfo(withPassword, await deps.runtime.editorAccess(record.taskArn))
    },

    async addBudget(caller, sessionId, input) {
      const request = parseRequest(AddBudgetRequest, input)
      const record = await loadOwnedSession(deps, caller, sessionId)
      // An ended session that `session resume` can start again (one stopped at its budget, say) may be raised too.
      if (isSessionTerminal(record.status) && !isResumable(record)) {
        throw conflict('SESSION_WRONG_STATE', `Session ${record.id} is ${record.status} and cannot be resumed; only a live or resumable session's budget can be raised.`, 'Start a new session with `devflow session start --budget USD`.', {
          details: {status: record.status},
        })
      }
      const stored = await updateSessionWithRetry(deps, record, (current) => {
        const spentUsd = sessionRecordCost(deps, current).totalUsd
        const budgetUsd = raisedSessionBudget({budgetUsd: current.budgetUsd, spentUsd}, budgetLimits(deps), request.addUsd)
        // The alerts start over for the new budget: those already reached under it stay sent.
        const budgetAlerted = reachedThresholds(deps, {...current, budgetUsd}, spentUsd)
        return {budgetUsd, paused: undefined, pausedAt: undefined, budgetAlerted}
      })
      return present(stored)
    },

    async usage(caller, input) {
      return usageReport(deps, caller, parseRequest(UsageRequest, input))
    },

    async notifyTest(caller) {
      const event = {kind: 'test' as const, stage: deps.settings.stage ?? 'local', requestedBy: caller.userId}
      if (!deps.notifier) return {delivered: false, error: 'No webhook is configured for this stage.'}
      return deps.notifier.notify(event)
    },

    async repositories(caller) {
      return repositoryChoices(deps.settings.repositoryAccess, caller.userId)
    },

    async health(): Promise<Health> {
      const checks: Health['checks'] = {}
      const probe = async (name: string, check: () => Promise<void>) => {
        try {
          await check()
          checks[name] = {status: 'ok'}
        } catch (error) {
          checks[name] = {status: 'error', message: isDevflowError(error) ? error.message : String((error as Error)?.message ?? error)}
        }
      }
      await Promise.all([probe('sessions', () => deps.sessions.ping()), probe('runtime', () => deps.runtime.ping())])
      let warmPool: Health['warmPool']
      if (deps.warmPool) await probe('warmPool', async () => void (warmPool = await warmPoolStatus(deps, deps.warmPool as NonNullable<CoreDeps['warmPool']>)))
      const ok = Object.values(checks).every((c) => c.status === 'ok')
      return {status: ok ? 'ok' : 'degraded', version: deps.settings.version, checks, ...(warmPool ? {warmPool} : {})}
    },
  }
}

/** The states in which a prompt may be queued. */
const PROMPT_ACCEPTING_STATUSES = ['PROVISIONING', 'RUNNING'] as const

function acceptsPrompts(session: SessionRecord): boolean {
  return (PROMPT_ACCEPTING_STATUSES as readonly string[]).includes(session.status)
}

function assertAcceptsPrompts(session: SessionRecord): void {
  if (acceptsPrompts(session)) return
  throw conflict(
    'SESSION_WRONG_STATE',
    `Session ${session.id} is ${session.status}; prompts can only be queued while it is PROVISIONING or RUNNING.`,
    isSessionTerminal(session.status) ? 'Start a new session with `devflow session start`.' : 'Wait until the session is running, then try again.',
    {details: {status: session.status}},
  )
}

interface SessionPlan {
  readonly repo: RepoRef
  readonly branch: string
  readonly cpu: number
  readonly memory: number
  readonly ttlSeconds: number
  readonly idleTimeoutSeconds: number
}

/** A start request's own fields, parsed and checked against each other; the stage's defaults and limits come after. */
export interface StartFields {
  readonly branch?: string
  readonly cpu: number
  readonly memory: number
  readonly ttlSeconds?: number
  readonly idleTimeoutSeconds?: number
}

/**
 * Parses everything in a start request but the repository (which the RepositoryResolver port
 * decides). The service plans with it, and the CLI checks its flags early with this same function.
 */
export function parseStartFields(request: Omit<StartSessionRequest, 'repo'>): StartFields {
  const branch = request.branch === undefined ? undefined : parseBranchName(request.branch)
  const cpu = request.cpu === undefined ? DEFAULT_CAPACITY.cpu : parseCpu(request.cpu)
  const memory = request.memory === undefined ? (request.cpu === undefined ? DEFAULT_CAPACITY.memory : cpu * 2) : parseMemory(request.memory)
  validateCapacity(cpu, memory)
  return {
    ...(branch === undefined ? {} : {branch}),
    cpu,
    memory,
    ...(request.ttl === undefined ? {} : {ttlSeconds: parseDuration(request.ttl, 'session TTL')}),
    ...(request.idleTimeout === undefined ? {} : {idleTimeoutSeconds: parseDuration(request.idleTimeout, 'idle timeout')}),
  }
}

function planSession(deps: CoreDeps, request: StartSessionRequest): SessionPlan {
  const {settings} = deps
  const repo = deps.repositories ? deps.repositories.resolve(request.repo) : parseRepoRef(request.repo)
  const fields = parseStartFields(request)
  const branch = fields.branch ?? parseBranchName(settings.defaultBranch)
  const ttlSeconds = fields.ttlSeconds ?? settings.defaultTtlSeconds
  if (ttlSeconds > settings.maxTtlSeconds) {
    throw invalidInput('TTL_TOO_LONG', `A session can live at most ${formatDuration(settings.maxTtlSeconds)}; ${request.ttl} is longer.`, `Pass --ttl ${formatDuration(settings.maxTtlSeconds)} or less.`)
  }
  const idleTimeoutSeconds = fields.idleTimeoutSeconds ?? settings.defaultIdleTimeoutSeconds
  if (idleTimeoutSeconds > settings.maxIdleTimeoutSeconds) {
    throw invalidInput('IDLE_TIMEOUT_TOO_LONG', `The idle timeout can be at most ${formatDuration(settings.maxIdleTimeoutSeconds)}.`, `Pass --idle-timeout ${formatDuration(settings.maxIdleTimeoutSeconds)} or less.`)
  }
  return {repo, branch, cpu: fields.cpu, memory: fields.memory, ttlSeconds, idleTimeoutSeconds}
}

/** The editor info of a RUNNING session, as the runtime says it is reached. */
function editorInfo(info: EditorInfo, access: EditorAccess): EditorInfo {
  switch (access.kind) {
    case 'ssm':
      return info
    case 'url':
      return {...info, port: access.port, url: access.url}
    case 'unavailable':
      return {...info, unavailableReason: access.reason, unavailableHint: access.hint}
  }
}

/**
 * The stage's per-user quota of active sessions. Two starts racing at the limit may both pass: it
 * bounds what one user can run, it is not a billing guarantee. Admin mode is not limited.
 */
export async function checkSessionQuota(deps: CoreDeps, caller: Caller): Promise<void> {
  const quota = deps.settings.maxActiveSessionsPerUser
  if (quota === undefined || caller.admin) return
  let active = 0
  let nextToken: string | undefined
  do {
    const page = await deps.sessions.listByUser(caller.userId, {limit: 100, nextToken})
    active += page.items.filter((s) => !isSessionTerminal(s.status)).length
    nextToken = page.nextToken
  } while (nextToken && active < quota)
  if (active >= quota) {
    throw conflict('SESSION_QUOTA_EXCEEDED', `You already have ${active} active sessions; this stage allows ${quota} per user.`, 'Stop one with `devflow session stop <id>` (see `devflow session list`), then start again.', {
      details: {active, quota},
    })
  }
}

/** A reused idempotency key must describe the same session. */
function sameRequestOrConflict(existing: SessionRecord, plan: SessionPlan): SessionRecord {
  if (existing.repo !== plan.repo.fullName || existing.branch !== plan.branch) {
    throw conflict(
      'IDEMPOTENCY_KEY_REUSED',
      `The idempotency key was already used for session ${existing.id} on ${existing.repo}@${existing.branch}.`,
      'Use a new idempotency key for a different repository or branch.',
    )
  }
  return existing
}

function pageLimit(limit: number | undefined): number {
  if (limit === undefined) return 50
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) {
    throw invalidInput('INVALID_LIMIT', `"${limit}" is not a page size.`, `Use a whole number from 1 to ${MAX_PAGE}.`)
  }
  return limit
}

/**
 * Brings the record in line with its task: PROVISIONING becomes RUNNING once the task runs and the
 * agent has said hello; a task that ended by itself ends the session with the task's reason.
 */
export async function reconcile(deps: CoreDeps, record: SessionRecord): Promise<SessionRecord> {
  if (!isSessionActive(record.status) && record.status !== 'STOPPING') return record
  if (!record.taskArn) return record
  const task = await deps.runtime.describe(record.taskArn)
  if (!task || task.lastStatus === 'STOPPED') {
    const stoppedAt = task?.stoppedAt ?? deps.clock.now().toISOString()
    if (record.status === 'STOPPING') {
      const stopped = await endingTask(deps, (marksStop) =>
        updateSessionWithRetry(deps, record, (c) => {
          const changes = c.status === 'STOPPING' ? {status: 'STOPPED' as const, ...(c.taskStartedAt && !c.taskStoppedAt ? {taskStoppedAt: stoppedAt} : {})} : undefined
          marksStop(changes)
          return changes
        }),
      )
      await deps.sessionEnded?.(stopped)
      return stopped
    }
    const outcome = taskOutcome(task)
    const ended = await endSession(deps, record, outcome.status, outcome.error, outcome.stopReason, stoppedAt)
    if (ended.status === 'FAILED' && ended.error) await notify(deps, {kind: 'session.failed', ...sessionRef(deps, ended), error: ended.error})
    return ended
  }
  let current = record
  if (task.lastStatus === 'RUNNING' && !record.taskStartedAt) {
    // moto and the local runtimes report no startedAt: the first time the task is seen running counts.
    const startedAt = task.startedAt ?? deps.clock.now().toISOString()
    current = await updateSessionWithRetry(deps, record, (c) => (c.taskStartedAt || isSessionTerminal(c.status) ? undefined : {taskStartedAt: startedAt}))
  }
  if (current.status === 'PROVISIONING' && task.lastStatus === 'RUNNING' && current.agentReadyAt) {
    return updateSessionWithRetry(deps, current, (c) => (c.status === 'PROVISIONING' ? {status: 'RUNNING'} : undefined))
  }
  return current
}

function taskOutcome(task: TaskState | undefined): {status: 'STOPPED' | 'FAILED'; error: {code: string; message: string}; stopReason: StopReason} {
  if (!task) return {status: 'FAILED', error: {code: 'TASK_MISSING', message: 'The workspace task no longer exists.'}, stopReason: 'TASK_EXITED'}
  const reason = task.stoppedReason ?? task.stopCode ?? 'The workspace task stopped.'
  // A reclaimed Spot task got ECS's SIGTERM two minutes ahead and checkpointed like on any stop.
  if (isSpotInterruption(task)) return {status: 'STOPPED', error: {code: 'SPOT_INTERRUPTION', message: reason}, stopReason: 'SPOT'}
  if (task.exitCode === 0) return {status: 'STOPPED', error: {code: 'TASK_EXITED', message: reason}, stopReason: 'TASK_EXITED'}
  return {status: 'FAILED', error: {code: 'TASK_STOPPED', message: reason}, stopReason: 'TASK_EXITED'}
}

/** ECS's stopCode for a reclaimed Fargate Spot task (its stoppedReason: "Your Spot Task was interrupted."). */
export function isSpotInterruption(task: Pick<TaskState, 'stopCode' | 'stoppedReason'>): boolean {
  return task.stopCode === 'SpotInterruption' || /spot task was interrupted/i.test(task.stoppedReason ?? '')
}
