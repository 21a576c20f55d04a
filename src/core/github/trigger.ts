/**
 * The trigger decision: from a GitHub webhook (event name + parsed payload) to what DevFlow does.
 *
 * - `start`: an open issue labelled with the stage's label (default `devflow`), or a comment
 *   `/devflow [instructions]` on an issue -> a session on the default branch, prompted with the
 *   issue's title, body and a pointer to it (and the instructions).
 * - `prompt`: a comment `/devflow <instructions>` on a pull request whose head branch is
 *   `devflow/<session-id>` in the same repository (a review comment adds its file, lines and diff
 *   hunk as context) -> a new prompt in that session.
 * - `stop`: `/devflow stop` on an issue or such a pull request.
 * - `refuse`: a trigger on a repository outside the allow-list, or by a sender without write,
 *   maintain or admin permission (asked of GitHub through the GithubLookups port): the living
 *   comment says so and nothing runs.
 * - `ignore`: everything else, with the reason for the 202 log line.
 *
 * `readTrigger` is the pure part (payload only); `decideIntent` adds the allow-list, the
 * permission gate and, for a comment on a pull request, the head branch lookup.
 */
import type {
  IssueCommentCreatedEvent,
  IssuesLabeledEvent,
  PullRequestReviewCommentCreatedEvent,
  User,
} from '@octokit/webhooks-types'

import {MAX_PROMPT_BYTES} from '../session-api.js'
import {parseRepoRef, type RepoRef, SESSION_ID_PATTERN} from '../validation.js'
import type {GithubLookups} from './ports.js'

export const DEFAULT_TRIGGER_LABEL = 'devflow'
export const SESSION_BRANCH_PREFIX = 'devflow/'

export interface TriggerSettings {
  /** The label that hands an issue to DevFlow (a stage setting). */
  readonly label: string
  /**
   * Repositories webhooks may start work on: `owner/name` or `owner/*`, compared without case.
   * Undefined: every repository the App is installed on.
   */
  readonly allowedRepos?: readonly string[]
}

/** The `source` of a session or prompt started from GitHub (DESIGN.md's session field). */
export interface GithubSource {
  readonly kind: 'github'
  readonly repo: string
  readonly issue?: number
  readonly pullRequest?: number
  readonly commentId?: number
}

/** Where the living comment goes: the issue or pull request the trigger came from. */
export interface GithubTarget {
  readonly repo: RepoRef
  readonly number: number
  readonly type: 'issue' | 'pull_request'
  readonly url: string
  readonly title: string
}

/** A review comment's position, given to the agent as context. */
export interface ReviewContext {
  readonly path: string
  readonly line?: number
  readonly startLine?: number
  readonly side?: 'LEFT' | 'RIGHT'
  readonly diffHunk: string
  readonly url: string
}

interface TriggerBase {
  /** The sender's login; the session's owner is `github:<login>`. */
  readonly sender: string
  readonly target: GithubTarget
  readonly source: GithubSource
  readonly installationId?: number
}

/** What the payload alone says: the action asked for, before any gate. */
export type Trigger =
  | (TriggerBase & {
      readonly action: 'start'
      readonly issue: {readonly body: string; readonly author: string}
      readonly defaultBranch: string
      /** The comment's text after `/devflow`, empty for a label. */
      readonly instructions: string
    })
  | (TriggerBase & {
      readonly action: 'prompt'
      readonly instructions: string
      readonly review?: ReviewContext
      /** Known from a review comment's payload; an issue comment needs the lookup. */
      readonly head?: {readonly ref: string; readonly repo: string | undefined}
    })
  | (TriggerBase & {readonly action: 'stop'; readonly head?: {readonly ref: string; readonly repo: string | undefined}})

export interface Ignored {
  readonly action: 'ignore'
  readonly reason: string
}

export type RefusalReason = 'READ_ONLY_SENDER' | 'REPO_NOT_ALLOWED'

