/**
 * The fake GitHub's issue routes (test/helpers/fake-github-issues.ts) over real HTTP, checked
 * against GitHub's REST documentation: status codes, field names, the permission mapping, shared
 * issue and pull request numbers, and comments edited in place with their history.
 */
import {expect} from 'chai'

import {FakeGithub} from '../../helpers/fake-github.js'

const REPO = 'acme/app'

/** A JSON document read loosely: the assertions say which fields must be there. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any

describe('fake GitHub: permissions, issues, comments, pull requests', function () {
  let github: FakeGithub

  before(async function () {
    github = await FakeGithub.start()
  })

  after(async function () {
    await github.close()
  })

  beforeEach(function () {
    github.reset()
    github.install(REPO, 77)
  })

  /** An installation token as POST /app/installations/{id}/access_tokens would have issued it. */
  function token(permissions: Record<string, string>, repositories = ['app']): string {
    const value = `ghs_test${github.issuedTokens.length}`
    github.issuedTokens.push({token: value, installationId: 77, repositories, permissions})
    return value
  }

  async function api(method: string, path: string, auth: string | undefined, body?: unknown): Promise<{status: number; json: Json}> {
    const response = await fetch(`${github.url}${path}`, {
      method,
      headers: {...(auth ? {authorization: `token ${auth}`} : {}), 'content-type': 'application/json'},
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    return {status: response.status, json: await response.json()}
  }

  describe('GET /repos/{owner}/{repo}/collaborators/{username}/permission', function () {
    it('maps each role to the legacy permission as GitHub documents (maintain -> write, triage -> read)', async function () {
      const roles = {admin: 'admin', maintain: 'write', write: 'write', triage: 'read', read: 'read'} as const
      for (const [role] of Object.entries(roles)) github.issues.addCollaborator(REPO, `user-${role}`, role as keyof typeof roles)
      const auth = token({metadata: 'read'})
      for (const [role, permission] of Object.entries(roles)) {
        const {status, json} = await api('GET', `/repos/${REPO}/collaborators/user-${role}/permission`, auth)
        expect(status).to.equal(200)
        expect(json).to.deep.include({permission, role_name: role})
        expect(json.user).to.include({login: `user-${role}`, type: 'User'})
      }
    })

    it('answers none for someone who is no collaborator, and matches logins without case', async function () {
      github.issues.addCollaborator(REPO, 'Octocat', 'write')
      const auth = token({metadata: 'read'})
      expect((await api('GET', `/repos/${REPO}/collaborators/stranger/permission`, auth)).json).to.deep.include({permission: 'none', role_name: 'none'})
      expect((await api('GET', `/repos/${REPO}/collaborators/octocat/permission`, auth)).json).to.deep.include({permission: 'write'})
    })

    it('needs a token for that repository: 401 without one, 404 for another repository', async function () {
      expect((await api('GET', `/repos/${REPO}/collaborators/x/permission`, undefined)).status).to.equal(401)
      expect((await api('GET', `/repos/${REPO}/collaborators/x/permission`, token({metadata: 'read'}, ['other']))).status).to.equal(404)
    })
  })

  describe('issues and comments', function () {
    it('returns an issue in the REST shape, and a pull request through the issues API with pull_request set', async function () {
      const issue = github.issues.openIssue(REPO, {title: 'Fix the typo', body: 'In the README.', author: 'octocat', labels: ['devflow']})
      github.pulls.push({number: github.issues.nextNumber(REPO), repo: REPO, head: 'devflow/s-abcdefghijklmnopqrst', base: 'main', title: 'Fix the typo', body: 'Closes #1', draft: true, html_url: `https://github.example/${REPO}/pull/2`, created_at: '2026-01-01T00:00:00Z'})
      const auth = token({issues: 'read', pull_requests: 'read'})

      const {status, json} = await api('GET', `/repos/${REPO}/issues/${issue.number}`, auth)
      expect(status).to.equal(200)
      expect(json).to.deep.include({number: 1, title: 'Fix the typo', body: 'In the README.', state: 'open', comments: 0, html_url: `https://github.example/${REPO}/issues/1`})
      expect(json.user.login).to.equal('octocat')
      expect(json.labels).to.deep.equal([{name: 'devflow'}])
      expect(json).to.not.have.property('pull_request')

      const pr = await api('GET', `/repos/${REPO}/issues/2`, auth)
      expect(pr.json.pull_request).to.deep.include({html_url: `https://github.example/${REPO}/pull/2`})
      expect((await api('GET', `/repos/${REPO}/issues/3`, auth)).status).to.equal(404)
    })

    it('numbers issues and pull requests in one sequence per repository', async function () {
      const first = github.issues.openIssue(REPO, {title: 'one'})
      const auth = token({pull_requests: 'write', contents: 'read'})
      const created = await api('POST', `/repos/${REPO}/pulls`, auth, {head: 'devflow/s-abcdefghijklmnopqrst', base: 'main', title: 'two', body: '', draft: true})
      expect(created.status).to.equal(201)
      expect(created.json.number).to.equal(first.number + 1)
      expect(github.issues.openIssue(REPO, {title: 'three'}).number).to.equal(3)
      expect(github.issues.openIssue('acme/other', {title: 'first elsewhere'}).number).to.equal(1)
    })

    it('creates a comment as the App bot (201) and edits it in place (200), keeping its history', async function () {
      const issue = github.issues.openIssue(REPO, {title: 'Fix it'})
      const auth = token({issues: 'write'})
      const created = await api('POST', `/repos/${REPO}/issues/${issue.number}/comments`, auth, {body: 'queued'})
      expect(created.status).to.equal(201)
      expect(created.json).to.deep.include({body: 'queued', issue_url: `https://api.github.example/repos/${REPO}/issues/1`})
      expect(created.json.user).to.include({login: 'devflow[bot]', type: 'Bot'})
      expect(created.json.html_url).to.equal(`https://github.example/${REPO}/issues/1#issuecomment-${created.json.id}`)

      const edited = await api('PATCH', `/repos/${REPO}/issues/comments/${created.json.id}`, auth, {body: 'running'})
      expect(edited.status).to.equal(200)
      expect(edited.json).to.deep.include({id: created.json.id, body: 'running'})
      await api('PATCH', `/repos/${REPO}/issues/comments/${created.json.id}`, auth, {body: 'done'})

      const comments = github.issues.commentsOn(REPO, issue.number)
      expect(comments).to.have.length(1)
      expect(comments[0]).to.deep.include({body: 'done', history: ['queued', 'running']})
      const listed = await api('GET', `/repos/${REPO}/issues/${issue.number}/comments`, auth)
      expect(listed.json.map((c: {body: string}) => c.body)).to.deep.equal(['done'])
      expect((await api('GET', `/repos/${REPO}/issues/${issue.number}`, auth)).json.comments).to.equal(1)
    })

    it('comments on a pull request with pull_requests: write alone', async function () {
      github.pulls.push({number: 1, repo: REPO, head: 'devflow/s-abcdefghijklmnopqrst', base: 'main', title: 't', body: '', draft: true, html_url: `https://github.example/${REPO}/pull/1`, created_at: '2026-01-01T00:00:00Z'})
      expect((await api('POST', `/repos/${REPO}/issues/1/comments`, token({pull_requests: 'write'}), {body: 'hi'})).status).to.equal(201)
    })

    it('refuses what GitHub refuses: read-only token 403, missing body 422, unknown issue or comment 404', async function () {
      const issue = github.issues.openIssue(REPO, {title: 'Fix it'})
      expect((await api('POST', `/repos/${REPO}/issues/${issue.number}/comments`, token({issues: 'read'}), {body: 'x'})).status).to.equal(403)
      const auth = token({issues: 'write'})
      const missing = await api('POST', `/repos/${REPO}/issues/${issue.number}/comments`, auth, {})
      expect(missing.status).to.equal(422)
      expect(missing.json.message).to.equal('Validation Failed')
      expect((await api('POST', `/repos/${REPO}/issues/99/comments`, auth, {body: 'x'})).status).to.equal(404)
      expect((await api('PATCH', `/repos/${REPO}/issues/comments/12345`, auth, {body: 'x'})).status).to.equal(404)
      expect((await api('POST', `/repos/${REPO}/issues/${issue.number}/comments`, auth, {body: 'x'.repeat(65_537)})).status).to.equal(422)
      expect(github.issues.comments).to.have.length(0)
    })
  })

  describe('GET and PATCH /repos/{owner}/{repo}/pulls/{pull_number}', function () {
    it("reads a pull request with head and base as objects, and updates its title and body", async function () {
      const auth = token({pull_requests: 'write', contents: 'read'})
      await api('POST', `/repos/${REPO}/pulls`, auth, {head: 'devflow/s-abcdefghijklmnopqrst', base: 'main', title: 'Fix', body: 'first', draft: true})
      const read = await api('GET', `/repos/${REPO}/pulls/1`, auth)
      expect(read.status).to.equal(200)
      expect(read.json).to.deep.include({number: 1, state: 'open', title: 'Fix', body: 'first', draft: true})
      expect(read.json.head).to.deep.include({ref: 'devflow/s-abcdefghijklmnopqrst', repo: {full_name: REPO}})
      expect(read.json.base).to.deep.equal({ref: 'main', repo: {full_name: REPO}})

      const patched = await api('PATCH', `/repos/${REPO}/pulls/1`, auth, {body: 'the summary\n\nCloses #3'})
      expect(patched.json).to.deep.include({title: 'Fix', body: 'the summary\n\nCloses #3'})
      expect(github.pulls[0].body).to.equal('the summary\n\nCloses #3')
      expect((await api('PATCH', `/repos/${REPO}/pulls/1`, auth, {title: ''})).status).to.equal(422)
      expect((await api('GET', `/repos/${REPO}/pulls/9`, auth)).status).to.equal(404)
      expect((await api('GET', `/repos/${REPO}/pulls/1`, token({issues: 'write'}))).status).to.equal(403)
    })
  })
})
