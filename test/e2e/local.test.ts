/**
 * `devflow local` end to end, with the CLI as a process: the platform in the background, a session
 * on a bare repository in a temp dir running the real container scripts on the host, a stub
 * `claude` (container/test/fixtures/claude) that prints stream-json and writes a file, and the
 * session commands in local mode.
 */
import {readFile, rm, stat, writeFile} from 'node:fs/promises'
import {createServer, type Server} from 'node:net'
import {join} from 'node:path'

import {expect} from 'chai'

import {type CliSandbox, ROOT} from '../helpers/cli.js'
import {bareRepository, git, LocalPlatform} from '../helpers/local-platform.js'

interface Session {
  id: string
  status: string
  repo: string
  error?: {code: string; message: string}
}

interface Prompt {
  id: string
  status: string
  result?: {branch?: string; commit?: string; summary: string}
}

async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await read()
    if (done(value) || Date.now() > deadline) return value
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
}

describe('e2e: devflow local', function () {
  this.timeout(180_000)
  let local: LocalPlatform
  let cli: CliSandbox
  let dir: string
  let port: number

  const dataDir = () => local.dataDir
  const run = (args: string[], extra: Record<string, string> = {}) => local.run(args, extra)

  beforeEach(async function () {
    // No Docker engine unless a test says so (the fake docker's engine-down file).
    local = await LocalPlatform.create({prefix: 'devflow-local-e2e-'})
    ;({cli, dir, port} = local)
  })

  afterEach(async function () {
    await local.stop()
  })

  it('runs a session and a prompt, and keeps the history across local down / local up', async function () {
    const bare = bareRepository(dir)

    const up = await run(['local', 'up', '--port', String(port), '--json'])
    expect(up.exitCode, up.stderr).to.equal(0)
    expect(up.json()).to.include({started: true, url: `http://127.0.0.1:${port}/`, stage: 'local', runtime: 'process'})
    expect((await stat(join(dataDir(), 'token'))).mode & 0o777).to.equal(0o600)
    const config = JSON.parse(await readFile(cli.configFile, 'utf8')) as {stages: Record<string, Record<string, Record<string, string>>>}
    expect(config.stages.local.deployment.apiUrl).to.equal(`http://127.0.0.1:${port}/`)
    expect(config.stages.local.local).to.deep.equal({tokenFile: join(dataDir(), 'token'), dataDir: dataDir()})

    const again = await run(['local', 'up', '--port', String(port)])
    expect(again.exitCode).to.equal(0)
    expect(again.stdout).to.match(/already running locally at http:\/\/127\.0\.0\.1:\d+\/ \(pid \d+\); nothing was started/)

    const start = await run(['session', 'start', '--stage', 'local', '--repo', bare, '--wait', '--timeout', '60s', '--json'])
    expect(start.exitCode, start.stderr).to.equal(0)
    const session = start.json<Session>()
    expect(session).to.include({status: 'RUNNING', repo: 'local/app'})

    const prompt = await run(['session', 'prompt', session.id, '--stage', 'local', '--wait', '--timeout', '90s', '--json', 'write hello.txt Hello from DevFlow'])
    expect(prompt.exitCode, prompt.stderr).to.equal(0)
    const done = prompt.json<Prompt>()
    expect(done.status).to.equal('SUCCEEDED')
    expect(done.result?.branch).to.equal(`devflow/${session.id}`)
    expect(git(['rev-parse', `devflow/${session.id}`], bare)).to.equal(done.result?.commit)
    expect(git(['show', `devflow/${session.id}:hello.txt`], bare)).to.equal('Hello from DevFlow')

    const stop = await run(['session', 'stop', session.id, '--stage', 'local', '--json'])
    expect(stop.exitCode, stop.stderr).to.equal(0)

    const down = await run(['local', 'down', '--json'])
    expect(down.exitCode, down.stderr).to.equal(0)
    expect(down.json()).to.include({wasRunning: true})
    const status = await run(['local', 'status', '--json'])
    expect(status.json()).to.include({running: false})

    expect((await run(['local', 'up', '--port', String(port), '--json'])).exitCode).to.equal(0)
    const listed = await run(['session', 'list', '--stage', 'local', '--json'])
    expect(listed.exitCode, listed.stderr).to.equal(0)
    expect(listed.json<{items: Session[]}>().items.map((s) => [s.id, s.status])).to.deep.equal([[session.id, 'STOPPED']])
    const token = (await readFile(join(dataDir(), 'token'), 'utf8')).trim()
    const prompts = (await (await fetch(`http://127.0.0.1:${port}/sessions/${session.id}/prompts`, {headers: {authorization: `Bearer ${token}`}})).json()) as {items: Prompt[]}
    expect(prompts.items.map((p) => [p.id, p.status, p.result?.commit])).to.deep.equal([[done.id, 'SUCCEEDED', done.result?.commit]])

    // Without the token (or with another one) the API answers 401 and says how to get in.
    for (const headers of [{}, {authorization: `Bearer ${token}x`}] as Record<string, string>[]) {
      const refused = await fetch(`http://127.0.0.1:${port}/sessions`, {headers})
      expect(refused.status).to.equal(401)
      expect(((await refused.json()) as {error: {code: string}}).error.code).to.equal('LOCAL_TOKEN_REQUIRED')
    }
  })

  it('starts a session on the shipped sample project (the README line), and local down stops it', async function () {
    const sample = join(ROOT, 'examples', 'sample-repo')
    expect((await run(['local', 'up', '--port', String(port)])).exitCode).to.equal(0)
    const start = await run(['session', 'start', '--stage', 'local', '--repo', sample, '--wait', '--timeout', '60s', '--json'])
    expect(start.exitCode, start.stderr).to.equal(0)
    const session = start.json<Session>()
    expect(session).to.include({status: 'RUNNING', repo: 'local/sample-repo'})

    const prompt = await run(['session', 'prompt', session.id, '--stage', 'local', '--wait', '--timeout', '90s', '--json', 'write src/farewell.js export const farewell = () => "Bye"'])
    expect(prompt.exitCode, prompt.stderr).to.equal(0)
    // A folder inside another repository is imported once as a snapshot; the agent's branch lands there.
    const snapshot = join(dataDir(), 'repos', 'sample-repo.git')
    expect(git(['show', `devflow/${session.id}:src/greet.js`], snapshot)).to.include('export function greet')
    expect(git(['show', `devflow/${session.id}:src/farewell.js`], snapshot)).to.equal('export const farewell = () => "Bye"')

    const down = await run(['local', 'down', '--json'])
    expect(down.json()).to.deep.include({wasRunning: true, stoppedSessions: [session.id]})
    expect((await run(['local', 'up', '--port', String(port)])).exitCode).to.equal(0)
    const after = await run(['session', 'status', session.id, '--stage', 'local', '--json'])
    expect(after.json<Session>().status).to.equal('STOPPED')
  })

  it('marks a session whose processes are killed from outside FAILED, with the reason', async function () {
    const bare = bareRepository(dir)
    expect((await run(['local', 'up', '--port', String(port)])).exitCode).to.equal(0)
    const start = await run(['session', 'start', '--stage', 'local', '--repo', bare, '--wait', '--timeout', '60s', '--json'])
    expect(start.exitCode, start.stderr).to.equal(0)
    const {id} = start.json<Session>()

    const task = JSON.parse(await readFile(join(dataDir(), 'sessions', id, 'task.json'), 'utf8')) as {pid: number}
    process.kill(-task.pid, 'SIGKILL')

    const failed = await eventually(
      async () => (await run(['session', 'status', id, '--stage', 'local', '--json'])).json<Session>(),
      (s) => s.status !== 'RUNNING',
    )
    expect(failed.status).to.equal('FAILED')
    expect(failed.error?.message).to.match(/workspace process was killed/)

    const down = await run(['local', 'down', '--json'])
    expect(down.json()).to.deep.include({wasRunning: true, stoppedSessions: []})
  })

  it('refuses a prompt when no Claude API key is set, saying how to set one', async function () {
    const bare = bareRepository(dir)
    expect((await run(['local', 'up', '--port', String(port)], {ANTHROPIC_API_KEY: ''})).exitCode).to.equal(0)
    const start = await run(['session', 'start', '--stage', 'local', '--repo', bare, '--json'])
    expect(start.exitCode, start.stderr).to.equal(0)
    const prompt = await run(['session', 'prompt', start.json<Session>().id, '--stage', 'local', 'write a.txt a'])
    expect(prompt.exitCode).to.equal(2)
    expect(prompt.stderr).to.include('no Claude API key')
    expect(prompt.stderr).to.include('devflow secrets set claude-api-key --stage local')
  })

  it('runs sessions as containers when a Docker engine answers with a workspace image, and refuses --runtime docker without one', async function () {
    const refused = await run(['local', 'up', '--port', String(port), '--runtime', 'docker'])
    expect(refused.exitCode).to.equal(7)
    expect(refused.stderr).to.include('Error: The Docker engine does not answer, so sessions cannot run as containers.')
    expect(refused.stderr).to.include('devflow local up --runtime process')

    await rm(join(dir, 'docker', 'engine-down'))
    const noImage = await run(['local', 'up', '--port', String(port), '--runtime', 'docker'])
    expect(noImage.exitCode).to.equal(2)
    expect(noImage.stderr).to.include('devflow image build')

    await writeFile(join(dir, 'docker', 'images'), 'devflow-workspace:abc1234\n')
    const up = await run(['local', 'up', '--port', String(port), '--json'])
    expect(up.exitCode, up.stderr).to.equal(0)
    expect(up.json()).to.include({runtime: 'docker', image: 'devflow-workspace:abc1234'})
    const start = await run(['session', 'start', '--stage', 'local', '--repo', bareRepository(dir), '--json'])
    expect(start.exitCode, start.stderr).to.equal(0)
    const args = await readFile(join(dir, 'docker', 'containers', `devflow-${start.json<Session>().id}`, 'args'), 'utf8')
    expect(args.trim().split('\n').at(-1)).to.equal('devflow-workspace:abc1234')
    const down = await run(['local', 'down', '--json'])
    expect(down.json()).to.deep.include({stoppedSessions: [start.json<Session>().id]})
  })

  describe('with the port taken', function () {
    let blocker: Server

    beforeEach(async function () {
      blocker = createServer()
      await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve))
    })

    afterEach(async function () {
      await new Promise((resolve) => blocker.close(resolve))
    })

    it('says the port is in use and starts nothing', async function () {
      const up = await run(['local', 'up', '--port', String(port)])
      expect(up.exitCode).to.equal(5)
      expect(up.stderr).to.include(`Error: Port ${port} on 127.0.0.1 is already in use.`)
      expect(up.stderr).to.include(`Try this: Stop what listens there, or start on another port: devflow local up --port ${port + 1}.`)
      expect((await run(['local', 'status', '--json'])).json()).to.include({running: false})
    })
  })
})
