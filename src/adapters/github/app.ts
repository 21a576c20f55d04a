/**
 * The DevFlow GitHub App: repo-scoped installation tokens (RepoTokenIssuer) and pull requests
 * (PullRequestOpener). Authenticates with @octokit/auth-app against a configurable API base URL, so
 * GitHub Enterprise Server and the fake GitHub of the tests work the same way as github.com.
 */
import {createAppAuth} from '@octokit/auth-app'
import {request as octokitRequest} from '@octokit/request'
import * as z from 'zod'

import {type DevflowError, forbidden, notFound, remoteFailure, unavailable} from '../../core/errors.js'
import type {PullRequestOpener, PullRequestRequest, RepoToken, RepoTokenIssuer} from '../../core/ports.js'
import type {RepoRef} from '../../core/validation.js'

export const DEFAULT_GITHUB_API_URL = 'https://api.github.com'

/** The JSON document in the GitHub App secret (devflow/github-app). */
export const GithubAppSecret = z.object({
  appId: z.union([z.string().min(1), z.number().int().positive()]),
  privateKey: z.string().min(1),
  /** GitHub Enterprise Server: https://HOST/api/v3. */
  apiUrl: z.string().url().optional(),
  /** The App's webhook secret: X-Hub-Signature-256 is checked with it (adapters/github/webhook.ts). */
  webhookSecret: z.string().min(1).optional(),
})
export type GithubAppSecret = z.infer<typeof GithubAppSecret>

export type Octokit = typeof octokitRequest
type AppAuth = ReturnType<typeof createAppAuth>

interface Client {
  readonly request: Octokit
  readonly auth: AppAuth
}

const SETUP_HINT = 'Check the GitHub App secret (appId, privateKey, apiUrl) with `devflow doctor`.'

export class GithubApp implements RepoTokenIssuer, PullRequestOpener {
  private client: {key: string; value: Client} | undefined

  /**
   * @param loadSecret returns the App secret (a cached Secrets Manager read, or a local file)
   * @param defaultApiUrl used when the secret names no apiUrl (DEVFLOW_GITHUB_API_URL)
   */
  constructor(
    private readonly loadSecret: () => Promise<unknown>,
    private readonly defaultApiUrl: string = DEFAULT_GITHUB_API_URL,
  ) {}

  async mintRepoToken(repo: RepoRef): Promise<RepoToken> {
    return this.installationToken(repo, {contents: 'write'})
  }

  async open(pr: PullRequestRequest): Promise<{url: string; number: number}> {
    const token = await this.installationToken(pr.repo, {contents: 'read', pull_requests: 'write'})
    const {request} = await this.connect()
    return openPullRequest(request.defaults({headers: {authorization: `token ${token.token}`}}), pr)
  }

  /** The living comments are the App's: its bot user wrote them. */
  async isOwnComment(author: CommentAuthor): Promise<boolean> {
    return author?.type === 'Bot'
  }

  /**
   * An Octokit request function authenticated as the App's installation on `repo`, with a token
   * scoped to that one repository and `permissions` (cached by @octokit/auth-app until it nears
   * expiry). For the other GitHub clients of this folder (issues.ts), so the auth lives here once.
   */
  async repoRequest(repo: RepoRef, permissions: Record<string, 'read' | 'write'>): Promise<Octokit> {
    const token = await this.installationToken(repo, permissions, false)
    const {request} = await this.connect()
    return request.defaults({headers: {authorization: `token ${token.token}`}})
  }

  /** @param refresh a brand-new token (the workspace's credential helper wants the full hour) */
  private async installationToken(repo: RepoRef, permissions: Record<string, 'read' | 'write'>, refresh = true): Promise<RepoToken> {
    const {request, auth} = await this.connect()
    let installationId: number
    try {
      const app = await auth({type: 'app'})
      const found = await request('GET /repos/{owner}/{repo}/installation', {
        owner: repo.owner,
        repo: repo.name,
        headers: {authorization: `bearer ${app.token}`},
      })
      installationId = found.data.id
    } catch (error) {
      throw githubError(error, `Looking up the GitHub App installation for ${repo.fullName}`, repo)
    }
    try {
      const token = await auth({type: 'installation', installationId, repositoryNames: [repo.name], permissions, refresh})
      return {token: token.token, expiresAt: token.expiresAt}
    } catch (error) {
      throw githubError(error, `Creating a token for ${repo.fullName}`, repo)
    }
  }

