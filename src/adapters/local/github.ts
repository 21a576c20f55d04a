/**
 * Repository tokens and pull requests for `devflow local`, with the user's own GitHub credentials
 * instead of a GitHub App: GITHUB_TOKEN, else `gh auth token`. Repositories on this machine need no
 * token at all, and cannot have pull requests.
 */
import {execFile} from 'node:child_process'
import {promisify} from 'node:util'

import {forbidden, invalidInput, notFound, remoteFailure, unauthenticated, unavailable} from '../../core/errors.js'
import type {PullRequestOpener, PullRequestRequest, RepoToken, RepoTokenIssuer} from '../../core/ports.js'
import type {RepoRef} from '../../core/validation.js'

const run = promisify(execFile)
const TOKEN_HINT = 'Export GITHUB_TOKEN with a token that can read and push the repository, or run `gh auth login`, then `devflow local down && devflow local up`.'

export interface LocalGithubOptions {
  /** Whether `owner/name` is a repository on this machine (see LocalRepoRegistry). */
  readonly isLocalRepo: (repo: string) => boolean
  readonly githubToken?: string
  readonly apiUrl?: string
}

/** The user's GitHub token: the environment's, else the GitHub CLI's; undefined when neither. */
export async function userGithubToken(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  if (env.GITHUB_TOKEN) return env.GITHUB_TOKEN
  try {
    const {stdout} = await run('gh', ['auth', 'token'], {timeout: 10_000})
    return stdout.trim() || undefined
  } catch {
    // No gh, or not logged in: the issuer explains what to do when a GitHub repository needs it.
    return undefined
  }
}

async function github(options: LocalGithubOptions, method: string, path: string, body?: unknown): Promise<{status: number; json: Record<string, unknown>}> {
  if (!options.githubToken) throw unauthenticated('GITHUB_TOKEN_MISSING', 'No GitHub token is available to the local platform.', TOKEN_HINT)
  let response: Response
  try {
    response = await fetch(`${(options.apiUrl ?? 'https://api.github.com').replace(/\/+$/, '')}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${options.githubToken}`,
        accept: 'application/vnd.github+json',
        'x-github-api-version': '2022-11-28',
        'user-agent': 'devflow-local',
        ...(body === undefined ? {} : {'content-type': 'application/json'}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    })
  } catch (error) {
    throw unavailable('GITHUB_UNREACHABLE', `GitHub cannot be reached: ${(error as Error).message}`, 'Check your network connection and try again.', {cause: error})
  }
  const json = (await response.json().catch(() => ({}))) as Record<string, unknown>
  return {status: response.status, json}
}

export class LocalTokenIssuer implements RepoTokenIssuer {
  constructor(private readonly options: LocalGithubOptions) {}

  async mintRepoToken(repo: RepoRef): Promise<RepoToken> {
    // A repository on this machine is cloned by path: nothing to authorise.
    const expiresAt = new Date(Date.now() + 3600_000).toISOString()
    if (this.options.isLocalRepo(repo.fullName)) return {token: 'local-repository', expiresAt}
    const {status, json} = await github(this.options, 'GET', `/repos/${repo.fullName}`)
    if (status === 401) throw unauthenticated('GITHUB_TOKEN_REJECTED', 'GitHub rejected your token.', TOKEN_HINT)
    if (status === 404) throw notFound('REPO_NOT_FOUND', `Repository ${repo.fullName} does not exist or your GitHub token cannot see it.`, 'Check the name, or use a token with access to it.')
    if (status >= 400) throw remoteFailure('GITHUB_FAILED', `GitHub answered ${status} for ${repo.fullName}: ${String(json.message ?? '')}`, 'Try again in a moment.')
    const permissions = json.permissions as {push?: boolean} | undefined
    if (permissions && permissions.push === false) {
      throw forbidden('REPO_READ_ONLY', `Your GitHub token cannot push to ${repo.fullName}.`, 'Use a token with write access, or fork the repository and start a session on the fork.')
    }
    return {token: this.options.githubToken as string, expiresAt}
  }
}

export class LocalPullRequestOpener implements PullRequestOpener {
  constructor(private readonly options: LocalGithubOptions) {}

  async open(request: PullRequestRequest): Promise<{url: string; number: number}> {
    if (this.options.isLocalRepo(request.repo.fullName)) {
      throw invalidInput(
        'PR_NOT_SUPPORTED_FOR_LOCAL_REPO',
        `${request.repo.fullName} is a repository on this machine, so there is no pull request to open; the work is on branch ${request.head}.`,
        `Review it with \`git log ${request.base}..${request.head}\` in the repository, and send prompts with --pr none.`,
      )
    }
    const repo = request.repo.fullName
    const existing = await github(this.options, 'GET', `/repos/${repo}/pulls?state=open&head=${encodeURIComponent(`${request.repo.owner}:${request.head}`)}`)
    const open = (existing.json as unknown as {html_url: string; number: number}[] | undefined) ?? []
    if (existing.status === 200 && Array.isArray(open) && open.length > 0) return {url: open[0].html_url, number: open[0].number}
    const {status, json} = await github(this.options, 'POST', `/repos/${repo}/pulls`, {
      title: request.title,
      body: request.body,
      head: request.head,
      base: request.base,
      draft: request.draft,
    })
    if (status === 201) return {url: String(json.html_url), number: Number(json.number)}
    if (status === 401 || status === 403) throw forbidden('PR_FORBIDDEN', `GitHub refused to open a pull request on ${repo} (${status}).`, TOKEN_HINT)
    throw remoteFailure('PR_FAILED', `GitHub could not open the pull request on ${repo} (${status}): ${String(json.message ?? '')}`, 'Open it by hand from the branch, or try again.')
  }
}