export type WebhookIntent =
  | (TriggerBase & {
      readonly kind: 'start'
      readonly repo: RepoRef
      /** The repository's default branch: the session's branch. */
      readonly branch: string
      readonly prompt: string
    })
  | (TriggerBase & {readonly kind: 'prompt'; readonly sessionId: string; readonly prompt: string})
  | (TriggerBase & {
      readonly kind: 'stop'
      /** From the pull request's branch; for an issue the service finds the session by its source. */
      readonly sessionId?: string
    })
  | (TriggerBase & {readonly kind: 'refuse'; readonly reason: RefusalReason; readonly permission?: string})
  | {readonly kind: 'ignore'; readonly reason: string}

/** The roles that may hand work to DevFlow: GitHub's legacy `permission` maps maintain to write. */
const WRITE_PERMISSIONS = new Set(['admin', 'write'])
const WRITE_ROLES = new Set(['admin', 'maintain', 'write'])

/** `/devflow`, then whitespace or the end, at the start of the comment (leading blanks allowed). */
const COMMAND = /^\s*\/devflow(?=\s|$)([\s\S]*)$/i
const STOP = /^stop[.!]?$/i

/** The part of a comment after `/devflow`; undefined when the comment is not a command. */
export function parseCommand(body: string | null | undefined): {stop: boolean; instructions: string} | undefined {
  const match = COMMAND.exec(body ?? '')
  if (!match) return undefined
  const instructions = match[1].trim()
  return {stop: STOP.test(instructions), instructions}
}

