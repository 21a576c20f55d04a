/**
 * A fake GitHub REST API on 127.0.0.1 for the GitHub App adapter and the control plane. Its
 * answers carry the fields of GitHub's OpenAPI description (@octokit/openapi-types, checked by
 * tsc) that a client may read; fake-github.test.ts holds it to that.
 *
 * State and behaviour, as GitHub's:
 * - `installations`: repository full name -> installation id. `GET /repos/{o}/{r}/installation`
 *   needs a valid App JWT (RS256, signed by the private key whose public half the fake holds,
 *   `iss` = the App id, not expired) and answers the installation, or 404 for a repository
 *   without the App.
 * - `POST /app/installations/{id}/access_tokens` (App JWT) answers 404 for an unknown
 *   installation, 422 unless every requested repository belongs to it; it issues `ghs_...` tokens
 *   valid for an hour and remembers their repositories and permissions (`issuedTokens`). Stricter
 *   than GitHub on purpose: a request without `repositories` or `permissions` (GitHub would grant
 *   all of the installation's) is 422, so DevFlow cannot forget to scope a token.
 * - `POST /repos/{o}/{r}/pulls` needs an issued token for that repository with pull_requests:
 *   write (401 without a known token, 403 without the grant); a second PR for the same head is
 *   422, as on GitHub. `GET .../pulls?head=o:branch` lists. `pulls` records what was opened.
 * - Errors are `{message, documentation_url}` (422: plus `errors`), as GitHub's.
 * - `userToken(login)` issues a user's personal token (the local platform's credentials): it acts
 *   as that user (`GET /user`, `GET /repos/{o}/{r}` with its `permissions`, comments authored by
 *   the user) on what the user's collaborator role allows.
 * - `failNext(pattern, status, times)` makes the next matching requests answer `status`;
 *   `reset()` forgets installations, tokens, pull requests, issues, requests and faults.
 * - `issues` (fake-github-issues.ts): collaborator permissions, issues, issue comments with their
 *   edit history, and single pull requests (GET/PATCH); issues and pull requests share one number
 *   sequence per repository, as on GitHub.
 */
import {createPublicKey, generateKeyPairSync, randomBytes, verify} from 'node:crypto'
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'

import type {components} from '@octokit/openapi-types'

type Schemas = components['schemas']
type PullRequestRef = Pick<Schemas['pull-request']['head'], 'label' | 'ref'>
/** The fields of GitHub's pull request (and pull-request-simple) that the fake fills in. */
export type PullRequestResponse = Pick<
  Schemas['pull-request'],
  'url' | 'id' | 'node_id' | 'html_url' | 'number' | 'state' | 'locked' | 'title' | 'body' | 'draft' | 'created_at' | 'updated_at' | 'closed_at' | 'merged_at'
> & {head: PullRequestRef; base: PullRequestRef}
/** The fields of GitHub's installation that the fake fills in. */
export type InstallationResponse = Pick<
  Schemas['installation'],
  | 'id'
  | 'app_id'
  | 'app_slug'
  | 'target_id'
  | 'target_type'
  | 'repository_selection'
  | 'access_tokens_url'
  | 'repositories_url'
  | 'html_url'
  | 'permissions'
  | 'events'
  | 'created_at'
  | 'updated_at'
  | 'single_file_name'
  | 'suspended_by'
  | 'suspended_at'
> & {account: Pick<Schemas['simple-user'], 'login' | 'id' | 'type'>}
export type InstallationTokenResponse = Pick<Schemas['installation-token'], 'token' | 'expires_at' | 'permissions' | 'repository_selection'>

import {FakeGithubIssues} from './fake-github-issues.js'

const DOCS = 'https://docs.github.com/rest'

export interface IssuedToken {
  readonly token: string
  /** Set for a user's personal token (`userToken`): it acts as that user, on what the user's role allows. */
  readonly login?: string
  readonly installationId: number
  readonly repositories: string[]
  readonly permissions: Record<string, string>
}

export interface FakePullRequest {
  readonly number: number
  readonly repo: string
  readonly head: string
  readonly base: string
  readonly title: string
  readonly body: string
  readonly draft: boolean
  readonly html_url: string
  readonly created_at: string
}

export class FakeGithub {
  readonly appId = '4242'
  readonly privateKey: string
  readonly installations = new Map<string, number>()
  readonly issuedTokens: IssuedToken[] = []
  readonly pulls: FakePullRequest[] = []
  readonly requests: Array<{method: string; path: string}> = []
  /** Personal tokens: token -> the user's login. */
  readonly userTokens = new Map<string, string>()
  readonly issues = new FakeGithubIssues(this.pulls, (authorization) => this.tokenOf(authorization))
  url = ''
  private readonly publicKey: string
  private readonly faults: Array<{pattern: RegExp; status: number; left: number}> = []
  private server?: Server

