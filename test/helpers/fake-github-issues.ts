/**
 * The issue side of the fake GitHub (test/helpers/fake-github.ts mounts it): what the webhook
 * flow needs, in the shapes of GitHub's REST API (field names and types checked against
 * @octokit/openapi-types, GitHub's own OpenAPI description).
 *
 * State and behaviour, as GitHub's:
 * - collaborators: `addCollaborator(repo, login, role)`. `GET /repos/{o}/{r}/collaborators/{u}/permission`
 *   answers `{permission, role_name, user}`: `permission` is the legacy base role (maintain -> write,
 *   triage -> read), `role_name` the role; a user who is no collaborator gets `none` (private
 *   repositories; GitHub says `read` for public ones). Any installation token of the repository may
 *   ask (the mandatory Metadata permission).
 * - issues: `openIssue(repo, ...)`. Issues and pull requests share one number sequence per
 *   repository (`nextNumber`); `GET /repos/{o}/{r}/issues/{n}` answers both, a pull request with its
 *   `pull_request` field. Needs a token with issues (or, for a pull request, pull_requests) read.
 * - comments: `POST /repos/{o}/{r}/issues/{n}/comments` (201), `GET` the same path (oldest first),
 *   `PATCH /repos/{o}/{r}/issues/comments/{id}` (200). Writing needs issues: write or
 *   pull_requests: write. Every edit keeps the previous body in `history`, so a test can tell one
 *   comment edited in place from a stream of new ones. The author is the App's bot user.
 * - pull requests (created by fake-github.ts): `GET /repos/{o}/{r}/pulls/{n}` in GitHub's shape
 *   (`head: {ref, sha, repo: {full_name}}`, `base`), `PATCH` it to change `title` and `body`
 *   (pull_requests: write); 404 for an unknown number, 422 for an empty title.
 */
import type {components} from '@octokit/openapi-types'

import type {FakePullRequest, IssuedToken} from './fake-github.js'

type Schemas = components['schemas']
type SimpleUser = Pick<Schemas['simple-user'], 'login' | 'id' | 'node_id' | 'type' | 'html_url'>
export type IssueJson = Pick<Schemas['issue'], 'id' | 'node_id' | 'number' | 'title' | 'body' | 'state' | 'html_url' | 'url' | 'comments' | 'created_at' | 'updated_at'> & {
  user: SimpleUser
  labels: Array<{name: string}>
  pull_request?: {url: string; html_url: string}
}
export type CommentJson = Pick<Schemas['issue-comment'], 'id' | 'node_id' | 'body' | 'html_url' | 'issue_url' | 'url' | 'created_at' | 'updated_at'> & {user: SimpleUser}
export type PermissionJson = Pick<Schemas['repository-collaborator-permission'], 'permission' | 'role_name'> & {user: SimpleUser}
export type PullJson = Pick<Schemas['pull-request'], 'number' | 'state' | 'title' | 'body' | 'draft' | 'html_url' | 'url'> & {
  head: {ref: string; sha: string; repo: {full_name: string}}
  base: {ref: string; repo: {full_name: string}}
}

export type Role = 'admin' | 'maintain' | 'write' | 'triage' | 'read'
const BASE_PERMISSION: Record<Role, string> = {admin: 'admin', maintain: 'write', write: 'write', triage: 'read', read: 'read'}

export interface FakeIssue {
  readonly repo: string
  readonly number: number
  title: string
  body: string | null
  state: 'open' | 'closed'
  readonly author: string
  readonly labels: string[]
  readonly createdAt: string
}

export interface FakeComment {
  readonly id: number
  readonly repo: string
  readonly issueNumber: number
  body: string
  readonly author: string
  readonly createdAt: string
  updatedAt: string
  /** The bodies it had before each edit, oldest first. */
  readonly history: string[]
}

export interface FakeResponse {
  readonly status: number
  readonly body: unknown
}

const WEB = 'https://github.example'
const API = 'https://api.github.example'

