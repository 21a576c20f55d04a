/**
 * The agent side of the prompt channel (AgentApi): bearer-token check, long-poll claims with a
 * lease, progress events, results (with the pull request), heartbeats and repo-scoped tokens.
 */
import {recordUsage} from './usage-recording.js'
import {timingSafeEqual} from 'node:crypto'

import {AgentEventsRequest, type AgentApi, AgentResultRequest, HeartbeatRequest, MAX_WAIT_SECONDS} from '../agent-api.js'
import {decidePromptStart} from '../budgets.js'
import {conflict, invalidInput, unauthenticated} from '../errors.js'
import {round} from '../pricing.js'
import {hashToken} from '../ids.js'
import {type PromptRecord, type PromptResult, type SessionRecord, toPrompt} from '../models.js'
import type {SessionChanges} from '../ports.js'
import {assertPromptTransition, isPromptTerminal, isSessionTerminal} from '../state-machine.js'
import {parseRepoRef, SESSION_ID_PATTERN} from '../validation.js'
import type {CoreDeps} from './index.js'
import {isConcurrentUpdate, loadPrompt, loadSession, settleExpiredLease, updatePromptWithRetry, updateSessionWithRetry} from './records.js'
import {parseRequest} from './parse.js'
import type {PromptObserver} from './github-work.js'
import {budgetLimits, budgetSpend, dueSessionAlerts, monthlyAlertsFor, notify, sessionRef} from './spend.js'

/** The agent's outcome code for a prompt that Claude Code stopped at its --max-budget-usd (DESIGN.md). */
export const AGENT_BUDGET_EXCEEDED = 'AGENT_BUDGET_EXCEEDED'
import {bootstrapWorkspace} from './workspace-bootstrap.js'
import {restoreCheckpoint, saveCheckpoint} from './checkpoint.js'
import {longPoll, sessionTopic} from './change-signals.js'

const BAD_TOKEN_HINT = 'The workspace must send `Authorization: Bearer <the token its bootstrap call answered>`; start a new session if the token was lost.'

