/**
 * The GitHub calls of the webhook flow, as the DevFlow App's installation (auth from app.ts) or,
 * on the local platform, as the user whose token it has (user-token.ts):
 * the sender's permission and a pull request's head (GithubLookups, for the trigger decision),
 * the issue, the living comment (create, edit in place, find again by its marker), and the draft
 * pull request titled from the issue with `Closes #N` in its body.
 *
 * Each call asks for a token with only the permissions it needs; the App must hold them
 * (Issues, Pull requests and Contents write; Metadata read).
 */
import {forbidden, notFound} from '../../core/errors.js'
import {readStatusMarker} from '../../core/github/living-comment.js'
import type {CollaboratorPermission, DraftPullRequest, GithubWorkClient, IssueComment, IssueDetails, PullRequestHead} from '../../core/github/ports.js'
import type {RepoRef} from '../../core/validation.js'
import type {PullRequestRequest} from '../../core/ports.js'
import {type CommentAuthor, githubError, type Octokit, statusOf} from './app.js'

/**
 * How the calls reach GitHub: as the App's installation (GithubApp, app.ts) on a deployed stage,
 * or with the local user's own token (UserTokenGithub, user-token.ts) on the local platform.
 */
export interface GithubRequests {
  /** A request function allowed `permissions` on `repo`. */
  repoRequest(repo: RepoRef, permissions: Record<string, 'read' | 'write'>): Promise<Octokit>
  open(pr: PullRequestRequest): Promise<{url: string; number: number}>
  /** Whether this identity wrote a comment (a living comment is only ever looked for among its own). */
  isOwnComment(author: CommentAuthor): Promise<boolean>
}

const METADATA = {metadata: 'read'} as const
const COMMENTS = {issues: 'write', pull_requests: 'write'} as const
const PAGE_SIZE = 100
/** Pages of comments searched for a living comment's marker before giving up. */
const MAX_PAGES = 10

export class GithubIssues implements GithubWorkClient {
  constructor(private readonly app: GithubRequests) {}

  async permissionOf(repo: RepoRef, login: string): Promise<CollaboratorPermission> {
    const request = await this.app.repoRequest(repo, METADATA)
    const out = await call(`Reading @${login}'s permission on ${repo.fullName}`, () =>
      request('GET /repos/{owner}/{repo}/collaborators/{username}/permission', {owner: repo.owner, repo: repo.name, username: login}),
    ).catch((error: unknown) => {
      // GitHub answers 404 for a login that is no user at all: no permission either.
      if (isNotFound(error)) return undefined
      throw error
    })
    return out ? {permission: out.data.permission, roleName: out.data.role_name} : {permission: 'none', roleName: 'none'}
  }

  async pullRequest(repo: RepoRef, number: number): Promise<PullRequestHead> {
    const request = await this.app.repoRequest(repo, {pull_requests: 'read'})
    const out = await call(`Reading pull request #${number} of ${repo.fullName}`, () => request('GET /repos/{owner}/{repo}/pulls/{pull_number}', {owner: repo.owner, repo: repo.name, pull_number: number}), `pull request #${number}`)
    const pr = out.data
    return {number: pr.number, state: pr.state === 'closed' ? 'closed' : 'open', headRef: pr.head.ref, headRepo: pr.head.repo?.full_name, baseRef: pr.base.ref, url: pr.html_url}
  }

  async getIssue(repo: RepoRef, number: number): Promise<IssueDetails> {
    const request = await this.app.repoRequest(repo, {issues: 'read', pull_requests: 'read'})
    const out = await call(`Reading issue #${number} of ${repo.fullName}`, () => request('GET /repos/{owner}/{repo}/issues/{issue_number}', {owner: repo.owner, repo: repo.name, issue_number: number}), `issue #${number}`)
    const issue = out.data
    return {
      number: issue.number,
      title: issue.title,
      body: issue.body ?? '',
      state: issue.state === 'closed' ? 'closed' : 'open',
      url: issue.html_url,
      author: issue.user?.login ?? 'ghost',
      isPullRequest: issue.pull_request !== undefined,
    }
  }