function userId(login: string): number {
  let hash = 0
  for (const char of login) hash = (hash * 31 + char.charCodeAt(0)) % 1_000_000
  return hash + 1
}

function user(login: string): SimpleUser {
  const bot = login.endsWith('[bot]')
  return {login, id: userId(login), node_id: `U_${userId(login)}`, type: bot ? 'Bot' : 'User', html_url: `${WEB}/${bot ? `apps/${login.replace('[bot]', '')}` : login}`}
}

const notFound: FakeResponse = {status: 404, body: {message: 'Not Found', documentation_url: 'https://docs.github.com/rest'}}
const badCredentials: FakeResponse = {status: 401, body: {message: 'Bad credentials'}}
const notAccessible: FakeResponse = {status: 403, body: {message: 'Resource not accessible by integration'}}

export class FakeGithubIssues {
  readonly issues: FakeIssue[] = []
  readonly comments: FakeComment[] = []
  /** `repo:login` (login lower-cased) -> role. */
  readonly collaborators = new Map<string, Role>()
  /** The login comments are made as: the App's bot user. */
  botLogin = 'devflow[bot]'
  private nextCommentId = 1_000_001

  /**
   * @param pulls the fake's pull requests (shared with fake-github.ts, which creates them)
   * @param tokenOf the installation token a request carries, if any
   */
  constructor(
    private readonly pulls: FakePullRequest[],
    private readonly tokenOf: (authorization: string | undefined) => IssuedToken | undefined,
  ) {}

  addCollaborator(repo: string, login: string, role: Role): void {
    this.collaborators.set(`${repo}:${login.toLowerCase()}`, role)
  }

  /** The next number of the repository's one sequence of issues and pull requests. */
  nextNumber(repo: string): number {
    const used = [...this.issues.filter((i) => i.repo === repo).map((i) => i.number), ...this.pulls.filter((p) => p.repo === repo).map((p) => p.number)]
    return Math.max(0, ...used) + 1
  }

  openIssue(repo: string, issue: {title: string; body?: string | null; author?: string; labels?: string[]}): FakeIssue {
    const created: FakeIssue = {
      repo,
      number: this.nextNumber(repo),
      title: issue.title,
      body: issue.body ?? null,
      state: 'open',
      author: issue.author ?? 'octocat',
      labels: issue.labels ?? [],
      createdAt: new Date().toISOString(),
    }
    this.issues.push(created)
    return created
  }

  commentsOn(repo: string, issueNumber: number): FakeComment[] {
    return this.comments.filter((c) => c.repo === repo && c.issueNumber === issueNumber)
  }

  reset(): void {
    this.issues.length = 0
    this.comments.length = 0
    this.collaborators.clear()
    this.nextCommentId = 1_000_001
  }