/** @param observer told of claims, events and results (the GitHub work path's living comment) */
export function createAgentService(deps: CoreDeps, observer?: PromptObserver): AgentApi {
  /** A GitHub outage must not fail the agent's call: the comment catches up on the next change. */
  const tell = async (what: (o: PromptObserver) => Promise<void>) => {
    if (!observer) return
    try {
      await what(observer)
    } catch (error) {
      deps.log?.warn('updating the GitHub comment failed', {error: error instanceof Error ? error.message : String(error)})
    }
  }
  return {
    bootstrap: (sessionId, proof) => bootstrapWorkspace(deps, sessionId, proof),
    saveCheckpoint: (sessionId, proof, request) => saveCheckpoint(deps, sessionId, proof, request),
    restoreCheckpoint: (sessionId, proof) => restoreCheckpoint(deps, sessionId, proof),

    async authenticate(sessionId, bearerToken) {
      // One answer for a malformed id, an unknown session and a wrong token: nothing to probe.
      const rejected = unauthenticated('AGENT_TOKEN_INVALID', 'The session token is missing or does not match the session.', BAD_TOKEN_HINT)
      if (!bearerToken || !SESSION_ID_PATTERN.test(sessionId)) throw rejected
      const record = await deps.sessions.get(sessionId)
      if (!record) throw rejected
      const expected = Buffer.from(record.agentTokenHash, 'hex')
      const actual = Buffer.from(hashToken(bearerToken), 'hex')
      if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) throw rejected
    },

    async claimNext(sessionId, waitSeconds) {
      if (!Number.isFinite(waitSeconds) || waitSeconds < 0 || waitSeconds > MAX_WAIT_SECONDS) {
        throw invalidInput('INVALID_WAIT', `wait must be 0 to ${MAX_WAIT_SECONDS} seconds.`, `Poll with ?wait=${MAX_WAIT_SECONDS}.`)
      }
      // Woken at once by a prompt queued in this process; the store poll covers the others.
      return longPoll(deps, [sessionTopic(sessionId)], waitSeconds * 1000, async () => {
        const session = await liveSession(deps, sessionId)
        // A paused session's prompts wait until its budget is raised (`session budget --add`).
        const claimed = session.paused ? undefined : await claimFirstQueued(deps, session)
        if (!claimed) return undefined
        await tell((o) => o.claimed(session, claimed))
        return toPrompt(claimed)
      })
    },

    async appendEvents(sessionId, promptId, input) {
      const request = parseRequest(AgentEventsRequest, input)
      const session = await liveSession(deps, sessionId)
      const prompt = await runningPrompt(deps, sessionId, promptId)
      const at = deps.clock.now().toISOString()
      const stored = await deps.prompts.appendEvents(prompt.id, request.events.map((e) => ({...e, at})))
      // News from the agent keeps its claim alive.
      const extended = await updatePromptWithRetry(deps, prompt, (c) => (c.status === 'RUNNING' ? {leaseUntil: leaseFromNow(deps)} : undefined))
      await tell((o) => o.progressed(session, extended))
      return {accepted: stored.length, lastSeq: stored.at(-1)?.seq ?? 0}
    },

    async complete(sessionId, promptId, input) {
      const request = parseRequest(AgentResultRequest, input)
      const session = await loadSession(deps, sessionId)
      const prompt = await loadPrompt(deps, session.id, promptId)
      // A retried result after a lost response: the first one stands.
      if (isPromptTerminal(prompt.status) && prompt.status === request.status) return toPrompt(prompt)
      assertPromptTransition(prompt.status, request.status, prompt.id)
      const result: PromptResult = {
        summary: request.summary,
        ...(request.branch ? {branch: request.branch} : {}),
        ...(request.commit ? {commit: request.commit} : {}),
        ...(request.turns === undefined ? {} : {turns: request.turns}),
        ...(request.costUsd === undefined ? {} : {costUsd: request.costUsd}),
      }
      let error = request.error
      if (request.status === 'SUCCEEDED' && prompt.pr !== 'none' && request.branch && request.branch !== session.branch) {
        const opened = (await observer?.openPullRequest(session, prompt, request.branch, request.summary)) ?? (await openPullRequest(deps, session, prompt, request.branch, request.summary))
        if ('url' in opened) result.prUrl = opened.url
        else error = opened.error
      }
      const stored = await updatePromptWithRetry(deps, prompt, (c) => {
        if (isPromptTerminal(c.status)) return undefined
        assertPromptTransition(c.status, request.status, c.id)
        return {status: request.status, result, leaseUntil: undefined, ...(error ? {error} : {})}
      })
      const after = await recordPromptSpend(deps, session, request.costUsd ?? 0, request.error?.code === AGENT_BUDGET_EXCEEDED)
      await notify(deps, {
        kind: 'prompt.ended',
        ...sessionRef(deps, after),
        promptId: stored.id,
        outcome: stored.error?.code === AGENT_BUDGET_EXCEEDED ? 'BUDGET' : stored.status === 'SUCCEEDED' ? 'SUCCEEDED' : 'FAILED',
        ...(stored.result?.summary ? {summary: stored.result.summary} : {}),
        ...(stored.result?.branch ? {branch: stored.result.branch} : {}),
        ...(stored.result?.prUrl ? {prUrl: stored.result.prUrl} : {}),
        ...(stored.result?.costUsd === undefined ? {} : {costUsd: stored.result.costUsd}),
        ...(stored.error ? {error: stored.error} : {}),
      })
      await tell((o) => o.settled(session, stored))
      return toPrompt(stored)
    },

    async heartbeat(sessionId, input) {
      const request = parseRequest(HeartbeatRequest, input)
      const session = await liveSession(deps, sessionId)
      const now = deps.clock.now().toISOString()
      const stored = await updateSessionWithRetry(deps, session, (c) => {
        if (isSessionTerminal(c.status)) return undefined
        const changes: SessionChanges = {}
        if (!c.agentReadyAt) changes.agentReadyAt = now
        // The agent runs, so its task does: compute cost counts from here when nothing saw it start earlier.
        if (!c.taskStartedAt) changes.taskStartedAt = now
        if (c.status === 'PROVISIONING' || c.status === 'PENDING') changes.status = 'RUNNING'
        if (request.state !== 'idle' || !c.lastActivityAt) changes.lastActivityAt = now
        return Object.keys(changes).length > 0 ? changes : undefined
      })
      return {status: stored.status}
    },

    async githubToken(sessionId) {
      const session = await loadSession(deps, sessionId)
      // The stopping task pushes its checkpoint after the session was marked ended (ECS gives it up to 2 minutes).
      if (isSessionTerminal(session.status) && !withinCheckpointGrace(deps, session)) await liveSession(deps, sessionId)
      return deps.tokens.mintRepoToken(parseRepoRef(session.repo))
    },
  }
}

/** How long after its session ended a stopping task may still get a token to push its checkpoint. */
export const CHECKPOINT_GRACE_SECONDS = 180

function withinCheckpointGrace(deps: CoreDeps, session: SessionRecord): boolean {
  const ended = Date.parse(session.taskStoppedAt ?? session.updatedAt)
  return deps.clock.now().getTime() - ended <= CHECKPOINT_GRACE_SECONDS * 1000
}

/** The agent of an ended session gets a 409 so that it shuts down. */
async function liveSession(deps: CoreDeps, sessionId: string): Promise<SessionRecord> {
  const session = await loadSession(deps, sessionId)
  if (isSessionTerminal(session.status)) {
    throw conflict('SESSION_ENDED', `Session ${session.id} is ${session.status}.`, 'The workspace should shut down; start a new session to continue.', {
      details: {status: session.status},
    })
  }
  return session
}

