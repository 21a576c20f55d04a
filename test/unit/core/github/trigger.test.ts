import type {IssuesLabeledEvent} from '@octokit/webhooks-types'
import {expect} from 'chai'

import {DevflowError, remoteFailure} from '../../../../src/core/errors.js'
import type {CollaboratorPermission, GithubLookups, PullRequestHead} from '../../../../src/core/github/ports.js'
import {
  decideIntent,
  DEFAULT_TRIGGER_LABEL,
  parseCommand,
  readTrigger,
  repoAllowed,
  sessionIdOfBranch,
  type TriggerSettings,
  type WebhookIntent,
} from '../../../../src/core/github/trigger.js'
import {MAX_PROMPT_BYTES} from '../../../../src/core/session-api.js'
import type {RepoRef} from '../../../../src/core/validation.js'
import {webhookExample} from '../../../helpers/webhook-examples.js'

const SESSION = 's-abcdefghijklmnopqrst'
const settings: TriggerSettings = {label: DEFAULT_TRIGGER_LABEL}

/** GitHub's answers by login and pull request number, as the permission endpoint gives them. */
class Lookups implements GithubLookups {
  readonly asked: string[] = []
  constructor(
    private readonly roles: Record<string, CollaboratorPermission> = {Codertocat: {permission: 'admin', roleName: 'admin'}},
    private readonly pulls: Record<number, PullRequestHead> = {},
  ) {}

  async permissionOf(repo: RepoRef, login: string): Promise<CollaboratorPermission> {
    this.asked.push(`${repo.fullName}:${login}`)
    return this.roles[login] ?? {permission: 'none', roleName: 'none'}
  }

  async pullRequest(_repo: RepoRef, number: number): Promise<PullRequestHead> {
    const pr = this.pulls[number]
    if (!pr) throw remoteFailure('GITHUB_UNAVAILABLE', `no pull request ${number}`, 'retry')
    return pr
  }
}

function labelled(name = 'devflow') {
  const payload = webhookExample('issues', 'labeled') as IssuesLabeledEvent
  payload.label = {...payload.label!, name}
  payload.installation = {id: 4242, node_id: 'MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uNDI0Mg=='}
  return payload
}

function issueComment(body: string) {
  const payload = webhookExample('issue_comment', 'created')
  payload.comment.body = body
  return payload
}

/** GitHub sends an issue_comment for a pull request's conversation with issue.pull_request set (REST docs). */
function pullRequestComment(body: string, number = 7) {
  const payload = issueComment(body)
  payload.issue.number = number
  payload.issue.html_url = `https://github.com/Codertocat/Hello-World/pull/${number}`
  payload.issue.pull_request = {
    url: `https://api.github.com/repos/Codertocat/Hello-World/pulls/${number}`,
    html_url: `https://github.com/Codertocat/Hello-World/pull/${number}`,
    diff_url: `https://github.com/Codertocat/Hello-World/pull/${number}.diff`,
    patch_url: `https://github.com/Codertocat/Hello-World/pull/${number}.patch`,
    merged_at: null,
  }
  return payload
}

function reviewComment(body: string, ref = `devflow/${SESSION}`) {
  const payload = webhookExample('pull_request_review_comment', 'created', (p) => p.comment.line !== null && p.comment.line !== undefined)
  payload.comment.body = body
  payload.pull_request.head.ref = ref
  return payload
}

function head(ref: string, repo = 'Codertocat/Hello-World'): PullRequestHead {
  return {number: 7, state: 'open', headRef: ref, headRepo: repo, baseRef: 'master', url: 'https://github.com/Codertocat/Hello-World/pull/7'}
}

function expectKind<K extends WebhookIntent['kind']>(intent: WebhookIntent, kind: K): Extract<WebhookIntent, {kind: K}> {
  expect(intent.kind, JSON.stringify(intent)).to.equal(kind)
  return intent as Extract<WebhookIntent, {kind: K}>
}

