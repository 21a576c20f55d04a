/**
 * Work that comes from GitHub (issue 13): `POST /github/webhook` in, sessions and prompts out, and
 * the results back on GitHub in one living comment and one draft pull request. One implementation,
 * used by every server that serves the route (the Lambda function, `devflow api serve`).
 *
 * A delivery is verified (signature over the raw body), claimed once by its X-GitHub-Delivery id,
 * decided (core/github/trigger.ts) and acted on:
 * - start: a session owned by `github:<login>` with `source`, its prompt with pr=draft, and the
 *   living comment (queued) on the issue; admitted through the repository's queue
 *   (github-queue.ts), so beyond the stage's limit of sessions per repository it waits, and its
 *   comment says so;
 * - prompt: a comment on a pull request whose branch is `devflow/<session-id>`: a new prompt in that
 *   session while it is alive, else that session resumed through the repository's queue (a new
 *   session on that branch when the resume is refused);
 * - stop: `/devflow stop` ends the session of the issue or pull request (or cancels its waiting work);
 * - refuse: a reply comment, nothing runs; ignore: 202, logged by the router.
 *
 * The agent's claim, events and result reach the living comment through the PromptObserver the
 * agent service calls; a session from an issue gets its draft pull request titled from the issue
 * with `Closes #N` (the comment links the pull request, the pull request the issue).
 *
 * A delivery that failed midway may be redelivered: the work it created is found again (its queue
 * item, the prompt recorded on the delivery, its comment by its marker) rather than made twice.
 */
import {isDevflowError} from '../errors.js'
import {deliveryClaim, type DeliveryRecord, type DeliveryStore} from '../github/deliveries.js'
import {DEFAULT_MAX_SESSIONS_PER_REPO, type QueuedTrigger, type TriggerQueue} from '../github/queue.js'
import {type LivingCommentState, renderLivingComment} from '../github/living-comment.js'
import type {GithubWorkClient, IssueComment, WebhookRequest, WebhookVerifier} from '../github/ports.js'
import {livingCommentState} from '../github/progress.js'
import {decideIntent, SESSION_BRANCH_PREFIX, type TriggerSettings, type WebhookIntent} from '../github/trigger.js'
import type {PromptRecord, SessionRecord, SessionSource} from '../models.js'
import type {SessionApi} from '../session-api.js'
import {isSessionTerminal} from '../state-machine.js'
import {parseRepoRef} from '../validation.js'
import type {CoreDeps} from './index.js'
import {createGithubQueue, type GithubQueue} from './github-queue.js'
import {updateSessionWithRetry} from './records.js'

export interface GithubWorkDeps {
  readonly verifier: WebhookVerifier
  readonly deliveries: DeliveryStore
  readonly client: GithubWorkClient
  readonly settings: TriggerSettings
  /** Triggers waiting for a free slot (items of the deliveries table, or the local SQLite file). */
  readonly queue: TriggerQueue
  /** Sessions from GitHub one repository may have at once (a stage setting); DEFAULT_MAX_SESSIONS_PER_REPO when unset. */
  readonly maxSessionsPerRepo?: number
}

export interface WebhookResponse {
  readonly status: number
  readonly body: {readonly delivery: string; readonly outcome: string; readonly duplicate?: boolean; readonly reason?: string; readonly sessionId?: string; readonly promptId?: string}
}

export interface GithubWorkApi {
  /** Verifies, claims and acts on one delivery. Throws 401 for a bad signature, before anything is written. */
  receive(request: WebhookRequest & {readonly apiBaseUrl?: string}): Promise<WebhookResponse>
  /** The last deliveries, newest first (`devflow github status`). */
  recentDeliveries(limit: number): Promise<DeliveryRecord[]>
}

