/**
 * The warm pool and `session resume` together on the local platform (issues 12 and 16), with the
 * CLI as a process: `devflow local up --runtime process --warm 1`; a session started on the warm
 * workspace (the real container/entrypoint.sh, on its warm path) writes a file, leaves uncommitted
 * work and is stopped: its checkpoint and conversation are saved with the warm task's own proof.
 * The resumed session takes the refilled warm workspace, sees the files on the checkpoint's branch
 * and resumes the restored conversation.
 */
import {readFile, rm, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {gunzipSync} from 'node:zlib'

import {expect} from 'chai'

import type {WarmPoolStatus} from '../../src/core/warm-pool.js'
import {bareRepository, git, LocalPlatform} from '../helpers/local-platform.js'

interface Session {
  id: string
  status: string
  warm?: boolean
  taskArn?: string
  resumeCount?: number
  checkpoint?: {branch: string; commit: string; claudeSessionId?: string; conversation: boolean}
}

interface Prompt {
  status: string
  result?: {branch?: string}
}

async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 30_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await read()
    if (done(value) || Date.now() > deadline) return value
    await new Promise((resolve) => setTimeout(resolve, everyMs))
  }
}

describe('e2e: a warm-started session stops with its checkpoint and resumes (local up --warm 1)', function () {
  this.timeout(240_000)
  let local: LocalPlatform
  let dir: string
  let bare: string
  let stubLog: string

  const dataDir = () => local.dataDir
  const run = (args: string[]) => local.run([...args, '--stage', 'local'])
  const status = async (id: string) => (await run(['session', 'status', id, '--json'])).json<Session>()
  const health = async () => (await local.call<{warmPool?: WarmPoolStatus}>('GET', '/health')).body.warmPool
  /** The clone of a warm task's workspace: the task's directory is named after the warm task. */
  const cloneOf = (taskArn: string) => join(dataDir(), 'sessions', taskArn.split(':').at(-1) as string, 'workspace', 'app')

  before(async function () {
    local = await LocalPlatform.create({
      prefix: 'devflow-warm-resume-e2e-',
      pollIntervalMs: 100,
      runTimeout: 120_000,
      env: (dir: string) => ({EVENT_FLUSH_INTERVAL_SECONDS: '0.2', STUB_CLAUDE_LOG: join(dir, 'claude.jsonl')}),
    })
    dir = local.dir
    stubLog = join(dir, 'claude.jsonl')
    bare = bareRepository(dir)
    const up = await run(['local', 'up', '--runtime', 'process', '--warm', '1', '--port', String(local.port), '--json'])
    expect(up.exitCode, up.stderr).to.equal(0)
    expect(up.json()).to.include({runtime: 'process', warm: 1})
  })

  after(async function () {
    if (local) await local.stop()
  })

  it('saves the warm session\'s checkpoint and conversation on stop; the resumed session has the file and the conversation back', async function () {
    expect(await eventually(health, (pool) => pool?.warm === 1)).to.include({warm: 1})
    const start = await run(['session', 'start', '--repo', bare, '--wait', '--timeout', '60s', '--json'])
    expect(start.exitCode, start.stderr).to.equal(0)
    const started = start.json<Session>()
    expect(started).to.include({status: 'RUNNING', warm: true})
    const id = started.id
    const branch = `devflow/${id}`
    const first = await run(['session', 'prompt', id, '--wait', '--timeout', '90s', '--json', 'write first.txt written on the warm task'])
    expect(first.json<Prompt>().status, first.stderr).to.equal('SUCCEEDED')
    await writeFile(join(cloneOf(started.taskArn as string), 'notes.txt'), 'typed in the warm editor\n')

    const stop = await run(['session', 'stop', id, '--wait', '--json'])
    expect(stop.exitCode, stop.stderr).to.equal(0)
    // The stopping warm task proved itself to the checkpoint route: its work and conversation are saved.
    const stopped = await eventually(() => status(id), (s) => s.checkpoint !== undefined, 30_000, 250)
    expect(stopped.checkpoint, 'the warm task saved its checkpoint').to.include({branch, commit: git(['rev-parse', branch], bare), conversation: true})
    expect(git(['show', `${branch}:notes.txt`], bare)).to.equal('typed in the warm editor')
    const saved = gunzipSync(await readFile(join(dataDir(), 'conversations', `${id}.jsonl.gz`))).toString('utf8')
    expect(saved).to.include('write first.txt written on the warm task')
    const claudeId = stopped.checkpoint?.claudeSessionId as string
    expect(claudeId).to.be.a('string')
    await rm(join(local.cli.home, '.claude', 'projects'), {recursive: true, force: true})

    // The pool refilled meanwhile: the resume takes the warm workspace, which restores the checkpoint.
    expect(await eventually(health, (pool) => pool?.warm === 1)).to.include({warm: 1})
    const resume = await eventually(
      () => run(['session', 'resume', id, '--wait', '--timeout', '60s', '--json']),
      (r) => r.exitCode === 0 || !r.stdout.includes('SESSION_STILL_STOPPING'),
      30_000,
      500,
    )
    expect(resume.exitCode, resume.stderr + resume.stdout).to.equal(0)
    const resumed = resume.json<Session>()
    expect(resumed).to.include({id, status: 'RUNNING', resumeCount: 1, warm: true})
    expect(resumed.taskArn).to.not.equal(started.taskArn)

    const second = await run(['session', 'prompt', id, '--wait', '--timeout', '90s', '--json', 'write second.txt written after the resume'])
    expect(second.exitCode, second.stderr).to.equal(0)
    expect(second.json<Prompt>().result?.branch).to.equal(branch)
    for (const [file, text] of [['first.txt', 'written on the warm task'], ['notes.txt', 'typed in the warm editor'], ['second.txt', 'written after the resume']]) {
      expect(git(['show', `${branch}:${file}`], bare), file).to.equal(text)
    }
    const runs = (await readFile(stubLog, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as {args: string[]; resumedLines: number})
    const last = runs.at(-1)
    expect(last?.args[last.args.indexOf('--resume') + 1]).to.equal(claudeId)
    expect(last?.resumedLines, 'the restored transcript had the first prompt').to.equal(1)
    expect((await health())?.hits).to.equal(2)
  })
})