describe('core/github/trigger', function () {
  describe('parseCommand', function () {
    it('reads /devflow at the start of a comment, with its instructions over several lines', function () {
      expect(parseCommand('/devflow fix the typo\nin the README')).to.deep.equal({stop: false, instructions: 'fix the typo\nin the README'})
      expect(parseCommand('  /devflow')).to.deep.equal({stop: false, instructions: ''})
      expect(parseCommand('/DevFlow stop')).to.deep.equal({stop: true, instructions: 'stop'})
      expect(parseCommand('/devflow stop.')?.stop).to.equal(true)
    })

    it('is not fooled by a longer word, a quote, or the command in mid-text', function () {
      expect(parseCommand('/devflowing')).to.equal(undefined)
      expect(parseCommand('> /devflow fix it')).to.equal(undefined)
      expect(parseCommand('please /devflow fix it')).to.equal(undefined)
      expect(parseCommand(null)).to.equal(undefined)
      expect(parseCommand('/devflow stop using tabs')?.stop).to.equal(false)
    })
  })

  describe('sessionIdOfBranch and repoAllowed', function () {
    it('knows a DevFlow session branch and nothing else', function () {
      expect(sessionIdOfBranch(`devflow/${SESSION}`)).to.equal(SESSION)
      expect(sessionIdOfBranch(`refs/heads/devflow/${SESSION}`)).to.equal(SESSION)
      expect(sessionIdOfBranch('devflow/feature')).to.equal(undefined)
      expect(sessionIdOfBranch(`feature/${SESSION}`)).to.equal(undefined)
      expect(sessionIdOfBranch(`devflow/${SESSION}-extra`)).to.equal(undefined)
    })

    it('matches an allow-list by full name or owner/*, without case', function () {
      expect(repoAllowed('Acme/App', undefined)).to.equal(true)
      expect(repoAllowed('Acme/App', ['acme/app'])).to.equal(true)
      expect(repoAllowed('Acme/App', ['acme/*'])).to.equal(true)
      expect(repoAllowed('Acme/App', ['acme/other', 'other/*'])).to.equal(false)
      expect(repoAllowed('Acme/App', [])).to.equal(false)
    })
  })

  describe('readTrigger (the payload alone)', function () {
    it('ignores events and actions that are no trigger, saying which', function () {
      expect(readTrigger('ping', webhookExample('ping'), settings)).to.deep.include({action: 'ignore'})
      expect(readTrigger('issues', webhookExample('issues', 'opened'), settings)).to.deep.equal({action: 'ignore', reason: 'issues.opened is not a DevFlow trigger'})
      expect(readTrigger('issue_comment', webhookExample('issue_comment', 'edited'), settings)).to.deep.equal({action: 'ignore', reason: 'issue_comment.edited is not a DevFlow trigger'})
      expect(readTrigger('issues', 'not json', settings)).to.deep.include({action: 'ignore'})
    })

    it('ignores another label, a closed issue, and a comment that is no command', function () {
      expect(readTrigger('issues', labelled('bug'), settings)).to.deep.equal({action: 'ignore', reason: 'issues.labeled with "bug", not "devflow"'})
      const closed = labelled()
      closed.issue.state = 'closed'
      expect(readTrigger('issues', closed, settings)).to.deep.equal({action: 'ignore', reason: 'issue #1 is closed'})
      expect(readTrigger('issue_comment', webhookExample('issue_comment', 'created'), settings)).to.deep.include({action: 'ignore'})
    })

    it('ignores bots, so that its own comments never trigger it', function () {
      const payload = issueComment('/devflow do it')
      payload.sender = {...payload.sender, login: 'devflow[bot]', type: 'Bot'}
      expect(readTrigger('issue_comment', payload, settings)).to.deep.equal({action: 'ignore', reason: 'issue_comment.created was sent by a bot (devflow[bot])'})
    })

    it('honours the stage label, without case', function () {
      expect(readTrigger('issues', labelled('AI-Agent'), {label: 'ai-agent'})).to.deep.include({action: 'start'})
    })
  })

  describe('decideIntent', function () {
    it('starts a session on the default branch for an issue labelled devflow, with the issue as the prompt', async function () {
      const payload = labelled()
      const intent = expectKind(await decideIntent('issues', payload, settings, new Lookups()), 'start')
      expect(intent).to.deep.include({sender: 'Codertocat', branch: 'master', installationId: 4242})
      expect(intent.repo.fullName).to.equal('Codertocat/Hello-World')
      expect(intent.source).to.deep.equal({kind: 'github', repo: 'Codertocat/Hello-World', issue: 1})
      expect(intent.target).to.deep.include({number: 1, type: 'issue', url: 'https://github.com/Codertocat/Hello-World/issues/1', title: 'Spelling error in the README file'})
      expect(intent.prompt).to.contain('Work on GitHub issue #1 in Codertocat/Hello-World: Spelling error in the README file')
      expect(intent.prompt).to.contain('Issue: https://github.com/Codertocat/Hello-World/issues/1')
      expect(intent.prompt).to.contain(payload.issue.body!.trim())
      expect(intent.prompt).to.contain('closes #1')
    })

    it('starts one for /devflow <instructions> on an issue, the instructions in the prompt', async function () {
      const intent = expectKind(await decideIntent('issue_comment', issueComment('/devflow use British spelling'), settings, new Lookups()), 'start')
      expect(intent.prompt).to.contain('Instructions from @Codertocat:\nuse British spelling')
      expect(intent.source.commentId).to.be.a('number')
      expect(intent.source.issue).to.equal(1)
    })

    it('refuses a sender with read or triage permission, after asking GitHub', async function () {
      const lookups = new Lookups({Codertocat: {permission: 'read', roleName: 'triage'}})
      const intent = expectKind(await decideIntent('issues', labelled(), settings, lookups), 'refuse')
      expect(intent).to.deep.include({reason: 'READ_ONLY_SENDER', permission: 'triage', sender: 'Codertocat'})
      expect(lookups.asked).to.deep.equal(['Codertocat/Hello-World:Codertocat'])
    })

    it('lets maintain (legacy permission write) and write through', async function () {
      for (const role of [{permission: 'write', roleName: 'maintain'}, {permission: 'write', roleName: 'write'}]) {
        expect((await decideIntent('issues', labelled(), settings, new Lookups({Codertocat: role}))).kind).to.equal('start')
      }
    })

    it('refuses a repository outside the allow-list without asking GitHub', async function () {
      const lookups = new Lookups()
      const intent = expectKind(await decideIntent('issues', labelled(), {label: 'devflow', allowedRepos: ['acme/*']}, lookups), 'refuse')
      expect(intent.reason).to.equal('REPO_NOT_ALLOWED')
      expect(lookups.asked).to.deep.equal([])
    })

    it('prompts the session of a pull request on its devflow/<session> branch (issue comment, head looked up)', async function () {
      const intent = expectKind(await decideIntent('issue_comment', pullRequestComment('/devflow also update the docs'), settings, new Lookups(undefined, {7: head(`devflow/${SESSION}`)})), 'prompt')
      expect(intent.sessionId).to.equal(SESSION)
      expect(intent.source).to.deep.include({kind: 'github', repo: 'Codertocat/Hello-World', pullRequest: 7})
      expect(intent.target.type).to.equal('pull_request')
      expect(intent.prompt).to.contain('Follow-up from @Codertocat on pull request #7')
      expect(intent.prompt).to.contain('also update the docs')
    })

    it('gives a review comment its file, line and diff hunk as context', async function () {
      const payload = reviewComment('/devflow use more emoji here')
      const intent = expectKind(await decideIntent('pull_request_review_comment', payload, settings, new Lookups()), 'prompt')
      expect(intent.sessionId).to.equal(SESSION)
      expect(intent.prompt).to.contain(`review comment on README.md, line ${payload.comment.line}`)
      expect(intent.prompt).to.contain(payload.comment.diff_hunk)
      expect(intent.prompt).to.contain(payload.comment.html_url)
      expect(intent.prompt).to.contain('use more emoji here')
    })

    it('ignores a pull request whose branch no DevFlow session pushed, or that lives in a fork', async function () {
      const other = await decideIntent('pull_request_review_comment', reviewComment('/devflow fix', 'changes'), settings, new Lookups())
      expect(other).to.deep.equal({kind: 'ignore', reason: "pull request #2's branch changes was not pushed by a DevFlow session"})
      const fork = await decideIntent('issue_comment', pullRequestComment('/devflow fix'), settings, new Lookups(undefined, {7: head(`devflow/${SESSION}`, 'mallory/Hello-World')}))
      expect(fork).to.deep.equal({kind: 'ignore', reason: "pull request #7's branch lives in mallory/Hello-World, not Codertocat/Hello-World"})
    })

    it('stops: the pull request session by its branch, the issue session by its source', async function () {
      const onPr = expectKind(await decideIntent('issue_comment', pullRequestComment('/devflow stop'), settings, new Lookups(undefined, {7: head(`devflow/${SESSION}`)})), 'stop')
      expect(onPr.sessionId).to.equal(SESSION)
      const onIssue = expectKind(await decideIntent('issue_comment', issueComment('/devflow stop'), settings, new Lookups()), 'stop')
      expect(onIssue.sessionId).to.equal(undefined)
      expect(onIssue.source).to.deep.include({issue: 1})
    })

    it('ignores /devflow with no instructions on a pull request', async function () {
      expect((await decideIntent('issue_comment', pullRequestComment('/devflow'), settings, new Lookups())).kind).to.equal('ignore')
    })

    it("lets GitHub's failure through as the DevflowError it is", async function () {
      const failing: GithubLookups = {
        permissionOf: async () => {
          throw remoteFailure('GITHUB_UNAVAILABLE', 'GitHub answered HTTP 502', 'retry')
        },
        pullRequest: async () => head('x'),
      }
      const error = await decideIntent('issues', labelled(), settings, failing).catch((e: unknown) => e)
      expect(error).to.be.instanceOf(DevflowError)
      expect((error as DevflowError).code).to.equal('GITHUB_UNAVAILABLE')
    })

    it('keeps a huge issue body within the prompt limit, saying it was cut', async function () {
      const payload = labelled()
      payload.issue.body = 'é'.repeat(65_536)
      const intent = expectKind(await decideIntent('issues', payload, settings, new Lookups()), 'start')
      expect(Buffer.byteLength(intent.prompt, 'utf8')).to.be.at.most(MAX_PROMPT_BYTES)
      expect(intent.prompt).to.contain('[... truncated: read the rest on GitHub]')
      expect(intent.prompt).to.not.contain('\uFFFD')
    })
  })
})