/** What the agent service tells the GitHub work path; each call is a no-op for a session not from GitHub. */
export interface PromptObserver {
  claimed(session: SessionRecord, prompt: PromptRecord): Promise<void>
  progressed(session: SessionRecord, prompt: PromptRecord): Promise<void>
  /** The draft for a session from an issue; undefined for any other session (the default pull request applies). */
  openPullRequest(session: SessionRecord, prompt: PromptRecord, branch: string, summary: string): Promise<{url: string} | {error: {code: string; message: string}} | undefined>
  settled(session: SessionRecord, prompt: PromptRecord): Promise<void>
}

/** Edits for progress events are spaced at least this far apart per prompt (GitHub's secondary rate limits). */
const PROGRESS_EDIT_INTERVAL_MS = 10_000

export function createGithubWork(deps: CoreDeps, github: GithubWorkDeps, sessions: SessionApi): {api: GithubWorkApi; observer: PromptObserver; queue: GithubQueue} {
  const lastProgressEdit = new Map<string, number>()
  const queue = createGithubQueue(deps, {queue: github.queue, deliveries: github.deliveries, client: github.client, maxSessionsPerRepo: github.maxSessionsPerRepo ?? DEFAULT_MAX_SESSIONS_PER_REPO}, sessions)

  /** The living comment of a prompt: keyed by the prompt id, on the pull request or the issue of the session's source. */
  async function findLivingComment(source: SessionSource, promptId: string): Promise<{number: number; comment: IssueComment} | undefined> {
    const repo = parseRepoRef(source.repo)
    for (const number of [source.pullRequest, source.issue]) {
      if (number === undefined) continue
      const comment = await github.client.findComment(repo, number, promptId)
      if (comment) return {number, comment}
    }
    return undefined
  }

  async function editLivingComment(session: SessionRecord, prompt: PromptRecord, state: LivingCommentState): Promise<void> {
    if (!session.source) return
    const found = await findLivingComment(session.source, prompt.id)
    if (!found) return
    const body = renderLivingComment(prompt.id, state)
    if (body !== found.comment.body) await github.client.updateComment(parseRepoRef(session.source.repo), found.comment.id, body)
  }

  async function stateOf(session: SessionRecord, prompt: PromptRecord, withEvents: boolean): Promise<LivingCommentState> {
    const events = withEvents ? await deps.prompts.listEvents(prompt.id, 0, 1000) : []
    return livingCommentState({sender: senderOf(session), session, prompt, events})
  }

  const observer: PromptObserver = {
    async claimed(session, prompt) {
      if (!session.source) return
      await editLivingComment(session, prompt, await stateOf(session, prompt, false))
    },
    async progressed(session, prompt) {
      if (!session.source) return
      const now = deps.clock.now().getTime()
      const last = lastProgressEdit.get(prompt.id)
      if (last !== undefined && now - last < PROGRESS_EDIT_INTERVAL_MS) return
      lastProgressEdit.set(prompt.id, now)
      await editLivingComment(session, prompt, await stateOf(session, prompt, true))
    },
    async openPullRequest(session, _prompt, branch, summary) {
      const source = session.source
      if (!source?.issue) return undefined
      const repo = parseRepoRef(source.repo)
      try {
        const issue = await github.client.getIssue(repo, source.issue)
        const pr = await github.client.openDraftPullRequest({repo, head: branch, base: session.branch, issue: {number: issue.number, title: issue.title}, summary})
        await updateSessionWithRetry(deps, session, (current) => (current.source?.pullRequest === pr.number ? undefined : {source: {...source, ...current.source, pullRequest: pr.number}}))
        return {url: pr.url}
      } catch (error) {
        return {error: {code: 'PULL_REQUEST_FAILED', message: error instanceof Error ? error.message : String(error)}}
      }
    },
    async settled(session, prompt) {
      lastProgressEdit.delete(prompt.id)
      if (!session.source) return
      const current = (await deps.sessions.get(session.id)) ?? session
      await editLivingComment(current, prompt, await stateOf(current, prompt, false))
    },
  }

  async function act(intent: Exclude<WebhookIntent, {kind: 'ignore'}>, delivery: DeliveryRecord, apiBaseUrl: string | undefined): Promise<WebhookResponse['body']> {
    const deliveryId = delivery.id
    const retry = delivery.attempts > 1
    const repo = intent.target.repo
    /** The living comment with this key: on a retry the one the failed attempt made, if it got that far. */
    const comment = async (key: string, state: LivingCommentState): Promise<IssueComment> =>
      (retry ? await github.client.findComment(repo, intent.target.number, key) : undefined) ?? (await github.client.createComment(repo, intent.target.number, renderLivingComment(key, state)))
    const ownerId = `github:${intent.sender}`
    const admit = async (branch: string, source: SessionSource, prompt: string, resumeSessionId?: string): Promise<WebhookResponse['body']> => {
      const item = await queue.admit({
        trigger: {id: deliveryId, repo: repo.fullName, ownerId, sender: intent.sender, branch, source, prompt, issueNumber: intent.target.number, ...(resumeSessionId ? {resumeSessionId} : {}), ...(apiBaseUrl ? {apiBaseUrl} : {})},
        retry,
      })
      return admitted(deliveryId, item)
    }
    switch (intent.kind) {
      case 'refuse': {
        await comment(`refused:${deliveryId}`, {state: 'refused', sender: intent.sender, reason: intent.reason, repo: repo.fullName, ...(intent.permission ? {permission: intent.permission} : {})})
        return {delivery: deliveryId, outcome: 'refuse', reason: intent.reason}
      }
      case 'start':
        return admit(intent.branch, intent.source, intent.prompt)
      case 'prompt': {
        const session = await deps.sessions.get(intent.sessionId)
        const ours = session !== undefined && session.repo.toLowerCase() === repo.fullName.toLowerCase()
        if (ours && !isSessionTerminal(session.status) && session.status !== 'STOPPING') {
          // The pull request is where this session's later comments live, also for a session from an issue.
          await updateSessionWithRetry(deps, session, (c) => (c.source?.pullRequest ? undefined : {source: {kind: 'github', repo: c.repo, ...c.source, pullRequest: intent.target.number}}))
          // A retry of a delivery whose prompt was queued before it failed: that prompt, not a second one.
          const recorded = delivery.sessionId === session.id && delivery.promptId ? await deps.prompts.get(session.id, delivery.promptId) : undefined
          const prompt = recorded ?? (await sessions.enqueuePrompt({userId: session.userId}, session.id, {text: intent.prompt, pr: 'draft'}))
          if (!recorded) await github.deliveries.recordWork(deliveryId, {sessionId: session.id, promptId: prompt.id})
          await comment(prompt.id, {state: 'queued', sender: intent.sender, sessionId: session.id})
          return {delivery: deliveryId, outcome: 'prompt', sessionId: session.id, promptId: prompt.id}
        }
        // The session ended (or is ending): resumed through the queue like a start; `source` is for the new session a refused resume gets.
        const source: SessionSource = {kind: 'github', repo: repo.fullName, pullRequest: intent.target.number, ...(intent.source.commentId ? {commentId: intent.source.commentId} : {})}
        return admit(`${SESSION_BRANCH_PREFIX}${intent.sessionId}`, source, intent.prompt, ours ? session.id : undefined)
      }
      case 'stop': {
        const session = intent.sessionId ? await deps.sessions.get(intent.sessionId) : await liveSessionOfIssue(deps, repo.fullName, intent.target.number)
        if (!session || isSessionTerminal(session.status)) {
          const cancelled = await queue.cancelWaiting(repo.fullName, intent.target.number, intent.sender)
          if (cancelled.length > 0) return {delivery: deliveryId, outcome: 'stop', reason: `cancelled ${cancelled.length} waiting request(s)`}
          return {delivery: deliveryId, outcome: 'stop', reason: 'no running session for this issue or pull request'}
        }
        const stopped = await sessions.stop({userId: session.userId}, session.id)
        const latest = (await deps.prompts.list(session.id, {limit: 100})).items.at(-1)
        if (latest) {
          const record = (await deps.sessions.get(session.id)) ?? session
          await editLivingComment(record, latest, {state: 'stopped', sender: senderOf(record), sessionId: session.id, stoppedBy: intent.sender})
        }
        return {delivery: deliveryId, outcome: 'stop', sessionId: stopped.id}
      }
    }
  }

  const api: GithubWorkApi = {
    async receive(request) {
      const verified = await github.verifier.verify(request)
      const claim = await github.deliveries.claim(
        deliveryClaim({id: verified.deliveryId, event: verified.event, ...(verified.action ? {action: verified.action} : {}), ...(verified.repo ? {repo: verified.repo} : {})}, deps.clock.now()),
      )
      if (!claim.claimed) {
        return {status: 200, body: {delivery: verified.deliveryId, outcome: claim.existing.outcome ?? claim.existing.status.toLowerCase(), duplicate: true}}
      }
      try {
        const intent = await decideIntent(verified.event, verified.payload, github.settings, github.client)
        if (intent.kind === 'ignore') {
          await github.deliveries.finish(verified.deliveryId, {status: 'DONE', at: deps.clock.now().toISOString(), outcome: 'ignore', detail: intent.reason})
          return {status: 202, body: {delivery: verified.deliveryId, outcome: 'ignore', reason: intent.reason}}
        }
        const body = await act(intent, claim.record, request.apiBaseUrl)
        await github.deliveries.finish(verified.deliveryId, {status: 'DONE', at: deps.clock.now().toISOString(), outcome: body.outcome, detail: body.sessionId ?? body.reason})
        return {status: 202, body}
      } catch (error) {
        // FAILED lets GitHub's "Redeliver" try again.
        const code = isDevflowError(error) ? error.code : 'INTERNAL_ERROR'
        await github.deliveries.finish(verified.deliveryId, {status: 'FAILED', at: deps.clock.now().toISOString(), detail: code})
        throw error
      }
    },
    recentDeliveries: (limit) => github.deliveries.recent(limit),
  }
  return {api, observer, queue}
}