  private constructor() {
    const pair = generateKeyPairSync('rsa', {modulusLength: 2048})
    this.privateKey = pair.privateKey.export({type: 'pkcs1', format: 'pem'}).toString()
    this.publicKey = pair.publicKey.export({type: 'spki', format: 'pem'}).toString()
  }

  static async start(): Promise<FakeGithub> {
    const fake = new FakeGithub()
    fake.server = createServer((req, res) => {
      fake.handle(req, res).catch((failure: unknown) => send(res, 500, error(String(failure))))
    })
    await new Promise<void>((resolve) => fake.server?.listen(0, '127.0.0.1', resolve))
    fake.url = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}`
    return fake
  }

  /** The JSON of the GitHub App secret pointing at this fake. */
  secret(): {appId: string; privateKey: string; apiUrl: string} {
    return {appId: this.appId, privateKey: this.privateKey, apiUrl: this.url}
  }

  install(repo: string, installationId = 1000 + this.installations.size): void {
    this.installations.set(repo, installationId)
  }

  /** A personal access token of `login` (classic, `repo` scope): what the local platform uses instead of the App. */
  userToken(login: string): string {
    const token = `ghp_${randomBytes(18).toString('hex')}`
    this.userTokens.set(token, login)
    return token
  }

  /** The installation token or user token an Authorization header carries. */
  tokenOf(authorization: string | undefined): IssuedToken | undefined {
    const value = /^(?:token|Bearer) (.+)$/.exec(authorization ?? '')?.[1]
    if (!value) return undefined
    const login = this.userTokens.get(value)
    if (login !== undefined) return {token: value, login, installationId: 0, repositories: [], permissions: {}}
    return this.issuedTokens.find((t) => t.token === value)
  }

  failNext(pattern: RegExp, status: number, times = 1): void {
    this.faults.push({pattern, status, left: times})
  }

  reset(): void {
    this.installations.clear()
    this.issuedTokens.length = 0
    this.userTokens.clear()
    this.pulls.length = 0
    this.requests.length = 0
    this.faults.length = 0
    this.issues.reset()
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server?.close(() => resolve())
      this.server?.closeAllConnections()
    })
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url)
    const method = req.method ?? 'GET'
    this.requests.push({method, path: url.pathname})
    const body = await readJson(req)
    const fault = this.faults.find((f) => f.left > 0 && f.pattern.test(`${method} ${url.pathname}`))
    if (fault) {
      fault.left--
      return send(res, fault.status, error(`injected HTTP ${fault.status}`))
    }
    let match: RegExpExecArray | null
    if (method === 'GET' && (match = /^\/repos\/([^/]+)\/([^/]+)\/installation$/.exec(url.pathname))) {
      if (!this.validJwt(req)) return send(res, 401, error('A JSON web token could not be decoded'))
      const id = this.installations.get(`${match[1]}/${match[2]}`)
      return id === undefined ? send(res, 404, error('Not Found')) : send(res, 200, this.installation(id, match[1]))
    }
    if (method === 'POST' && (match = /^\/app\/installations\/(\d+)\/access_tokens$/.exec(url.pathname))) {
      if (!this.validJwt(req)) return send(res, 401, error('A JSON web token could not be decoded'))
      const installationId = Number(match[1])
      const owned = [...this.installations].filter(([, id]) => id === installationId).map(([repo]) => repo.split('/')[1])
      if (owned.length === 0) return send(res, 404, error('Not Found'))
      const request = body as {repositories?: string[]; permissions?: Record<string, string>}
      if (!request.repositories?.length || request.repositories.some((r) => !owned.includes(r))) {
        return send(res, 422, {...error('There is at least one repository that does not exist or is not accessible to the parent installation.'), errors: [{resource: 'InstallationToken', field: 'repositories', code: 'invalid'}]})
      }
      if (!request.permissions || Object.keys(request.permissions).length === 0) {
        return send(res, 422, {...error('permissions are required'), errors: [{resource: 'InstallationToken', field: 'permissions', code: 'missing_field'}]})
      }
      const token = `ghs_${randomBytes(18).toString('hex')}`
      this.issuedTokens.push({token, installationId, repositories: request.repositories, permissions: request.permissions})
      const issued: InstallationTokenResponse = {
        token,
        expires_at: new Date(Date.now() + 3600_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        permissions: request.permissions,
        repository_selection: 'selected',
      }
      return send(res, 201, issued)
    }
    if (method === 'GET' && url.pathname === '/user') {
      const token = this.tokenOf(req.headers.authorization)
      if (!token) return send(res, 401, error('Bad credentials'))
      if (token.login === undefined) return send(res, 403, error('Resource not accessible by integration'))
      return send(res, 200, {login: token.login, id: 1, type: 'User', html_url: `https://github.example/${token.login}`})
    }
    if (method === 'GET' && (match = /^\/repos\/([^/]+)\/([^/]+)$/.exec(url.pathname))) {
      const repo = `${match[1]}/${match[2]}`
      const token = this.tokenOf(req.headers.authorization)
      if (!token) return send(res, 401, error('Bad credentials'))
      const role = token.login === undefined ? undefined : this.issues.roleOf(repo, token.login)
      if (token.login === undefined ? !token.repositories.includes(match[2]) : !role) return send(res, 404, error('Not Found'))
      const push = role === undefined ? token.permissions.contents === 'write' : !['read', 'triage'].includes(role)
      return send(res, 200, {id: 1, name: match[2], full_name: repo, private: false, default_branch: 'main', permissions: {admin: role === 'admin', maintain: role === 'admin' || role === 'maintain', push, triage: true, pull: true}})
    }
    if ((match = /^\/repos\/([^/]+)\/([^/]+)\/pulls$/.exec(url.pathname))) {
      const [owner, name] = [match[1], match[2]]
      const repo = `${owner}/${name}`
      const token = this.tokenOf(req.headers.authorization)
      if (!token) return send(res, 401, error('Bad credentials'))
      const role = token.login === undefined ? undefined : this.issues.roleOf(repo, token.login)
      const mayWrite = token.login === undefined ? token.repositories.includes(name) && token.permissions.pull_requests === 'write' : role !== undefined && !['read', 'triage'].includes(role)
      if (!mayWrite) {
        return send(res, 403, error('Resource not accessible by integration'))
      }
      if (method === 'GET') {
        const head = url.searchParams.get('head')
        return send(res, 200, this.pulls.filter((p) => p.repo === repo && (!head || `${owner}:${p.head}` === head)).map((p) => this.pullResponse(p)))
      }
      const request = body as {head: string; base: string; title: string; body: string; draft?: boolean}
      if (this.pulls.some((p) => p.repo === repo && p.head === request.head)) {
        return send(res, 422, {...error('Validation Failed'), errors: [{resource: 'PullRequest', code: 'custom', message: `A pull request already exists for ${owner}:${request.head}.`}]})
      }
      const number = this.issues.nextNumber(repo)
      const pr: FakePullRequest = {
        number,
        repo,
        head: request.head,
        base: request.base,
        title: request.title,
        body: request.body,
        draft: request.draft ?? false,
        html_url: `https://github.example/${repo}/pull/${number}`,
        created_at: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      }
      this.pulls.push(pr)
      return send(res, 201, this.pullResponse(pr))
    }
    const issueRoute = this.issues.route(method, url.pathname, req.headers.authorization, body)
    if (issueRoute) return send(res, issueRoute.status, issueRoute.body)
    send(res, 404, error('Not Found'))
  }

  private installation(id: number, owner: string): InstallationResponse {
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z')
    return {
      id,
      app_id: Number(this.appId),
      app_slug: 'devflow',
      account: {login: owner, id: 1, type: 'Organization'},
      target_id: 1,
      target_type: 'Organization',
      repository_selection: 'selected',
      access_tokens_url: `${this.url}/app/installations/${id}/access_tokens`,
      repositories_url: `${this.url}/installation/repositories`,
      html_url: `https://github.example/organizations/${owner}/settings/installations/${id}`,
      permissions: {contents: 'write', pull_requests: 'write', metadata: 'read'},
      events: [],
      created_at: now,
      updated_at: now,
      single_file_name: null,
      suspended_by: null,
      suspended_at: null,
    }
  }

  private pullResponse(pr: FakePullRequest): PullRequestResponse {
    const [owner] = pr.repo.split('/')
    return {
      url: `${this.url}/repos/${pr.repo}/pulls/${pr.number}`,
      id: 100_000 + pr.number,
      node_id: `PR_fake${pr.number}`,
      html_url: pr.html_url,
      number: pr.number,
      state: 'open',
      locked: false,
      title: pr.title,
      body: pr.body,
      draft: pr.draft,
      created_at: pr.created_at,
      updated_at: pr.created_at,
      closed_at: null,
      merged_at: null,
      head: {label: `${owner}:${pr.head}`, ref: pr.head},
      base: {label: `${owner}:${pr.base}`, ref: pr.base},
    }
  }

  private validJwt(req: IncomingMessage): boolean {
    const match = /^bearer (.+)$/i.exec(req.headers.authorization ?? '')
    if (!match) return false
    const [header, payload, signature] = match[1].split('.')
    if (!header || !payload || !signature) return false
    const ok = verify('RSA-SHA256', Buffer.from(`${header}.${payload}`), createPublicKey(this.publicKey), Buffer.from(signature, 'base64url'))
    if (!ok) return false
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as {iss?: string | number; exp?: number}
    return String(claims.iss) === this.appId && (claims.exp ?? 0) > Date.now() / 1000
  }
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  const text = Buffer.concat(chunks).toString('utf8')
  return text ? JSON.parse(text) : undefined
}

/** GitHub's error body (basic-error; validation-error adds `errors`). */
function error(message: string): Required<Pick<Schemas['validation-error'], 'message' | 'documentation_url'>> {
  return {message, documentation_url: DOCS}
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, {'content-type': 'application/json'})
  res.end(JSON.stringify(body))
}
