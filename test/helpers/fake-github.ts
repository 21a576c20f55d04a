/**
 * A fake GitHub REST API on 127.0.0.1 for the GitHub App adapter and the control plane.
 *
 * State and behaviour, as GitHub's:
 * - `installations`: repository full name -> installation id. `GET /repos/{o}/{r}/installation`
 *   needs a valid App JWT (RS256, signed by the private key whose public half the fake holds,
 *   `iss` = the App id, not expired) and answers 404 for a repository without the App.
 * - `POST /app/installations/{id}/access_tokens` (App JWT) checks that every requested repository
 *   belongs to that installation and that permissions are given; it issues `ghs_...` tokens and
 *   remembers their repositories and permissions (`issuedTokens`).
 * - `POST /repos/{o}/{r}/pulls` needs an issued token for that repository with pull_requests:
 *   write; a second PR for the same head is 422, as on GitHub. `GET .../pulls?head=o:branch` lists.
 * - `failNext(pattern, status, times)` makes the next matching requests answer `status`.
 * - `issues` (fake-github-issues.ts): collaborator permissions, issues, issue comments with their
 *   edit history, and single pull requests (GET/PATCH); issues and pull requests share numbers.
 */
import {createPublicKey, generateKeyPairSync, randomBytes, verify} from 'node:crypto'
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'

import {FakeGithubIssues} from './fake-github-issues.js'

export interface IssuedToken {
  readonly token: string
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
}

export class FakeGithub {
  readonly appId = '4242'
  readonly privateKey: string
  readonly installations = new Map<string, number>()
  readonly issuedTokens: IssuedToken[] = []
  readonly pulls: FakePullRequest[] = []
  readonly requests: Array<{method: string; path: string}> = []
  readonly issues = new FakeGithubIssues(this.pulls, (authorization) => this.issuedTokens.find((t) => authorization === `token ${t.token}` || authorization === `Bearer ${t.token}`))
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
      fake.handle(req, res).catch((error: unknown) => send(res, 500, {message: String(error)}))
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

  failNext(pattern: RegExp, status: number, times = 1): void {
    this.faults.push({pattern, status, left: times})
  }

  reset(): void {
    this.installations.clear()
    this.issuedTokens.length = 0
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
      return send(res, fault.status, {message: `injected HTTP ${fault.status}`})
    }
    let match: RegExpExecArray | null
    if (method === 'GET' && (match = /^\/repos\/([^/]+)\/([^/]+)\/installation$/.exec(url.pathname))) {
      if (!this.validJwt(req)) return send(res, 401, {message: 'A JSON web token could not be decoded'})
      const id = this.installations.get(`${match[1]}/${match[2]}`)
      return id === undefined ? send(res, 404, {message: 'Not Found'}) : send(res, 200, {id, app_id: Number(this.appId)})
    }
    if (method === 'POST' && (match = /^\/app\/installations\/(\d+)\/access_tokens$/.exec(url.pathname))) {
      if (!this.validJwt(req)) return send(res, 401, {message: 'A JSON web token could not be decoded'})
      const installationId = Number(match[1])
      const request = body as {repositories?: string[]; permissions?: Record<string, string>}
      const owned = [...this.installations].filter(([, id]) => id === installationId).map(([repo]) => repo.split('/')[1])
      if (!request.repositories?.length || request.repositories.some((r) => !owned.includes(r))) {
        return send(res, 422, {message: 'There is at least one repository that does not exist or is not accessible to the parent installation.'})
      }
      if (!request.permissions || Object.keys(request.permissions).length === 0) return send(res, 422, {message: 'permissions are required'})
      const token = `ghs_${randomBytes(18).toString('hex')}`
      this.issuedTokens.push({token, installationId, repositories: request.repositories, permissions: request.permissions})
      return send(res, 201, {
        token,
        expires_at: new Date(Date.now() + 3600_000).toISOString(),
        permissions: request.permissions,
        repository_selection: 'selected',
      })
    }
    if ((match = /^\/repos\/([^/]+)\/([^/]+)\/pulls$/.exec(url.pathname))) {
      const repo = `${match[1]}/${match[2]}`
      const token = this.issuedTokens.find((t) => req.headers.authorization === `token ${t.token}`)
      if (!token) return send(res, 401, {message: 'Bad credentials'})
      if (!token.repositories.includes(match[2]) || token.permissions.pull_requests !== 'write') {
        return send(res, 403, {message: 'Resource not accessible by integration'})
      }
      if (method === 'GET') {
        const head = url.searchParams.get('head')
        return send(res, 200, this.pulls.filter((p) => p.repo === repo && (!head || `${match?.[1]}:${p.head}` === head)))
      }
      const request = body as {head: string; base: string; title: string; body: string; draft?: boolean}
      if (this.pulls.some((p) => p.repo === repo && p.head === request.head)) {
        return send(res, 422, {message: 'Validation Failed', errors: [{message: `A pull request already exists for ${match[1]}:${request.head}.`}]})
      }
      const number = this.issues.nextNumber(repo)
      const pr: FakePullRequest = {number, repo, head: request.head, base: request.base, title: request.title, body: request.body, draft: request.draft ?? false, html_url: `https://github.example/${repo}/pull/${number}`}
      this.pulls.push(pr)
      return send(res, 201, pr)
    }
    const issueRoute = this.issues.route(method, url.pathname, req.headers.authorization, body)
    if (issueRoute) return send(res, issueRoute.status, issueRoute.body)
    send(res, 404, {message: 'Not Found'})
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

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, {'content-type': 'application/json'})
  res.end(JSON.stringify(body))
}