/** The answer for an admitted trigger: started or resumed (with its session and prompt), waiting, or failed to start. */
function admitted(deliveryId: string, item: QueuedTrigger): WebhookResponse['body'] {
  const work = {...(item.sessionId ? {sessionId: item.sessionId} : {}), ...(item.promptId ? {promptId: item.promptId} : {})}
  if (item.state === 'STARTED') return {delivery: deliveryId, outcome: item.resumeSessionId && item.sessionId === item.resumeSessionId ? 'resume' : 'start', ...work}
  if (item.state === 'FAILED') return {delivery: deliveryId, outcome: 'start', reason: item.error?.code ?? 'START_FAILED', ...work}
  if (item.state === 'CANCELLED') return {delivery: deliveryId, outcome: 'stop', reason: 'cancelled while it waited'}
  if (item.state === 'STARTING') return {delivery: deliveryId, outcome: 'queued', reason: item.resumeSessionId ? `session ${item.resumeSessionId} is still stopping: it is resumed once it has stopped` : 'another server is starting it'}
  return {delivery: deliveryId, outcome: 'queued', reason: 'the repository is at its limit of sessions from GitHub'}
}

function senderOf(session: SessionRecord): string {
  return session.userId.startsWith('github:') ? session.userId.slice('github:'.length) : session.userId
}

/** The live session started from this issue (a scan of the sessions: stops are rare). */
async function liveSessionOfIssue(deps: CoreDeps, repo: string, issue: number): Promise<SessionRecord | undefined> {
  let nextToken: string | undefined
  do {
    const page = await deps.sessions.listAll({limit: 100, nextToken})
    const found = page.items.find((s) => !isSessionTerminal(s.status) && s.source?.repo.toLowerCase() === repo.toLowerCase() && (s.source.issue === issue || s.source.pullRequest === issue))
    if (found) return found
    nextToken = page.nextToken
  } while (nextToken)
  return undefined
}