  async createComment(repo: RepoRef, issueNumber: number, body: string): Promise<IssueComment> {
    const request = await this.app.repoRequest(repo, COMMENTS)
    const out = await call(`Commenting on #${issueNumber} of ${repo.fullName}`, () => request('POST /repos/{owner}/{repo}/issues/{issue_number}/comments', {owner: repo.owner, repo: repo.name, issue_number: issueNumber, body}), `issue #${issueNumber}`)
    return {id: Number(out.data.id), url: out.data.html_url, body: out.data.body ?? ''}
  }

  async updateComment(repo: RepoRef, commentId: number, body: string): Promise<IssueComment> {
    const request = await this.app.repoRequest(repo, COMMENTS)
    const out = await call(`Editing comment ${commentId} on ${repo.fullName}`, () => request('PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}', {owner: repo.owner, repo: repo.name, comment_id: commentId, body}), `comment ${commentId}`)
    return {id: Number(out.data.id), url: out.data.html_url, body: out.data.body ?? ''}
  }

  /** The living comment with this marker key on the issue or pull request, if one exists (made by a bot). */
  async findComment(repo: RepoRef, issueNumber: number, key: string): Promise<IssueComment | undefined> {
    const request = await this.app.repoRequest(repo, COMMENTS)
    for (let page = 1; page <= MAX_PAGES; page++) {
      const out = await call(`Listing the comments on #${issueNumber} of ${repo.fullName}`, () =>
        request('GET /repos/{owner}/{repo}/issues/{issue_number}/comments', {owner: repo.owner, repo: repo.name, issue_number: issueNumber, per_page: PAGE_SIZE, page}), `issue #${issueNumber}`)
      const marked = out.data.filter((comment) => readStatusMarker(comment.body) === key)
      for (const found of marked) if (await this.app.isOwnComment(found.user)) return {id: Number(found.id), url: found.html_url, body: found.body ?? ''}
      if (out.data.length < PAGE_SIZE) return undefined
    }
    return undefined
  }

  /** Opens (or finds the open) draft pull request for the session's branch, titled from the issue, closing it. */
  async openDraftPullRequest(pr: DraftPullRequest): Promise<{url: string; number: number}> {
    return this.app.open({
      repo: pr.repo,
      head: pr.head,
      base: pr.base,
      title: pr.issue.title,
      body: pullRequestBody(pr.summary, pr.issue.number),
      draft: true,
    })
  }

  /** Replaces the pull request's description (the agent's summary of a later prompt). */
  async updatePullRequestBody(repo: RepoRef, number: number, body: string): Promise<void> {
    const request = await this.app.repoRequest(repo, {pull_requests: 'write'})
    await call(`Editing pull request #${number} of ${repo.fullName}`, () => request('PATCH /repos/{owner}/{repo}/pulls/{pull_number}', {owner: repo.owner, repo: repo.name, pull_number: number, body}), `pull request #${number}`)
  }
}

/** The draft's description: the summary, then the closing keyword GitHub links the issue by. */
export function pullRequestBody(summary: string, issueNumber: number): string {
  const text = summary.trim() || 'Changes made by a DevFlow session.'
  return `${text}\n\nCloses #${issueNumber}`
}

function isNotFound(error: unknown): boolean {
  return (error as {code?: string}).code === 'GITHUB_NOT_FOUND'
}

/**
 * Runs one GitHub call and maps its failure: a 404 on `what` is GITHUB_NOT_FOUND (the issue or
 * comment is gone, not the App uninstalled: the token was minted for the repository just before),
 * 403 is GITHUB_FORBIDDEN naming the permission to grant, the rest as app.ts maps them.
 */
async function call<T>(action: string, run: () => Promise<T>, what?: string): Promise<T> {
  try {
    return await run()
  } catch (error) {
    const status = statusOf(error)
    if (status === 404) {
      throw notFound('GITHUB_NOT_FOUND', `${action} failed: GitHub has no ${what ?? 'such resource'} (HTTP 404).`, 'Check that it still exists; it may have been deleted or transferred.', {cause: error})
    }
    if (status === 403) {
      throw forbidden('GITHUB_FORBIDDEN', `${action} failed: GitHub refused (HTTP 403).`, 'Grant the DevFlow App Issues, Pull requests and Contents (write) and Metadata (read), then accept the new permissions on each installation.', {cause: error})
    }
    throw githubError(error, action)
  }
}

