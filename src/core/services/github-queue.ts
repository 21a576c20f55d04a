/**
 * The per-repository limit on sessions started from GitHub (core/github/queue.ts holds the item
 * and its store's port). Every trigger that starts a session is admitted here: its living comment
 * first (queued, or waiting for a free slot when the repository is at its limit), then its queue
 * item, then a drain. A drain holds the repository's lock, counts the repository's live sessions
 * from GitHub, and starts the oldest pending items while a slot is free; each start is a
 * conditional take first, so no trigger is ever started twice.
 *
 * A comment on the pull request of an ended session is admitted the same way, and its start
 * resumes that session (same id, owner and conversation) instead of starting one; a refused resume
 * (not resumable, a spent budget) starts a new session on the branch and says so in the comment.
 *
 * Drains run after each admission, when a session from GitHub ends (the stop path, the reaper,
 * a status refresh that finds the task gone: `sessionEnded`), and at the end of every reaper pass
 * for every repository with pending items, which also picks up what a drain that lost the lock
 * race left behind.
 */
import {randomUUID} from 'node:crypto'

import {isDevflowError} from '../errors.js'
import type {DeliveryStore} from '../github/deliveries.js'
import {type LivingCommentState, renderLivingComment} from '../github/living-comment.js'
import type {GithubWorkClient} from '../github/ports.js'
import {type NewQueuedTrigger, QUEUE_LEASE_SECONDS, type QueuedTrigger, queueKey, type TriggerQueue} from '../github/queue.js'
import type {ErrorInfo, SessionRecord} from '../models.js'
import type {Caller, SessionApi} from '../session-api.js'
import {isSessionTerminal} from '../state-machine.js'
import {parseRepoRef} from '../validation.js'
import type {CoreDeps} from './index.js'
import {updateSessionWithRetry} from './records.js'

export interface GithubQueueDeps {
  readonly queue: TriggerQueue
  /** The delivery that queued an item is told the session and prompt it got (`devflow github status`, a redelivery). */
  readonly deliveries: Pick<DeliveryStore, 'recordWork'>
  readonly client: Pick<GithubWorkClient, 'createComment' | 'updateComment' | 'findComment'>
  readonly maxSessionsPerRepo: number
}

/** What admission needs beyond the item: whether this is a retry of the delivery (look for its comment first). */
export interface Admission {
  readonly trigger: Omit<NewQueuedTrigger, 'queuedAt' | 'commentId'>
  readonly retry: boolean
}

/** Why a resume may be refused for good: a new session on the branch takes the work over. */
const RESUME_REFUSALS: ReadonlySet<string> = new Set(['SESSION_NOT_RESUMABLE', 'BUDGET_EXCEEDED', 'SESSION_NOT_FOUND'])

type Resumed = {readonly kind: 'resumed'; readonly session: SessionRecord} | {readonly kind: 'refused'; readonly error: ErrorInfo} | {readonly kind: 'later'}

/** How often, and how far apart, a drain asks for a lock another drain holds before leaving it to that one. */
const LOCK_ATTEMPTS = 10
const LOCK_RETRY_MS = 200

/** The living comment's key while the work has no prompt yet. */
export function admissionKey(deliveryId: string): string {
  return `delivery:${deliveryId}`
}