  private async connect(): Promise<Client> {
    const parsed = GithubAppSecret.safeParse(await this.loadSecret())
    if (!parsed.success) {
      throw remoteFailure('GITHUB_APP_SECRET_INVALID', 'The GitHub App secret is not {"appId", "privateKey", "apiUrl"?}.', SETUP_HINT)
    }
    const secret = parsed.data
    const baseUrl = (secret.apiUrl ?? this.defaultApiUrl).replace(/\/+$/, '')
    const key = JSON.stringify([secret.appId, secret.privateKey, baseUrl])
    if (this.client?.key !== key) {
      const request = octokitRequest.defaults({baseUrl, headers: {'user-agent': 'devflow'}})
      this.client = {key, value: {request, auth: createAppAuth({appId: secret.appId, privateKey: secret.privateKey, request})}}
    }
    return this.client.value
  }
}

/** Who wrote a comment, as GitHub's comment JSON says (`user` may be null for a deleted account). */
export type CommentAuthor = {readonly login?: string; readonly type?: string} | null | undefined

/**
 * Opens a pull request with an authenticated request function, or answers the one already open
 * for its head branch (GitHub's 422). Shared by the App and the local user's token.
 */
export async function openPullRequest(request: Octokit, pr: PullRequestRequest): Promise<{url: string; number: number}> {
  try {
    const created = await request('POST /repos/{owner}/{repo}/pulls', {owner: pr.repo.owner, repo: pr.repo.name, head: pr.head, base: pr.base, title: pr.title, body: pr.body, draft: pr.draft})
    return {url: created.data.html_url, number: created.data.number}
  } catch (error) {
    if (statusOf(error) !== 422) throw githubError(error, `Opening a pull request on ${pr.repo.fullName}`)
    // 422: most often one is already open for this branch; that one is the answer.
    const existing = await request('GET /repos/{owner}/{repo}/pulls', {owner: pr.repo.owner, repo: pr.repo.name, head: `${pr.repo.owner}:${pr.head}`, state: 'open'}).catch((listError: unknown) => {
      throw githubError(listError, `Listing pull requests on ${pr.repo.fullName}`)
    })
    const open = existing.data[0]
    if (!open) throw githubError(error, `Opening a pull request on ${pr.repo.fullName}`)
    return {url: open.html_url, number: open.number}
  }
}

export function statusOf(error: unknown): number | undefined {
  const status = (error as {status?: unknown})?.status
  return typeof status === 'number' ? status : undefined
}

/** A GitHub API failure as the DevflowError the callers branch on (404 needs `repo` to be REPO_NOT_ACCESSIBLE). */
export function githubError(error: unknown, action: string, repo?: RepoRef): DevflowError {
  const status = statusOf(error)
  const detail = error instanceof Error ? error.message : String(error)
  if (status === 404 && repo) {
    return notFound(
      'REPO_NOT_ACCESSIBLE',
      `The DevFlow GitHub App cannot reach ${repo.fullName}: the repository does not exist or the App is not installed on it.`,
      `Check the name, then install the App on ${repo.fullName} (GitHub: Settings -> GitHub Apps -> Configure).`,
      {cause: error},
    )
  }
  if (status === 401) return remoteFailure('GITHUB_AUTH_FAILED', `${action} failed: GitHub rejected the App's credentials.`, SETUP_HINT, {cause: error})
  if (status === 403 || status === 422) {
    return forbidden('GITHUB_FORBIDDEN', `${action} failed: GitHub refused (HTTP ${status}): ${detail}`, 'Grant the App the permissions DevFlow needs (contents and pull requests: read and write).', {cause: error})
  }
  if (status === 429) return unavailable('GITHUB_RATE_LIMITED', `${action} failed: GitHub's rate limit was hit.`, 'Wait a minute and try again.', {cause: error})
  return remoteFailure('GITHUB_UNAVAILABLE', `${action} failed: GitHub answered ${status ? `HTTP ${status}` : 'with an error'}: ${detail}`, 'Check https://www.githubstatus.com (or your GitHub Enterprise Server) and try again.', {cause: error})
}