/** The session a branch belongs to: `devflow/<session-id>`, else undefined. */
export function sessionIdOfBranch(ref: string): string | undefined {
  const branch = ref.replace(/^refs\/heads\//, '')
  if (!branch.startsWith(SESSION_BRANCH_PREFIX)) return undefined
  const id = branch.slice(SESSION_BRANCH_PREFIX.length)
  return SESSION_ID_PATTERN.test(id) ? id : undefined
}

export function repoAllowed(repo: string, allowed: readonly string[] | undefined): boolean {
  if (allowed === undefined) return true
  const [owner] = repo.toLowerCase().split('/')
  return allowed.some((entry) => {
    const pattern = entry.trim().toLowerCase()
    return pattern === repo.toLowerCase() || pattern === `${owner}/*`
  })
}

function isBot(user: Pick<User, 'type' | 'login'> | null | undefined): boolean {
  return user?.type === 'Bot' || (user?.login ?? '').endsWith('[bot]')
}

function ignore(reason: string): Ignored {
  return {action: 'ignore', reason}
}

function repoOf(payload: {repository?: {full_name: string}}): RepoRef | undefined {
  const name = payload.repository?.full_name
  if (!name) return undefined
  try {
    return parseRepoRef(name)
  } catch {
    return undefined
  }
}

/** The payload alone: which action is asked for, or why none is. Never throws on odd payloads. */
export function readTrigger(event: string, payload: unknown, settings: TriggerSettings): Trigger | Ignored {
  if (typeof payload !== 'object' || payload === null) return ignore(`the ${event} payload is not an object`)
  const action = (payload as {action?: unknown}).action
  const label = typeof action === 'string' ? `${event}.${action}` : event
  const sender = (payload as {sender?: User}).sender
  if (isBot(sender)) return ignore(`${label} was sent by a bot (${sender?.login})`)
  const repo = repoOf(payload as {repository?: {full_name: string}})
  if (!repo || !sender?.login) return ignore(`${label} names no repository or sender`)
  if (event === 'issues' && action === 'labeled') return fromLabel(payload as IssuesLabeledEvent, repo, settings)
  if (event === 'issue_comment' && action === 'created') return fromIssueComment(payload as IssueCommentCreatedEvent, repo)
  if (event === 'pull_request_review_comment' && action === 'created') return fromReviewComment(payload as PullRequestReviewCommentCreatedEvent, repo)
  return ignore(`${label} is not a DevFlow trigger`)
}

function fromLabel(payload: IssuesLabeledEvent, repo: RepoRef, settings: TriggerSettings): Trigger | Ignored {
  const name = payload.label?.name
  if (!name || name.toLowerCase() !== settings.label.toLowerCase()) return ignore(`issues.labeled with "${name ?? ''}", not "${settings.label}"`)
  const issue = payload.issue
  if (issue.state === 'closed') return ignore(`issue #${issue.number} is closed`)
  return {
    action: 'start',
    sender: payload.sender.login,
    target: {repo, number: issue.number, type: 'issue', url: issue.html_url, title: issue.title},
    source: {kind: 'github', repo: repo.fullName, issue: issue.number},
    installationId: payload.installation?.id,
    issue: {body: issue.body ?? '', author: issue.user.login},
    defaultBranch: payload.repository.default_branch,
    instructions: '',
  }
}

function fromIssueComment(payload: IssueCommentCreatedEvent, repo: RepoRef): Trigger | Ignored {
  if (isBot(payload.comment.user)) return ignore(`comment ${payload.comment.id} is by a bot`)
  const command = parseCommand(payload.comment.body)
  if (!command) return ignore(`comment ${payload.comment.id} is not a /devflow command`)
  const issue = payload.issue
  const onPullRequest = issue.pull_request !== undefined
  const base = {
    sender: payload.sender.login,
    target: {repo, number: issue.number, type: onPullRequest ? 'pull_request' : 'issue', url: issue.html_url, title: issue.title} as const,
    source: {kind: 'github', repo: repo.fullName, ...(onPullRequest ? {pullRequest: issue.number} : {issue: issue.number}), commentId: payload.comment.id} as const,
    installationId: payload.installation?.id,
  }
  if (command.stop) return {...base, action: 'stop'}
  if (onPullRequest) {
    if (command.instructions === '') return ignore(`comment ${payload.comment.id} on pull request #${issue.number} gives no instructions`)
    return {...base, action: 'prompt', instructions: command.instructions}
  }
  if (issue.state === 'closed') return ignore(`issue #${issue.number} is closed`)
  return {
    ...base,
    action: 'start',
    issue: {body: issue.body ?? '', author: issue.user.login},
    defaultBranch: payload.repository.default_branch,
    instructions: command.instructions,
  }
}

function fromReviewComment(payload: PullRequestReviewCommentCreatedEvent, repo: RepoRef): Trigger | Ignored {
  const comment = payload.comment
  if (isBot(comment.user)) return ignore(`review comment ${comment.id} is by a bot`)
  const command = parseCommand(comment.body)
  if (!command) return ignore(`review comment ${comment.id} is not a /devflow command`)
  const pr = payload.pull_request
  const base = {
    sender: payload.sender.login,
    target: {repo, number: pr.number, type: 'pull_request', url: pr.html_url, title: pr.title} as const,
    source: {kind: 'github', repo: repo.fullName, pullRequest: pr.number, commentId: comment.id} as const,
    installationId: payload.installation?.id,
    head: {ref: pr.head.ref, repo: pr.head.repo?.full_name},
  }
  if (command.stop) return {...base, action: 'stop'}
  if (command.instructions === '') return ignore(`review comment ${comment.id} gives no instructions`)
  return {
    ...base,
    action: 'prompt',
    instructions: command.instructions,
    review: {
      path: comment.path,
      line: comment.line ?? comment.original_line ?? undefined,
      startLine: comment.start_line ?? undefined,
      side: comment.side,
      diffHunk: comment.diff_hunk,
      url: comment.html_url,
    },
  }
}

/**
 * The whole decision: the payload, then the allow-list, the sender's permission and (for a pull
 * request) the session its branch belongs to. GitHub failures propagate as DevflowErrors.
 */
export async function decideIntent(event: string, payload: unknown, settings: TriggerSettings, github: GithubLookups): Promise<WebhookIntent> {
  const trigger = readTrigger(event, payload, settings)
  if (trigger.action === 'ignore') return {kind: 'ignore', reason: trigger.reason}
  const {sender, target, source, installationId} = trigger
  const base = {sender, target, source, ...(installationId === undefined ? {} : {installationId})}
  if (!repoAllowed(target.repo.fullName, settings.allowedRepos)) return {...base, kind: 'refuse', reason: 'REPO_NOT_ALLOWED'}
  const permission = await github.permissionOf(target.repo, sender)
  if (!WRITE_PERMISSIONS.has(permission.permission) && !WRITE_ROLES.has(permission.roleName)) {
    return {...base, kind: 'refuse', reason: 'READ_ONLY_SENDER', permission: permission.roleName || permission.permission}
  }
  if (trigger.action === 'start') {
    return {...base, kind: 'start', repo: target.repo, branch: trigger.defaultBranch, prompt: issuePrompt(trigger)}
  }
  if (target.type === 'issue') return {...base, kind: 'stop'}
  const head = trigger.head ?? (await headOf(github, target))
  const sessionId = sessionIdOfBranch(head.ref)
  if (!sessionId) return {kind: 'ignore', reason: `pull request #${target.number}'s branch ${head.ref} was not pushed by a DevFlow session`}
  if (head.repo?.toLowerCase() !== target.repo.fullName.toLowerCase()) {
    return {kind: 'ignore', reason: `pull request #${target.number}'s branch lives in ${head.repo ?? 'a deleted repository'}, not ${target.repo.fullName}`}
  }
  if (trigger.action === 'stop') return {...base, kind: 'stop', sessionId}
  return {...base, kind: 'prompt', sessionId, prompt: pullRequestPrompt(trigger)}
}

async function headOf(github: GithubLookups, target: GithubTarget): Promise<{ref: string; repo: string | undefined}> {
  const pr = await github.pullRequest(target.repo, target.number)
  return {ref: pr.headRef, repo: pr.headRepo}
}

const TRUNCATED = '\n\n[... truncated: read the rest on GitHub]'

/** Cuts text to at most `bytes` UTF-8 bytes on a character boundary, saying so when it cut. */
function fitBytes(text: string, bytes: number): string {
  if (Buffer.byteLength(text, 'utf8') <= bytes) return text
  const room = Math.max(0, bytes - Buffer.byteLength(TRUNCATED, 'utf8'))
  let cut = Buffer.from(text, 'utf8').subarray(0, room).toString('utf8')
  // A cut inside a multi-byte character decodes to U+FFFD: drop it.
  cut = cut.replace(/\uFFFD$/, '')
  return cut + TRUNCATED
}

/** Room for the fixed parts of a prompt; the issue body or diff hunk gets the rest. */
const PROMPT_FRAME_BYTES = 4096

export function issuePrompt(trigger: Extract<Trigger, {action: 'start'}>): string {
  const {target, issue, instructions, sender} = trigger
  const head = [
    `Work on GitHub issue #${target.number} in ${target.repo.fullName}: ${target.title}`,
    `Issue: ${target.url}`,
    ...(instructions ? ['', `Instructions from @${sender}:`, fitBytes(instructions, 16 * 1024)] : []),
    '',
    `The issue as @${issue.author} wrote it:`,
    '',
  ].join('\n')
  const tail = [
    '',
    '',
    `Commit your change. DevFlow opens a draft pull request that closes #${target.number}; end with a short summary of what you changed and why, for its description.`,
  ].join('\n')
  const room = MAX_PROMPT_BYTES - PROMPT_FRAME_BYTES - Buffer.byteLength(head + tail, 'utf8')
  return head + fitBytes(issue.body.trim() || '(The issue has no description.)', room) + tail
}

export function pullRequestPrompt(trigger: Extract<Trigger, {action: 'prompt'}>): string {
  const {target, instructions, sender, review} = trigger
  const lines = [`Follow-up from @${sender} on pull request #${target.number} in ${target.repo.fullName}: ${target.title}`, `Pull request: ${target.url}`, '']
  if (review) {
    const where = review.line === undefined ? 'the file' : review.startLine !== undefined && review.startLine !== review.line ? `lines ${review.startLine}-${review.line}` : `line ${review.line}`
    lines.push(`This is a review comment on ${review.path}, ${where}${review.side === 'LEFT' ? ' (of the old version)' : ''}: ${review.url}`, 'The diff it refers to:', '```diff', fitBytes(review.diffHunk, 32 * 1024), '```', '')
  }
  lines.push(fitBytes(instructions, MAX_PROMPT_BYTES - PROMPT_FRAME_BYTES - 32 * 1024), '', 'Commit your change to this branch; end with a short summary of what you changed.')
  return lines.join('\n')
}