export function createGithubQueue(deps: CoreDeps, github: GithubQueueDeps, sessions: SessionApi) {
  const lease = (now: Date) => new Date(now.getTime() + QUEUE_LEASE_SECONDS * 1000).toISOString()

  async function liveSessions(repo: string): Promise<number> {
    let count = 0
    let nextToken: string | undefined
    do {
      const page = await deps.sessions.listAll({limit: 100, nextToken})
      count += page.items.filter((s) => s.source?.kind === 'github' && !isSessionTerminal(s.status) && queueKey(s.repo) === queueKey(repo)).length
      nextToken = page.nextToken
    } while (nextToken)
    return count
  }

  async function editComment(item: QueuedTrigger, key: string, state: LivingCommentState): Promise<void> {
    const repo = parseRepoRef(item.repo)
    const body = renderLivingComment(key, state)
    try {
      if (item.commentId) await github.client.updateComment(repo, item.commentId, body)
      else await github.client.createComment(repo, item.issueNumber, body)
    } catch (error) {
      deps.log?.warn('could not edit the living comment of a queued trigger', {delivery: item.id, error: error instanceof Error ? error.message : String(error)})
    }
  }

  /** The first prompt of a session this item started: a drain that took the item over after another died reuses it. */
  async function promptOf(caller: Caller, item: QueuedTrigger, sessionId: string, created: boolean): Promise<{id: string}> {
    if (!created) {
      const first = (await deps.prompts.list(sessionId, {limit: 1})).items[0]
      if (first) return first
    }
    return sessions.enqueuePrompt(caller, sessionId, {text: item.prompt, pr: 'draft'})
  }

  /**
   * The ended session of a comment on its pull request, resumed for the item: `resumed` (also when
   * it is live already, as after a drain that took the item over from one that died, or a
   * `devflow session resume` in between), `refused` (a new session takes over), or `later` while
   * its last task still saves its checkpoint.
   */
  async function resumeFor(item: QueuedTrigger, sessionId: string): Promise<Resumed> {
    const record = await deps.sessions.get(sessionId)
    if (!record || queueKey(record.repo) !== queueKey(item.repo)) return {kind: 'refused', error: {code: 'SESSION_NOT_FOUND', message: `Session ${sessionId} of ${item.repo} no longer exists.`}}
    // Still saving its checkpoint, or claimed by another resume whose task is not asked for yet.
    if (record.status === 'STOPPING' || record.status === 'PENDING') return {kind: 'later'}
    if (!isSessionTerminal(record.status)) return {kind: 'resumed', session: record}
    try {
      // The session keeps its owner, whoever commented: it is resumed as that owner.
      await sessions.resume({userId: record.userId, ...(item.apiBaseUrl ? {apiBaseUrl: item.apiBaseUrl} : {})}, record.id)
    } catch (error) {
      if (!isDevflowError(error)) throw error
      if (error.code === 'SESSION_STILL_STOPPING') return {kind: 'later'}
      // Another resume won the race: the next drain finds the session live.
      if (error.code === 'SESSION_NOT_STOPPED') return {kind: 'later'}
      if (RESUME_REFUSALS.has(error.code)) return {kind: 'refused', error: {code: error.code, message: error.message}}
      throw error
    }
    return {kind: 'resumed', session: (await deps.sessions.get(record.id)) ?? record}
  }

  /** The prompt an item queued on a resumed session: a drain that took the item over after another died reuses it. */
  async function resumedPromptOf(caller: Caller, item: QueuedTrigger, sessionId: string): Promise<{id: string}> {
    let nextToken: string | undefined
    do {
      const page = await deps.prompts.list(sessionId, {limit: 100, nextToken})
      const earlier = page.items.find((p) => p.text === item.prompt && p.createdAt >= item.queuedAt)
      if (earlier) return earlier
      nextToken = page.nextToken
    } while (nextToken)
    return sessions.enqueuePrompt(caller, sessionId, {text: item.prompt, pr: 'draft'})
  }

  /** The item got its session and prompt: STARTED, its comment re-keyed to the prompt, its delivery told. */
  async function started(item: QueuedTrigger, sessionId: string, promptId: string, note?: string): Promise<void> {
    const settled = await github.queue.settle(item.id, ['STARTING'], {state: 'STARTED', at: deps.clock.now().toISOString(), sessionId, promptId})
    if (!settled) return
    await editComment(item, promptId, {state: 'queued', sender: item.sender, sessionId, ...(note ? {note} : {})})
    await github.deliveries.recordWork(item.id, {sessionId, promptId}).catch((error: unknown) => {
      // The delivery's record may be gone (its retention is the queue item's): the item holds the same.
      deps.log?.warn('could not record the started work on its delivery', {delivery: item.id, error: error instanceof Error ? error.message : String(error)})
    })
  }

  /**
   * Starts a taken item: its session (or the ended session it resumes), its prompt, its comment
   * re-keyed to the prompt. Never throws: a failure ends the item FAILED and says so in its comment.
   */
  async function start(item: QueuedTrigger): Promise<void> {
    const caller: Caller = {userId: item.ownerId, ...(item.apiBaseUrl ? {apiBaseUrl: item.apiBaseUrl} : {})}
    let sessionId: string | undefined
    try {
      const resumed = item.resumeSessionId ? await resumeFor(item, item.resumeSessionId) : undefined
      // The item keeps its lease; once it ends, a later drain (every reaper pass has one) takes the item again.
      if (resumed?.kind === 'later') return
      if (resumed?.kind === 'resumed') {
        const session = resumed.session
        sessionId = session.id
        // Its later comments live on this pull request, also for a session from an issue or the CLI.
        await updateSessionWithRetry(deps, session, (c) => (c.source?.pullRequest ? undefined : {source: {kind: 'github', repo: c.repo, ...c.source, pullRequest: item.issueNumber}}))
        const prompt = await resumedPromptOf({userId: session.userId, ...(item.apiBaseUrl ? {apiBaseUrl: item.apiBaseUrl} : {})}, item, session.id)
        await started(item, session.id, prompt.id)
        return
      }
      const created = await sessions.start(caller, {repo: item.repo, branch: item.branch, idempotencyKey: `github-delivery:${item.id}`}, {source: item.source})
      sessionId = created.session.id
      const prompt = await promptOf(caller, item, sessionId, created.created)
      const note = resumed?.kind === 'refused' ? `Session \`${item.resumeSessionId}\` could not be resumed (${resumed.error.code}: ${resumed.error.message}), so a new session on its branch \`${item.branch}\` takes this over.` : undefined
      await started(item, sessionId, prompt.id, note)
    } catch (error) {
      const info: ErrorInfo = isDevflowError(error) ? {code: error.code, message: error.message} : {code: 'INTERNAL_ERROR', message: error instanceof Error ? error.message : String(error)}
      deps.log?.warn('could not start a queued GitHub trigger', {delivery: item.id, code: info.code})
      const settled = await github.queue.settle(item.id, ['STARTING'], {state: 'FAILED', at: deps.clock.now().toISOString(), error: info, ...(sessionId ? {sessionId} : {})})
      const hint = isDevflowError(error) ? error.hint : undefined
      if (settled) await editComment(item, admissionKey(item.id), {state: 'failed', sender: item.sender, error: info, ...(hint ? {hint} : {}), ...(sessionId ? {sessionId} : {})})
    }
  }

  async function lock(repo: string, holder: string): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      const now = deps.clock.now()
      if (await github.queue.lock(repo, holder, now.toISOString(), lease(now))) return true
      if (attempt >= LOCK_ATTEMPTS) return false
      await deps.clock.sleep(LOCK_RETRY_MS)
    }
  }

  /** Starts the repository's oldest pending triggers while it has a free slot. */
  async function drain(repo: string): Promise<void> {
    const holder = randomUUID()
    // The holder drains what this drain would have: leaving it to that one is safe.
    if (!(await lock(repo, holder))) return
    try {
      for (;;) {
        const pending = await github.queue.pending(repo)
        if (pending.length === 0) return
        if ((await liveSessions(repo)) >= github.maxSessionsPerRepo) return
        let taken: QueuedTrigger | undefined
        for (const item of pending) {
          const now = deps.clock.now()
          taken = await github.queue.take(item.id, now.toISOString(), lease(now))
          if (taken) break
        }
        if (!taken) return
        await start(taken)
      }
    } finally {
      await github.queue.unlock(repo, holder)
    }
  }

  return {
    /**
     * Queues a trigger and drains its repository. Returns the item afterwards: STARTED when a slot
     * was free, WAITING (its comment says so) when not, FAILED when its start failed.
     */
    async admit({trigger, retry}: Admission): Promise<QueuedTrigger> {
      let item = await github.queue.get(trigger.id)
      if (!item) {
        const repo = parseRepoRef(trigger.repo)
        const full = (await liveSessions(trigger.repo)) >= github.maxSessionsPerRepo
        const state: LivingCommentState = full ? {state: 'waiting', sender: trigger.sender, limit: github.maxSessionsPerRepo, repo: trigger.repo} : {state: 'queued', sender: trigger.sender}
        // A retry of a delivery that failed after its comment was made finds that comment again.
        const comment = (retry ? await github.client.findComment(repo, trigger.issueNumber, admissionKey(trigger.id)) : undefined) ?? (await github.client.createComment(repo, trigger.issueNumber, renderLivingComment(admissionKey(trigger.id), state)))
        item = await github.queue.enqueue({...trigger, queuedAt: deps.clock.now().toISOString(), commentId: comment.id})
      }
      await drain(trigger.repo)
      return (await github.queue.get(trigger.id)) ?? item
    },

    drain,

    /** Drains every repository with pending triggers (the end of each reaper pass). */
    async drainAll(): Promise<void> {
      for (const repo of await github.queue.pendingRepos()) {
        try {
          await drain(repo)
        } catch (error) {
          deps.log?.warn('could not drain the GitHub queue', {repo, error: error instanceof Error ? error.message : String(error)})
        }
      }
    },

    /** A session from GitHub ended: its repository may have a free slot now. Never throws (the end itself must not fail). */
    async sessionEnded(session: SessionRecord): Promise<void> {
      if (session.source?.kind !== 'github') return
      try {
        await drain(session.repo)
      } catch (error) {
        deps.log?.warn('could not drain the GitHub queue after a session ended', {sessionId: session.id, error: error instanceof Error ? error.message : String(error)})
      }
    },

    /** `/devflow stop` on an issue or pull request whose work still waits: cancels it. Returns the cancelled items. */
    async cancelWaiting(repo: string, issueNumber: number, stoppedBy: string): Promise<QueuedTrigger[]> {
      const cancelled: QueuedTrigger[] = []
      for (const item of await github.queue.pending(repo)) {
        if (item.issueNumber !== issueNumber) continue
        const settled = await github.queue.settle(item.id, ['WAITING'], {state: 'CANCELLED', at: deps.clock.now().toISOString()})
        if (!settled) continue
        cancelled.push(settled)
        await editComment(settled, admissionKey(settled.id), {state: 'stopped', sender: settled.sender, stoppedBy})
      }
      return cancelled
    },
  }
}

export type GithubQueue = ReturnType<typeof createGithubQueue>
