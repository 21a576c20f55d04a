/**
 * The GitHub work path's calls (GithubIssues) with the local user's own token instead of an App:
 * `devflow local` takes webhooks too, and its comments and pull requests are the user's. The token
 * is GITHUB_TOKEN or `gh auth token` (adapters/local/github.ts finds it); the API base URL is
 * GITHUB_API_URL's (GitHub Enterprise Server, the fake GitHub of the tests) or api.github.com.
 */
import {request as octokitRequest} from '@octokit/request'

import {unauthenticated} from '../../core/errors.js'
import type {PullRequestRequest} from '../../core/ports.js'
import type {RepoRef} from '../../core/validation.js'
import {type CommentAuthor, DEFAULT_GITHUB_API_URL, githubError, type Octokit, openPullRequest} from './app.js'
import type {GithubRequests} from './issues.js'

const TOKEN_HINT = 'Export GITHUB_TOKEN with a token that can comment and open pull requests on the repository, or run `gh auth login`, then `devflow local down && devflow local up`.'

export class UserTokenGithub implements GithubRequests {
  private login: Promise<string> | undefined

  constructor(
    private readonly token: string | undefined,
    private readonly apiUrl: string = DEFAULT_GITHUB_API_URL,
  ) {}

  /** One token for every repository the user reaches: GitHub checks the user's own permissions. */
  async repoRequest(_repo: RepoRef, _permissions: Record<string, 'read' | 'write'>): Promise<Octokit> {
    return this.request()
  }

  async open(pr: PullRequestRequest): Promise<{url: string; number: number}> {
    return openPullRequest(this.request(), pr)
  }

  /** The living comments are the user's own: the token's login wrote them. */
  async isOwnComment(author: CommentAuthor): Promise<boolean> {
    return author?.login !== undefined && author.login.toLowerCase() === (await this.tokenLogin()).toLowerCase()
  }

  private tokenLogin(): Promise<string> {
    this.login ??= this.request()('GET /user').then(
      (out) => out.data.login,
      (error: unknown) => {
        this.login = undefined
        throw githubError(error, 'Reading whose GitHub token the local platform has')
      },
    )
    return this.login
  }

  private request(): Octokit {
    if (!this.token) throw unauthenticated('GITHUB_TOKEN_MISSING', 'No GitHub token is available to the local platform, so it cannot answer GitHub webhooks.', TOKEN_HINT)
    return octokitRequest.defaults({baseUrl: this.apiUrl.replace(/\/+$/, ''), headers: {'user-agent': 'devflow-local', authorization: `token ${this.token}`}})
  }
}
