/**
 * `session resume` on the local platform, with the CLI as a process: a session's workspace (the
 * real container scripts as host processes, the stub `claude`) stops with uncommitted work, which
 * its checkpoint commits and pushes, and saves its conversation to the data dir; the resumed
 * session (same id, a fresh clone) checks the branch out at the checkpoint and the next prompt
 * resumes the restored conversation. And the refusals: a RUNNING session, a FAILED one whose
 * workspace never started, a spent budget until `session budget --add`.
 */
import {existsSync} from 'node:fs'
import {readdir, readFile, rm, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {gunzipSync} from 'node:zlib'

import {expect} from 'chai'

import {bareRepository, git, type LocalPlatform, startLocalPlatform} from '../helpers/local-platform.js'
import {expectMatchesSchema} from '../helpers/output-schemas.js'

interface Session {
  id: string
  status: string
  stopReason?: string
  resumeCount?: number
  budgetUsd?: number
  checkpoint?: {branch: string; commit: string; claudeSessionId?: string; conversation: boolean; savedAt: string}
  error?: {code: string; message: string}
}

interface Prompt {
  id: string
  status: string
  result?: {branch?: string; commit?: string}
  error?: {code: string}
}

interface ErrorBody {
  error: {code: string; message: string; hint: string}
}

describe('e2e: session resume on the local platform', function () {
  this.timeout(240_000)
  let local: LocalPlatform
  let dir: string
  let bare: string
  let stubLog: string

  const dataDir = () => local.dataDir
  const run = (args: string[]) => local.run([...args, '--stage', 'local'])
  const status = async (id: string) => (await run(['session', 'status', id, '--json'])).json<Session>()
  const stubRuns = async () => (await readFile(stubLog, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as {args: string[]; resumedLines: number; cwd: string})

  before(async function () {
    local = await startLocalPlatform({
      prefix: 'devflow-resume-e2e-',
      runTimeout: 120_000,
      env: (dir: string) => ({
        EVENT_FLUSH_INTERVAL_SECONDS: '0.2',
        STUB_CLAUDE_LOG: join(dir, 'claude.jsonl'),
        // A clone of a missing branch fails at once.
        CLONE_ATTEMPTS: '1',
      }),
    })
    dir = local.dir
    stubLog = join(dir, 'claude.jsonl')
    bare = bareRepository(dir)
  })

  after(async function () {
    if (local) await local.stop()
  })

  it('stops with a checkpoint, resumes with the same id on the checkpoint, and the next prompt continues the conversation', async function () {
    const start = await run(['session', 'start', '--repo', bare, '--wait', '--timeout', '60s', '--json'])
    expect(start.exitCode, start.stderr).to.equal(0)
    const id = start.json<Session>().id
    const branch = `devflow/${id}`
    const first = await run(['session', 'prompt', id, '--wait', '--timeout', '90s', '--json', 'write first.txt written by the first task'])
    expect(first.json<Prompt>().status, first.stderr).to.equal('SUCCEEDED')
    // What the user typed in the editor afterwards, never committed.
    const clone = join(dataDir(), 'sessions', id, 'workspace', 'app')
    await writeFile(join(clone, 'notes.txt'), 'typed in the editor\n')

    const running = await run(['session', 'resume', id, '--json'])
    expect(running.exitCode).to.equal(5)
    expect(running.json<ErrorBody>().error).to.include({code: 'SESSION_NOT_STOPPED'})
    expect(running.json<ErrorBody>().error.hint).to.include(`devflow session prompt ${id}`)

    const stop = await run(['session', 'stop', id, '--wait', '--json'])
    expect(stop.exitCode, stop.stderr).to.equal(0)
    const stopped = await status(id)
    expect(stopped).to.include({status: 'STOPPED', stopReason: 'USER'})
    // The checkpoint commit holds the editor's work, on the session's branch of the remote.
    expect(stopped.checkpoint).to.include({branch, commit: git(['rev-parse', branch], bare), conversation: true})
    expect(git(['log', '-1', '--format=%s', branch], bare)).to.equal('DevFlow checkpoint')
    expect(git(['show', `${branch}:notes.txt`], bare)).to.equal('typed in the editor')
    // The conversation is in the data dir: the CLI's transcript of the first prompt.
    const saved = gunzipSync(await readFile(join(dataDir(), 'conversations', `${id}.jsonl.gz`))).toString('utf8')
    expect(saved).to.include('write first.txt written by the first task')
    const claudeId = stopped.checkpoint?.claudeSessionId as string
    expect(saved).to.include(claudeId)
    // Nothing of the first task's transcript is left where the CLI keeps it: the resume must bring it back.
    await rm(join(local.cli.home, '.claude', 'projects'), {recursive: true, force: true})

    const resume = await run(['session', 'resume', id, '--wait', '--timeout', '60s', '--json'])
    expect(resume.exitCode, resume.stderr).to.equal(0)
    const resumed = resume.json<Session>()
    expectMatchesSchema('session-resume', resumed)
    expect(resumed).to.include({id, status: 'RUNNING', resumeCount: 1})
    expect(resumed).not.to.have.property('stopReason')
    // A fresh clone: the first task's workspace was moved aside.
    expect(await readdir(join(dataDir(), 'sessions', id, 'runs'))).to.have.length(1)

    const second = await run(['session', 'prompt', id, '--wait', '--timeout', '90s', '--json', 'write second.txt written after the resume'])
    expect(second.exitCode, second.stderr).to.equal(0)
    expect(second.json<Prompt>().result?.branch).to.equal(branch)
    // The resumed workspace saw the first task's files and the checkpoint commit.
    for (const [file, text] of [['first.txt', 'written by the first task'], ['notes.txt', 'typed in the editor'], ['second.txt', 'written after the resume']]) {
      expect(git(['show', `${branch}:${file}`], bare), file).to.equal(text)
    }
    const last = (await stubRuns()).at(-1)
    expect(last?.args[last.args.indexOf('--resume') + 1]).to.equal(claudeId)
    expect(last?.resumedLines, 'the restored transcript had the first prompt').to.equal(1)
    expect(existsSync(join(local.cli.home, '.claude', 'projects'))).to.equal(true)

    const prompts = (await run(['session', 'logs', id, '--json'])).json<{prompts: Prompt[]}>().prompts
    expect(prompts.map((p) => p.status)).to.deep.equal(['SUCCEEDED', 'SUCCEEDED'])
    const human = await run(['session', 'status', id])
    expect(human.stdout).to.match(/Resumed:\s+1 time\b/)
  })

  it('refuses a FAILED session whose workspace never started, with the hint to start a new one', async function () {
    const start = await run(['session', 'start', '--repo', bare, '--branch', 'no-such-branch', '--json'])
    expect(start.exitCode, start.stderr).to.equal(0)
    const id = start.json<Session>().id
    const deadline = Date.now() + 60_000
    let session = await status(id)
    while (session.status !== 'FAILED' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 500))
      session = await status(id)
    }
    expect(session.status).to.equal('FAILED')
    const refused = await run(['session', 'resume', id, '--json'])
    expect(refused.exitCode).to.equal(5)
    const {error} = refused.json<ErrorBody>()
    expect(error.code).to.equal('SESSION_NOT_RESUMABLE')
    expect(error.message).to.include('never started')
    expect(error.hint).to.include(`devflow session start --repo local/app --branch no-such-branch`)
    expect((await status(id)).status).to.equal('FAILED')
  })

  it('refuses a session whose budget is spent until `session budget --add`', async function () {
    const start = await run(['session', 'start', '--repo', bare, '--budget', '0.3', '--wait', '--timeout', '60s', '--json'])
    expect(start.exitCode, start.stderr).to.equal(0)
    const id = start.json<Session>().id
    const spent = await run(['session', 'prompt', id, '--wait', '--timeout', '90s', '--json', 'write spent.txt S\ncost 0.5'])
    expect(spent.json<Prompt>().error?.code).to.equal('AGENT_BUDGET_EXCEEDED')
    expect((await run(['session', 'stop', id, '--wait', '--json'])).exitCode).to.equal(0)

    const refused = await run(['session', 'resume', id, '--json'])
    expect(refused.exitCode).to.equal(5)
    expect(refused.json<ErrorBody>().error.code).to.equal('BUDGET_EXCEEDED')
    expect(refused.json<ErrorBody>().error.hint).to.include(`devflow session budget ${id} --add`)
    expect((await status(id)).status).to.equal('STOPPED')

    const raised = await run(['session', 'budget', id, '--add', '1', '--json'])
    expect(raised.exitCode, raised.stderr).to.equal(0)
    const resume = await run(['session', 'resume', id, '--wait', '--timeout', '60s', '--json'])
    expect(resume.exitCode, resume.stderr).to.equal(0)
    expect(resume.json<Session>()).to.include({status: 'RUNNING', resumeCount: 1})
    expect(git(['show', `devflow/${id}:spent.txt`], bare)).to.equal('S')
    expect((await run(['session', 'stop', id, '--wait', '--json'])).exitCode).to.equal(0)
  })
})