async function runningPrompt(deps: CoreDeps, sessionId: string, promptId: string): Promise<PromptRecord> {
  const prompt = await loadPrompt(deps, sessionId, promptId)
  if (prompt.status !== 'RUNNING') {
    throw conflict('PROMPT_WRONG_STATE', `Prompt ${prompt.id} is ${prompt.status}, not RUNNING.`, 'Claim the next prompt with GET /agent/sessions/{id}/prompts/next.', {
      details: {status: prompt.status},
    })
  }
  return prompt
}

function leaseFromNow(deps: CoreDeps): string {
  return new Date(deps.clock.now().getTime() + deps.settings.promptLeaseSeconds * 1000).toISOString()
}

/**
 * Settles expired leases, then claims the QUEUED prompt with the lowest seq by a conditional update;
 * when a concurrent claimer got there first, the next QUEUED prompt is tried.
 */
async function claimFirstQueued(deps: CoreDeps, session: SessionRecord): Promise<PromptRecord | undefined> {
  let nextToken: string | undefined
  let ceiling: {maxBudgetUsd?: number} | undefined
  do {
    const page = await deps.prompts.list(session.id, {limit: 100, nextToken})
    for (const listed of page.items) {
      if (isPromptTerminal(listed.status)) continue
      const prompt = listed.status === 'RUNNING' ? await settleExpiredLease(deps, listed) : listed
      if (prompt.status !== 'QUEUED') continue
      // Read once per claim, and only when there is a prompt to claim: what remains bounds the prompt.
      if (!ceiling) {
        const decision = decidePromptStart(await budgetSpend(deps, session), budgetLimits(deps), deps.clock.now())
        if (!decision.ok) return undefined
        ceiling = decision.maxBudgetUsd === undefined ? {} : {maxBudgetUsd: decision.maxBudgetUsd}
      }
      try {
        return await deps.prompts.update(session.id, prompt.id, prompt.version, {
          status: 'RUNNING',
          attempt: prompt.attempt + 1,
          leaseUntil: leaseFromNow(deps),
          updatedAt: deps.clock.now().toISOString(),
          maxBudgetUsd: ceiling.maxBudgetUsd,
        })
      } catch (error) {
        if (!isConcurrentUpdate(error)) throw error
      }
    }
    nextToken = page.nextToken
  } while (nextToken)
  return undefined
}

async function openPullRequest(
  deps: CoreDeps,
  session: SessionRecord,
  prompt: PromptRecord,
  branch: string,
  summary: string,
): Promise<{url: string} | {error: {code: string; message: string}}> {
  const firstLine = (summary.split('\n').find((l) => l.trim() !== '') ?? prompt.text.split('\n')[0]).trim()
  const title = firstLine.length > 120 ? `${firstLine.slice(0, 117)}...` : firstLine
  try {
    const pr = await deps.pullRequests.open({
      repo: parseRepoRef(session.repo),
      head: branch,
      base: session.branch,
      title: title || `DevFlow: prompt ${prompt.seq} of ${session.id}`,
      body: `${summary}\n\n---\nOpened by DevFlow for session ${session.id}, prompt ${prompt.id}.`,
      draft: prompt.pr === 'draft',
    })
    return {url: pr.url}
  } catch (error) {
    // The work is pushed either way; the prompt records why no pull request was opened.
    const message = error instanceof Error ? error.message : String(error)
    return {error: {code: 'PULL_REQUEST_FAILED', message}}
  }
}

/**
 * A finished prompt's cost joins its session's agent cost (a stopped session's too: it was spent);
 * a prompt stopped at its budget pauses the session; the budget alerts it set off go out.
 */
async function recordPromptSpend(deps: CoreDeps, session: SessionRecord, costUsd: number, hitBudget: boolean): Promise<SessionRecord> {
  const now = deps.clock.now().toISOString()
  let updated = await updateSessionWithRetry(deps, session, (c) => ({
    ...(isSessionTerminal(c.status) ? {} : {lastActivityAt: now}),
    ...(costUsd > 0 ? {agentUsd: round((c.agentUsd ?? 0) + costUsd)} : {}),
    ...(hitBudget && !isSessionTerminal(c.status) ? {paused: true, pausedAt: now} : {}),
  }))
  await recordUsage(deps, updated, {prompts: 1, agentUsd: costUsd})
  const spend = await budgetSpend(deps, updated)
  const sessionAlerts = dueSessionAlerts(deps, updated, spend.sessionSpentUsd)
  const alerts = [...sessionAlerts, ...(costUsd > 0 ? monthlyAlertsFor(deps, spend, costUsd) : [])]
  if (sessionAlerts.length > 0) {
    updated = await updateSessionWithRetry(deps, updated, (c) => ({budgetAlerted: [...new Set([...(c.budgetAlerted ?? []), ...sessionAlerts.map((a) => a.thresholdPercent)])]}))
  }
  for (const alert of alerts) await notify(deps, {kind: 'budget.alert', alert, repo: session.repo})
  return updated
}
