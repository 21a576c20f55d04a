/**
 * The fake GitHub's own contract: it answers as GitHub's REST API documents (the App JWT check,
 * `GET /repos/{owner}/{repo}/installation`, `POST /app/installations/{id}/access_tokens`,
 * `POST`/`GET /repos/{owner}/{repo}/pulls`, error bodies), over real HTTP on 127.0.0.1.
 */
import {generateKeyPairSync, sign} from 'node:crypto'

import {expect} from 'chai'

import {FakeGithub} from './fake-github.js'

const ISO_SECONDS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url')
}

/** An App JWT as GitHub documents it: RS256, `iss` the App id, `iat` and `exp` (at most 10 minutes). */
function appJwt(privateKey: string, claims: {iss?: string; exp?: number} = {}): string {
  const now = Math.floor(Date.now() / 1000)
  const header = base64url({alg: 'RS256', typ: 'JWT'})
  const payload = base64url({iat: now - 60, exp: now + 540, ...claims})
  const signature = sign('RSA-SHA256', Buffer.from(`${header}.${payload}`), privateKey).toString('base64url')
  return `${header}.${payload}.${signature}`
}

describe('test helper: the fake GitHub', () => {
  let github: FakeGithub
  let jwt: string

  before(async () => {
    github = await FakeGithub.start()
  })
  after(() => github.close())
  beforeEach(() => {
    github.reset()
    github.install('octo/hello', 1001)
    github.install('octo/other', 1001)
    github.install('elsewhere/thing', 2002)
    jwt = appJwt(github.privateKey, {iss: github.appId})
  })

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- response JSON, asserted field by field
  async function call(method: string, path: string, authorization?: string, body?: unknown): Promise<{status: number; body: any}> {
    const headers: Record<string, string> = {accept: 'application/vnd.github+json'}
    if (authorization) headers.authorization = authorization
    if (body !== undefined) headers['content-type'] = 'application/json'
    const response = await fetch(`${github.url}${path}`, {method, headers, body: body === undefined ? undefined : JSON.stringify(body)})
    expect(response.headers.get('content-type')).to.match(/^application\/json/)
    return {status: response.status, body: await response.json()}
  }

  async function installationToken(permissions: Record<string, string> = {contents: 'write', pull_requests: 'write'}, repositories = ['hello']): Promise<string> {
    const issued = await call('POST', '/app/installations/1001/access_tokens', `Bearer ${jwt}`, {repositories, permissions})
    expect(issued.status, JSON.stringify(issued.body)).to.equal(201)
    return issued.body.token
  }

  /** GitHub's error body: basic-error `{message, documentation_url}`, validation-error adding `errors`. */
  function expectGithubError(body: unknown, message: string | RegExp): void {
    expect(Object.keys(body as object).filter((key) => key !== 'errors')).to.have.members(['message', 'documentation_url'])
    const {message: actual, documentation_url: docs} = body as {message: string; documentation_url: string}
    if (typeof message === 'string') expect(actual).to.equal(message)
    else expect(actual).to.match(message)
    expect(docs).to.match(/^https:\/\/docs\.github\.com\//)
  }

  describe('the App JWT', () => {
    it('is required, as GitHub answers 401 without one', async () => {
      const response = await call('GET', '/repos/octo/hello/installation')
      expect(response.status).to.equal(401)
      expectGithubError(response.body, 'A JSON web token could not be decoded')
    })

    it('must be signed by the App key, name the App as issuer and not be expired', async () => {
      const otherKey = generateKeyPairSync('rsa', {modulusLength: 2048}).privateKey.export({type: 'pkcs1', format: 'pem'}).toString()
      const refused = [
        appJwt(otherKey, {iss: github.appId}),
        appJwt(github.privateKey, {iss: '9999'}),
        appJwt(github.privateKey, {iss: github.appId, exp: Math.floor(Date.now() / 1000) - 1}),
        'not.a.jwt',
      ]
      for (const token of refused) {
        const response = await call('GET', '/repos/octo/hello/installation', `Bearer ${token}`)
        expect(response.status, token).to.equal(401)
      }
      expect((await call('GET', '/repos/octo/hello/installation', `Bearer ${jwt}`)).status).to.equal(200)
    })

    it('is what the access token route checks too', async () => {
      const response = await call('POST', '/app/installations/1001/access_tokens', `Bearer ${appJwt(github.privateKey, {iss: '1'})}`, {repositories: ['hello'], permissions: {contents: 'read'}})
      expect(response.status).to.equal(401)
      expect(github.issuedTokens).to.deep.equal([])
    })
  })

  describe('GET /repos/{owner}/{repo}/installation', () => {
    it("answers the repository's installation with GitHub's fields", async () => {
      const {status, body} = await call('GET', '/repos/octo/hello/installation', `Bearer ${jwt}`)
      expect(status).to.equal(200)
      expect(body).to.include({id: 1001, app_id: Number(github.appId), target_type: 'Organization', repository_selection: 'selected'})
      expect(body.account).to.include({login: 'octo', type: 'Organization'})
      expect(body.access_tokens_url).to.equal(`${github.url}/app/installations/1001/access_tokens`)
      expect(body.permissions).to.be.an('object')
      expect(body.events).to.be.an('array')
      expect(body.created_at).to.match(ISO_SECONDS)
      expect(body).to.include.all.keys('repositories_url', 'html_url', 'app_slug', 'updated_at', 'single_file_name', 'suspended_by', 'suspended_at')
    })

    it('answers 404 Not Found for a repository without the App', async () => {
      const response = await call('GET', '/repos/octo/private/installation', `Bearer ${jwt}`)
      expect(response.status).to.equal(404)
      expectGithubError(response.body, 'Not Found')
    })
  })

  describe('POST /app/installations/{id}/access_tokens', () => {
    it('issues a ghs_ token for an hour, scoped to the repositories and permissions asked for', async () => {
      const before = Date.now()
      const {status, body} = await call('POST', '/app/installations/1001/access_tokens', `Bearer ${jwt}`, {repositories: ['hello', 'other'], permissions: {contents: 'write'}})
      expect(status).to.equal(201)
      expect(body).to.have.all.keys('token', 'expires_at', 'permissions', 'repository_selection')
      expect(body.token).to.match(/^ghs_[0-9a-f]{36}$/)
      expect(body.expires_at).to.match(ISO_SECONDS)
      expect(Date.parse(body.expires_at) - before).to.be.within(3590_000, 3610_000)
      expect(body.permissions).to.deep.equal({contents: 'write'})
      expect(body.repository_selection).to.equal('selected')
      expect(github.issuedTokens).to.deep.equal([{token: body.token, installationId: 1001, repositories: ['hello', 'other'], permissions: {contents: 'write'}}])
    })

    it('answers 422 for a repository outside the installation, with a validation error body', async () => {
      const response = await call('POST', '/app/installations/1001/access_tokens', `Bearer ${jwt}`, {repositories: ['thing'], permissions: {contents: 'read'}})
      expect(response.status).to.equal(422)
      expectGithubError(response.body, /not accessible to the parent installation/)
      expect(response.body.errors[0]).to.have.property('code').that.is.a('string')
      expect(github.issuedTokens).to.deep.equal([])
    })

    it('refuses an unscoped request (stricter than GitHub, on purpose): no repositories, or no permissions', async () => {
      for (const body of [{permissions: {contents: 'read'}}, {repositories: ['hello']}, {repositories: ['hello'], permissions: {}}]) {
        const response = await call('POST', '/app/installations/1001/access_tokens', `Bearer ${jwt}`, body)
        expect(response.status, JSON.stringify(body)).to.equal(422)
        expect(response.body.errors[0].code).to.be.a('string')
      }
    })

    it('answers 404 for an installation that does not exist', async () => {
      const response = await call('POST', '/app/installations/4040/access_tokens', `Bearer ${jwt}`, {repositories: ['hello'], permissions: {contents: 'read'}})
      expect(response.status).to.equal(404)
      expectGithubError(response.body, 'Not Found')
    })
  })

  describe('/repos/{owner}/{repo}/pulls', () => {
    it("opens a pull request and answers it with GitHub's fields", async () => {
      const token = await installationToken()
      const {status, body} = await call('POST', '/repos/octo/hello/pulls', `token ${token}`, {head: 'devflow/s-1', base: 'main', title: 'Add health', body: 'Details', draft: true})
      expect(status).to.equal(201)
      expect(body).to.include({number: 1, state: 'open', locked: false, title: 'Add health', body: 'Details', draft: true, html_url: 'https://github.example/octo/hello/pull/1'})
      expect(body.url).to.equal(`${github.url}/repos/octo/hello/pulls/1`)
      expect(body.id).to.be.a('number')
      expect(body.node_id).to.be.a('string')
      expect(body.head).to.deep.equal({label: 'octo:devflow/s-1', ref: 'devflow/s-1'})
      expect(body.base).to.deep.equal({label: 'octo:main', ref: 'main'})
      expect(body.created_at).to.match(ISO_SECONDS)
      expect(body).to.include({closed_at: null, merged_at: null})
      expect(github.pulls).to.have.length(1)
      expect(github.pulls[0]).to.include({number: 1, repo: 'octo/hello', head: 'devflow/s-1', base: 'main', title: 'Add health', draft: true})
    })

    it('is not a draft unless asked', async () => {
      const token = await installationToken()
      const {body} = await call('POST', '/repos/octo/hello/pulls', `token ${token}`, {head: 'feature', base: 'main', title: 'T', body: ''})
      expect(body.draft).to.equal(false)
    })

    it('answers 422 Validation Failed for a second pull request from the same head, and lists the open one by head', async () => {
      const token = await installationToken()
      const request = {head: 'devflow/s-2', base: 'main', title: 'First', body: ''}
      await call('POST', '/repos/octo/hello/pulls', `token ${token}`, request)
      const again = await call('POST', '/repos/octo/hello/pulls', `token ${token}`, {...request, title: 'Second'})
      expect(again.status).to.equal(422)
      expectGithubError(again.body, 'Validation Failed')
      expect(again.body.errors).to.deep.equal([{resource: 'PullRequest', code: 'custom', message: 'A pull request already exists for octo:devflow/s-2.'}])
      const listed = await call('GET', '/repos/octo/hello/pulls?head=octo:devflow/s-2', `token ${token}`)
      expect(listed.status).to.equal(200)
      expect(listed.body.map((p: {number: number; title: string; head: {ref: string}}) => [p.number, p.title, p.head.ref])).to.deep.equal([[1, 'First', 'devflow/s-2']])
      expect((await call('GET', '/repos/octo/hello/pulls?head=octo:nothing', `token ${token}`)).body).to.deep.equal([])
    })

    it('answers 401 Bad credentials without an issued token, 403 without pull_requests: write or for another repository', async () => {
      const noAuth = await call('POST', '/repos/octo/hello/pulls', undefined, {head: 'a', base: 'main', title: 'T', body: ''})
      expect(noAuth.status).to.equal(401)
      expectGithubError(noAuth.body, 'Bad credentials')
      const readOnly = await installationToken({contents: 'write'})
      const forbidden = await call('POST', '/repos/octo/hello/pulls', `token ${readOnly}`, {head: 'a', base: 'main', title: 'T', body: ''})
      expect(forbidden.status).to.equal(403)
      expectGithubError(forbidden.body, 'Resource not accessible by integration')
      const forHello = await installationToken()
      expect((await call('POST', '/repos/octo/other/pulls', `token ${forHello}`, {head: 'a', base: 'main', title: 'T', body: ''})).status).to.equal(403)
      expect(github.pulls).to.deep.equal([])
    })
  })

  describe('test controls', () => {
    it('failNext answers the next matching requests with the status, then behaves again', async () => {
      github.failNext(/access_tokens$/, 502, 2)
      const body = {repositories: ['hello'], permissions: {contents: 'read'}}
      const statuses = []
      for (let i = 0; i < 3; i++) statuses.push((await call('POST', '/app/installations/1001/access_tokens', `Bearer ${jwt}`, body)).status)
      expect(statuses).to.deep.equal([502, 502, 201])
      expect((await call('GET', '/repos/octo/hello/installation', `Bearer ${jwt}`)).status).to.equal(200)
    })

    it('records every request and answers 404 Not Found for a route it does not know', async () => {
      const response = await call('GET', '/emojis', `Bearer ${jwt}`)
      expect(response.status).to.equal(404)
      expectGithubError(response.body, 'Not Found')
      expect(github.requests).to.deep.equal([{method: 'GET', path: '/emojis'}])
    })

    it('reset forgets installations, tokens, pull requests, requests and faults', async () => {
      const token = await installationToken()
      await call('POST', '/repos/octo/hello/pulls', `token ${token}`, {head: 'x', base: 'main', title: 'T', body: ''})
      github.failNext(/installation$/, 500)
      github.reset()
      expect([github.installations.size, github.issuedTokens.length, github.pulls.length, github.requests.length]).to.deep.equal([0, 0, 0, 0])
      expect((await call('GET', '/repos/octo/hello/installation', `Bearer ${jwt}`)).status).to.equal(404)
    })

    it('hands out the App secret that points at it', () => {
      expect(github.secret()).to.deep.equal({appId: github.appId, privateKey: github.privateKey, apiUrl: github.url})
      expect(github.privateKey).to.match(/^-----BEGIN RSA PRIVATE KEY-----/)
    })
  })
  describe("a user's personal token (the local platform's credentials)", () => {
    it('acts as the user: GET /user, the repository with its permissions, comments authored by the user', async () => {
      github.issues.addCollaborator('octo/hello', 'mona', 'write')
      const token = github.userToken('mona')
      expect(token).to.match(/^ghp_/)
      const me = await call('GET', '/user', `token ${token}`)
      expect(me).to.deep.include({status: 200})
      expect(me.body).to.include({login: 'mona', type: 'User'})
      const repo = await call('GET', '/repos/octo/hello', `token ${token}`)
      expect(repo.status).to.equal(200)
      expect(repo.body).to.include({full_name: 'octo/hello'})
      expect(repo.body.permissions).to.include({push: true, admin: false})
      expect((await call('GET', '/repos/octo/other', `token ${token}`)).status, 'no role, no repository').to.equal(404)
      const issue = github.issues.openIssue('octo/hello', {title: 'T'})
      const created = await call('POST', `/repos/octo/hello/issues/${issue.number}/comments`, `token ${token}`, {body: 'hi'})
      expect(created.status).to.equal(201)
      expect(created.body.user).to.include({login: 'mona', type: 'User'})
      const pr = await call('POST', '/repos/octo/hello/pulls', `token ${token}`, {head: 'x', base: 'main', title: 'T', body: ''})
      expect(pr.status).to.equal(201)
    })

    it("allows no more than the user's role: a reader cannot comment or open a pull request; an installation token has no /user", async () => {
      github.issues.addCollaborator('octo/hello', 'reader', 'read')
      const token = github.userToken('reader')
      const issue = github.issues.openIssue('octo/hello', {title: 'T'})
      expect((await call('GET', `/repos/octo/hello/issues/${issue.number}/comments`, `token ${token}`)).status).to.equal(200)
      expect((await call('POST', `/repos/octo/hello/issues/${issue.number}/comments`, `token ${token}`, {body: 'hi'})).status).to.equal(403)
      expect((await call('POST', '/repos/octo/hello/pulls', `token ${token}`, {head: 'x', base: 'main', title: 'T', body: ''})).status).to.equal(403)
      expect((await call('GET', '/repos/octo/hello', `token ${token}`)).body.permissions).to.include({push: false})
      expect((await call('GET', '/user', `token ${await installationToken()}`)).status).to.equal(403)
      expect((await call('GET', '/user', 'token ghp_unknown')).status).to.equal(401)
    })
  })
})
