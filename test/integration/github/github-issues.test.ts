/**
 * The webhook flow's GitHub client (src/adapters/github/issues.ts) against the fake GitHub over
 * real HTTP, authenticated the App's way (JWT -> installation token scoped to one repository).
 */
import {expect} from 'chai'

import {GithubApp} from '../../../src/adapters/github/app.js'
import {GithubIssues} from '../../../src/adapters/github/issues.js'
import {renderLivingComment, statusMarker} from '../../../src/core/github/living-comment.js'
import {parseRepoRef} from '../../../src/core/validation.js'
import {rejection} from '../../helpers/assertions.js'
import {FakeGithub} from '../../helpers/fake-github.js'

const REPO = parseRepoRef('acme/app')
const BRANCH = 'devflow/s-abcdefghijklmnopqrst'

describe('adapters/github/issues: the webhook flow on the fake GitHub', function () {
  let github: FakeGithub
  let client: GithubIssues

  before(async function () {
    github = await FakeGithub.start()
  })

  after(async function () {
    await github.close()
  })

  beforeEach(function () {
    github.reset()
    github.install(REPO.fullName)
    client = new GithubIssues(new GithubApp(async () => github.secret()))
  })

  it("reads a sender's permission: role and legacy permission, none for a stranger", async function () {
    github.issues.addCollaborator(REPO.fullName, 'maintainer', 'maintain')
    github.issues.addCollaborator(REPO.fullName, 'triager', 'triage')
    expect(await client.permissionOf(REPO, 'maintainer')).to.deep.equal({permission: 'write', roleName: 'maintain'})
    expect(await client.permissionOf(REPO, 'triager')).to.deep.equal({permission: 'read', roleName: 'triage'})
    expect(await client.permissionOf(REPO, 'stranger')).to.deep.equal({permission: 'none', roleName: 'none'})
    expect(github.issuedTokens.at(-1)).to.deep.include({repositories: ['app'], permissions: {metadata: 'read'}})
  })

  it('reads an issue, and a pull request through the issues API', async function () {
    const issue = github.issues.openIssue(REPO.fullName, {title: 'Spelling', body: 'recieve -> receive', author: 'octocat'})
    expect(await client.getIssue(REPO, issue.number)).to.deep.equal({
      number: 1,
      title: 'Spelling',
      body: 'recieve -> receive',
      state: 'open',
      url: 'https://github.example/acme/app/issues/1',
      author: 'octocat',
      isPullRequest: false,
    })
    const error = await rejection(client.getIssue(REPO, 42))
    expect(error.code).to.equal('GITHUB_NOT_FOUND')
    expect(error.kind).to.equal('not_found')
  })

  it('keeps one comment and edits it in place through the states, one token for all the edits', async function () {
    const issue = github.issues.openIssue(REPO.fullName, {title: 'Spelling'})
    const key = 'acme/app#1'
    const created = await client.createComment(REPO, issue.number, renderLivingComment(key, {state: 'queued', sender: 'octocat'}))
    await client.updateComment(REPO, created.id, renderLivingComment(key, {state: 'running', sender: 'octocat', sessionId: 's-abcdefghijklmnopqrst', latestStep: 'Editing README.md'}))
    const final = await client.updateComment(REPO, created.id, renderLivingComment(key, {state: 'succeeded', sender: 'octocat', sessionId: 's-abcdefghijklmnopqrst', summary: 'Fixed.', commits: [{sha: 'abcdef1234567'}]}))

    const comments = github.issues.commentsOn(REPO.fullName, issue.number)
    expect(comments).to.have.length(1)
    expect(comments[0].history).to.have.length(2)
    expect(comments[0].history[0]).to.contain('DevFlow: queued')
    expect(comments[0].history[1]).to.contain('Latest step: Editing README.md')
    expect(comments[0].body).to.equal(final.body).and.contain('DevFlow: done')
    expect(final.url).to.equal(`https://github.example/acme/app/issues/1#issuecomment-${created.id}`)
    const commentTokens = github.issuedTokens.filter((t) => t.permissions.issues === 'write')
    expect(commentTokens).to.have.length(1)
    expect(commentTokens[0].permissions).to.deep.equal({issues: 'write', pull_requests: 'write'})
  })

  it("finds its living comment again by the marker, never a user's comment that copies it", async function () {
    const issue = github.issues.openIssue(REPO.fullName, {title: 'Spelling'})
    const key = 'acme/app#1'
    github.issues.comments.push({id: 5, repo: REPO.fullName, issueNumber: 1, body: `${statusMarker(key)}\nfake`, author: 'mallory', createdAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T00:00:00Z', history: []})
    expect(await client.findComment(REPO, issue.number, key)).to.equal(undefined)
    const ours = await client.createComment(REPO, issue.number, renderLivingComment(key, {state: 'queued', sender: 'octocat'}))
    await client.createComment(REPO, issue.number, renderLivingComment('acme/app#1:other', {state: 'queued', sender: 'octocat'}))
    expect((await client.findComment(REPO, issue.number, key))?.id).to.equal(ours.id)
  })

  it('opens a draft pull request titled from the issue with Closes #N, once per branch', async function () {
    const issue = github.issues.openIssue(REPO.fullName, {title: 'Fix the spelling in the README'})
    const request = {repo: REPO, head: BRANCH, base: 'main', issue: {number: issue.number, title: issue.title}, summary: 'Replaced "recieve" by "receive".'}
    const opened = await client.openDraftPullRequest(request)
    expect(opened).to.deep.equal({number: 2, url: 'https://github.example/acme/app/pull/2'})
    expect(github.pulls).to.have.length(1)
    expect(github.pulls[0]).to.deep.include({head: BRANCH, base: 'main', title: 'Fix the spelling in the README', draft: true, body: 'Replaced "recieve" by "receive".\n\nCloses #1'})
    expect(await client.openDraftPullRequest(request)).to.deep.equal(opened)
    expect(github.pulls).to.have.length(1)
  })

  it("reads a pull request's head for the trigger decision, and replaces its description", async function () {
    const issue = github.issues.openIssue(REPO.fullName, {title: 'Fix'})
    const opened = await client.openDraftPullRequest({repo: REPO, head: BRANCH, base: 'main', issue: {number: issue.number, title: 'Fix'}, summary: ''})
    expect(await client.pullRequest(REPO, opened.number)).to.deep.equal({number: 2, state: 'open', headRef: BRANCH, headRepo: 'acme/app', baseRef: 'main', url: opened.url})
    expect(github.pulls[0].body).to.equal('Changes made by a DevFlow session.\n\nCloses #1')
    await client.updatePullRequestBody(REPO, opened.number, 'Second summary\n\nCloses #1')
    expect(github.pulls[0].body).to.equal('Second summary\n\nCloses #1')
  })

  it('maps failures: the App not installed, GitHub failing, a comment gone', async function () {
    const elsewhere = parseRepoRef('acme/not-installed')
    expect((await rejection(client.permissionOf(elsewhere, 'octocat'))).code).to.equal('REPO_NOT_ACCESSIBLE')
    const issue = github.issues.openIssue(REPO.fullName, {title: 'Fix'})
    github.failNext(/\/issues\/1\/comments$/, 502)
    const failed = await rejection(client.createComment(REPO, issue.number, 'x'))
    expect(failed.code).to.equal('GITHUB_UNAVAILABLE')
    expect(failed.kind).to.equal('remote')
    expect(github.issues.comments).to.have.length(0)
    expect((await rejection(client.updateComment(REPO, 999, 'x'))).code).to.equal('GITHUB_NOT_FOUND')
  })
})
