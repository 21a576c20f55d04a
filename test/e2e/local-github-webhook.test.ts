/**
 * Issue 13 on the local platform, end to end: `devflow secrets set github-app --webhook-secret-file
 * --stage local`, `devflow local up` as a process with the user's token (the fake GitHub's personal
 * token) and GITHUB_API_URL pointing at the fake, and signed deliveries from
 * @octokit/webhooks-examples posted to the real local server. The workspace runs the real container
 * scripts on the host with the stub `claude`; git's `url.<dir>.insteadOf` (in the server's
 * environment) points https://github.com/ at bare repositories in a temp dir, so nothing leaves
 * this machine. A maintainer labels an issue and gets a draft pull request with `Closes #N` and
 * one comment, the user's, edited to its final state.
 */
import {execFileSync} from 'node:child_process'
import {writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {expect} from 'chai'

import {FakeGithub} from '../helpers/fake-github.js'
import {delivery, issueComment, labelledIssue, postDelivery, sign} from '../helpers/github-deliveries.js'
import {LocalPlatform} from '../helpers/local-platform.js'

const REPO = 'Codertocat/Hello-World'
const MAINTAINER = 'Codertocat'
const USER = 'local-dev'
const SECRET = 'local-webhook-secret-0123456789abcdef'

function git(args: string[], cwd?: string): string {
  return execFileSync('git', args, {cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']}).trim()
}

/** `<remotes>/<owner>/<name>.git` with one commit on main: what https://github.com/<owner>/<name>.git is rewritten to. */
function bareRepository(remotes: string, repo: string, dir: string): void {
  const bare = join(remotes, `${repo}.git`)
  const work = join(dir, 'work')
  git(['init', '--quiet', '--bare', '--initial-branch=main', bare])
  git(['clone', '--quiet', bare, work])
  execFileSync('sh', ['-c', 'echo "# hello" > README.md'], {cwd: work})
  git(['add', 'README.md'], work)
  git(['-c', 'user.name=Dev', '-c', 'user.email=dev@example.com', 'commit', '--quiet', '-m', 'initial'], work)
  git(['push', '--quiet', 'origin', 'main'], work)
}

async function eventually<T>(read: () => T | Promise<T>, done: (value: T) => boolean, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await read()
    if (done(value) || Date.now() > deadline) return value
    await new Promise((resolve) => setTimeout(resolve, 300))
  }
}

describe('e2e: GitHub webhooks on the local platform (devflow local, the fake GitHub, the stub claude)', function () {
  this.timeout(240_000)
  let local: LocalPlatform
  let dir: string
  let github: FakeGithub
  const url = () => `http://127.0.0.1:${local.port}`
  const run = (args: string[], extra: Record<string, string> = {}) => local.run(args, extra)

  before(async function () {
    github = await FakeGithub.start()
    github.issues.addCollaborator(REPO, MAINTAINER, 'admin')
    github.issues.addCollaborator(REPO, USER, 'write')
    local = await LocalPlatform.create({
      prefix: 'devflow-local-webhook-',
      env: (dir: string) => ({
        GITHUB_TOKEN: github.userToken(USER),
        GITHUB_API_URL: github.url,
        GIT_CONFIG_COUNT: '1',
        GIT_CONFIG_KEY_0: `url.${join(dir, 'remotes')}/.insteadOf`,
        GIT_CONFIG_VALUE_0: 'https://github.com/',
      }),
    })
    dir = local.dir
    bareRepository(join(dir, 'remotes'), REPO, dir)
    const secretFile = join(dir, 'webhook-secret')
    await writeFile(secretFile, `${SECRET}\n`)
    const set = await run(['secrets', 'set', 'github-app', '--webhook-secret-file', secretFile, '--stage', 'local'])
    expect(set.exitCode, set.stderr).to.equal(0)
    expect(set.stdout).to.contain('for the local platform')
    // The local stage's limit reaches the server as its environment, as the guardrails do.
    expect((await run(['config', 'set', 'githubMaxSessionsPerRepo', '2', '--stage', 'local'])).exitCode).to.equal(0)
    const up = await run(['local', 'up', '--port', String(local.port)])
    expect(up.exitCode, up.stderr).to.equal(0)
  })

  after(async function () {
    await local.stop()
    await github.close()
  })

  function labelled(title: string, body: string) {
    const issue = github.issues.openIssue(REPO, {title, body, author: MAINTAINER, labels: ['devflow']})
    const payload = labelledIssue(REPO, issue, MAINTAINER)
    payload.repository.default_branch = 'main'
    return {issue, delivery: delivery('issues', payload)}
  }

  it('a labelled issue becomes a draft pull request with Closes #N and one comment of the user, edited to done', async function () {
    const {issue, delivery: d} = labelled('Add a health file', 'Please add it.\nwrite health.txt ok')
    const received = await postDelivery(url(), d, SECRET)
    expect(received.status, JSON.stringify(received.body)).to.equal(202)
    expect(received.body).to.include({outcome: 'start'})
    const sessionId = received.body.sessionId as string

    const comments = await eventually(
      () => github.issues.commentsOn(REPO, issue.number),
      (found) => found.length > 0 && /DevFlow: (done|failed)/.test(found[0].body),
    )
    expect(comments, 'one comment, edited in place').to.have.length(1)
    expect(comments[0].author, 'the local platform comments as the token\'s user').to.equal(USER)
    const pulls = github.pulls.filter((p) => p.repo === REPO)
    expect(pulls).to.have.length(1)
    expect(pulls[0]).to.include({head: `devflow/${sessionId}`, base: 'main', title: 'Add a health file', draft: true})
    expect(pulls[0].body).to.contain(`Closes #${issue.number}`)
    expect(comments[0].body).to.contain('DevFlow: done').and.contain(`Pull request: ${pulls[0].html_url}`)
    expect(comments[0].history[0]).to.contain('DevFlow: queued')
    expect(git(['show', `devflow/${sessionId}:health.txt`], join(dir, 'remotes', `${REPO}.git`))).to.equal('ok')

    const listed = await run(['session', 'list', '--all', '--stage', 'local', '--json'])
    expect(listed.exitCode, listed.stderr).to.equal(0)
    expect(listed.json<{items: Array<{id: string; userId?: string; owner?: string}>}>().items.map((i) => i.id), 'the local admin sees the session from GitHub').to.include(sessionId)

    const again = await postDelivery(url(), d, SECRET)
    expect(again.status).to.equal(200)
    expect(again.body).to.include({duplicate: true})
    expect(github.issues.commentsOn(REPO, issue.number)).to.have.length(1)
  })

  it('answers a bad signature 401 and writes nothing; a stop comment stops the session', async function () {
    const {issue, delivery: d} = labelled('Forged', 'x')
    const forged = await postDelivery(url(), d, SECRET, sign(d.body, 'not-the-local-webhook-secret'))
    expect(forged.status).to.equal(401)
    expect(forged.body.error.code).to.equal('WEBHOOK_SIGNATURE_INVALID')
    expect(github.issues.commentsOn(REPO, issue.number)).to.have.length(0)

    const work = labelled('Long work', 'sleep 60')
    const started = await postDelivery(url(), work.delivery, SECRET)
    expect(started.body).to.include({outcome: 'start'})
    const stop = await postDelivery(url(), delivery('issue_comment', issueComment(REPO, work.issue.number, '/devflow stop', MAINTAINER)), SECRET)
    expect(stop.status, JSON.stringify(stop.body)).to.equal(202)
    expect(stop.body).to.include({outcome: 'stop', sessionId: started.body.sessionId})
    const comments = await eventually(
      () => github.issues.commentsOn(REPO, work.issue.number),
      (found) => found.length > 0 && found[0].body.includes('DevFlow: stopped'),
    )
    expect(comments).to.have.length(1)
    expect(comments[0].body).to.contain('DevFlow: stopped').and.contain(`Stopped by @${MAINTAINER}`)
  })
  it('queues a trigger beyond the local limit (2: the first test\'s session and one more) in SQLite, and starts it when a session ends', async function () {
    const busy = labelled('Busy work', 'sleep 60')
    const first = await postDelivery(url(), busy.delivery, SECRET)
    expect(first.body).to.include({outcome: 'start'})
    const waiting = labelled('Waiting work', 'write waited.txt yes')
    const queued = await postDelivery(url(), waiting.delivery, SECRET)
    expect(queued.status, JSON.stringify(queued.body)).to.equal(202)
    expect(queued.body).to.include({outcome: 'queued'})
    expect(github.issues.commentsOn(REPO, waiting.issue.number)[0].body).to.contain('DevFlow: waiting for a free slot').and.contain('already has 2 DevFlow sessions')

    const stop = await postDelivery(url(), delivery('issue_comment', issueComment(REPO, busy.issue.number, '/devflow stop', MAINTAINER)), SECRET)
    expect(stop.body).to.include({outcome: 'stop'})
    const comments = await eventually(
      () => github.issues.commentsOn(REPO, waiting.issue.number),
      (found) => /DevFlow: (done|failed)/.test(found[0]?.body ?? ''),
    )
    expect(comments).to.have.length(1)
    expect(comments[0].body).to.contain('DevFlow: done')
    expect(comments[0].history[0]).to.contain('DevFlow: waiting for a free slot')
    expect(github.pulls.filter((p) => p.repo === REPO && p.title === 'Waiting work')).to.have.length(1)
  })
  it('`devflow github status --stage local` shows the local webhook URL, the secret and the deliveries from SQLite', async function () {
    const status = await run(['github', 'status', '--stage', 'local', '--json'])
    expect(status.exitCode, status.stderr).to.equal(0)
    const json = status.json<{webhook: {url: string; secretSet: boolean}; deliveries: Array<{event: string; outcome?: string; status: string}>}>()
    expect(json.webhook).to.deep.equal({url: `${url()}/github/webhook`, secretSet: true})
    expect(json.deliveries.map((d) => d.outcome)).to.include.members(['start', 'queued', 'stop'])
    const human = await run(['github', 'status', '--stage', 'local'])
    expect(human.stdout).to.contain('your own GitHub token').and.contain(`${url()}/github/webhook`)
  })
})