  /** Answers a request this module owns, else undefined (the caller goes on matching). */
  route(method: string, path: string, authorization: string | undefined, body: unknown): FakeResponse | undefined {
    let match: RegExpExecArray | null
    if (method === 'GET' && (match = /^\/repos\/([^/]+)\/([^/]+)\/collaborators\/([^/]+)\/permission$/.exec(path))) {
      return this.authorized(match, authorization, []) ?? this.permission(`${match[1]}/${match[2]}`, decodeURIComponent(match[3]))
    }
    if ((match = /^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)$/.exec(path)) && method === 'GET') {
      const repo = `${match[1]}/${match[2]}`
      const number = Number(match[3])
      const denied = this.authorized(match, authorization, this.isPull(repo, number) ? ['pull_requests', 'issues'] : ['issues'])
      if (denied) return denied
      const json = this.issueJson(repo, number)
      return json ? {status: 200, body: json} : notFound
    }
    if ((match = /^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/comments$/.exec(path))) {
      const repo = `${match[1]}/${match[2]}`
      const number = Number(match[3])
      if (method === 'GET') return this.authorized(match, authorization, ['issues', 'pull_requests']) ?? this.listComments(repo, number)
      if (method === 'POST') return this.authorized(match, authorization, ['issues', 'pull_requests'], 'write') ?? this.createComment(repo, number, body, this.tokenOf(authorization)?.login ?? this.botLogin)
    }
    if (method === 'PATCH' && (match = /^\/repos\/([^/]+)\/([^/]+)\/issues\/comments\/(\d+)$/.exec(path))) {
      return this.authorized(match, authorization, ['issues', 'pull_requests'], 'write') ?? this.editComment(`${match[1]}/${match[2]}`, Number(match[3]), body)
    }
    if ((match = /^\/repos\/([^/]+)\/([^/]+)\/pulls\/(\d+)$/.exec(path))) {
      const repo = `${match[1]}/${match[2]}`
      const index = this.pulls.findIndex((p) => p.repo === repo && p.number === Number(match?.[3]))
      if (method === 'GET') return this.authorized(match, authorization, ['pull_requests']) ?? (index < 0 ? notFound : {status: 200, body: this.pullJson(this.pulls[index])})
      if (method === 'PATCH') return this.authorized(match, authorization, ['pull_requests'], 'write') ?? this.editPull(index, body)
    }
    return undefined
  }

  /** The collaborator role of `login` on `repo`, if any. */
  roleOf(repo: string, login: string): Role | undefined {
    return this.collaborators.get(`${repo}:${login.toLowerCase()}`)
  }

  /** undefined when the token may do it; else the error GitHub gives. */
  private authorized(match: RegExpExecArray, authorization: string | undefined, anyOf: string[], level: 'read' | 'write' = 'read'): FakeResponse | undefined {
    const token = this.tokenOf(authorization)
    if (!token) return badCredentials
    if (token.login !== undefined) {
      // A user's token can do what the user's role on the repository lets the user do.
      const role = this.roleOf(`${match[1]}/${match[2]}`, token.login)
      if (!role) return notFound
      return level === 'write' && BASE_PERMISSION[role] === 'read' ? {status: 403, body: {message: 'Must have admin rights to Repository.'}} : undefined
    }
    if (!token.repositories.includes(match[2])) return notFound
    if (anyOf.length === 0) return undefined
    const granted = anyOf.some((name) => token.permissions[name] === 'write' || (level === 'read' && token.permissions[name] === 'read'))
    return granted ? undefined : notAccessible
  }

  private permission(repo: string, login: string): FakeResponse {
    const role = this.collaborators.get(`${repo}:${login.toLowerCase()}`)
    const json: PermissionJson = {permission: role ? BASE_PERMISSION[role] : 'none', role_name: role ?? 'none', user: user(login)}
    return {status: 200, body: json}
  }

  private isPull(repo: string, number: number): boolean {
    return this.pulls.some((p) => p.repo === repo && p.number === number)
  }

  private issueJson(repo: string, number: number): IssueJson | undefined {
    const issue = this.issues.find((i) => i.repo === repo && i.number === number)
    const pull = this.pulls.find((p) => p.repo === repo && p.number === number)
    const comments = this.commentsOn(repo, number).length
    if (issue) {
      return {
        id: 50_000 + number,
        node_id: `I_${repo}#${number}`,
        number,
        title: issue.title,
        body: issue.body,
        state: issue.state,
        user: user(issue.author),
        labels: issue.labels.map((name) => ({name})),
        html_url: `${WEB}/${repo}/issues/${number}`,
        url: `${API}/repos/${repo}/issues/${number}`,
        comments,
        created_at: issue.createdAt,
        updated_at: issue.createdAt,
      }
    }
    if (!pull) return undefined
    return {
      id: 60_000 + number,
      node_id: `PR_${repo}#${number}`,
      number,
      title: pull.title,
      body: pull.body,
      state: 'open',
      user: user(this.botLogin),
      labels: [],
      html_url: pull.html_url,
      url: `${API}/repos/${repo}/issues/${number}`,
      comments,
      created_at: pull.created_at,
      updated_at: pull.created_at,
      pull_request: {url: `${API}/repos/${repo}/pulls/${number}`, html_url: pull.html_url},
    }
  }

  private commentJson(comment: FakeComment): CommentJson {
    return {
      id: comment.id,
      node_id: `IC_${comment.id}`,
      body: comment.body,
      user: user(comment.author),
      html_url: `${WEB}/${comment.repo}/issues/${comment.issueNumber}#issuecomment-${comment.id}`,
      issue_url: `${API}/repos/${comment.repo}/issues/${comment.issueNumber}`,
      url: `${API}/repos/${comment.repo}/issues/comments/${comment.id}`,
      created_at: comment.createdAt,
      updated_at: comment.updatedAt,
    }
  }

  private listComments(repo: string, number: number): FakeResponse {
    if (!this.issueJson(repo, number)) return notFound
    return {status: 200, body: this.commentsOn(repo, number).map((c) => this.commentJson(c))}
  }

  private createComment(repo: string, number: number, body: unknown, author: string): FakeResponse {
    if (!this.issueJson(repo, number)) return notFound
    const text = (body as {body?: unknown} | undefined)?.body
    if (typeof text !== 'string' || text === '') return {status: 422, body: {message: 'Validation Failed', errors: [{resource: 'IssueComment', code: 'missing_field', field: 'body'}]}}
    if (text.length > 65_536) return {status: 422, body: {message: 'Validation Failed', errors: [{resource: 'IssueComment', code: 'custom', field: 'body', message: 'body is too long (maximum is 65536 characters)'}]}}
    const now = new Date().toISOString()
    const comment: FakeComment = {id: this.nextCommentId++, repo, issueNumber: number, body: text, author, createdAt: now, updatedAt: now, history: []}
    this.comments.push(comment)
    return {status: 201, body: this.commentJson(comment)}
  }

  private editComment(repo: string, id: number, body: unknown): FakeResponse {
    const comment = this.comments.find((c) => c.repo === repo && c.id === id)
    if (!comment) return notFound
    const text = (body as {body?: unknown} | undefined)?.body
    if (typeof text !== 'string' || text === '') return {status: 422, body: {message: 'Validation Failed', errors: [{resource: 'IssueComment', code: 'missing_field', field: 'body'}]}}
    if (text.length > 65_536) return {status: 422, body: {message: 'Validation Failed', errors: [{resource: 'IssueComment', code: 'custom', field: 'body', message: 'body is too long (maximum is 65536 characters)'}]}}
    comment.history.push(comment.body)
    comment.body = text
    comment.updatedAt = new Date().toISOString()
    return {status: 200, body: this.commentJson(comment)}
  }

  private pullJson(pull: FakePullRequest): PullJson {
    return {
      number: pull.number,
      state: 'open',
      title: pull.title,
      body: pull.body,
      draft: pull.draft,
      html_url: pull.html_url,
      url: `${API}/repos/${pull.repo}/pulls/${pull.number}`,
      head: {ref: pull.head, sha: '0'.repeat(40), repo: {full_name: pull.repo}},
      base: {ref: pull.base, repo: {full_name: pull.repo}},
    }
  }

  private editPull(index: number, body: unknown): FakeResponse {
    if (index < 0) return notFound
    const changes = (body ?? {}) as {title?: unknown; body?: unknown}
    if (changes.title !== undefined && (typeof changes.title !== 'string' || changes.title === '')) {
      return {status: 422, body: {message: 'Validation Failed', errors: [{resource: 'PullRequest', code: 'missing_field', field: 'title'}]}}
    }
    const current = this.pulls[index]
    this.pulls[index] = {
      ...current,
      ...(typeof changes.title === 'string' ? {title: changes.title} : {}),
      ...(typeof changes.body === 'string' ? {body: changes.body} : {}),
    }
    return {status: 200, body: this.pullJson(this.pulls[index])}
  }
}
