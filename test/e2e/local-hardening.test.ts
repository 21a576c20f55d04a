/**
 * The local platform's edges (issue 11, defect 12), with the CLI as a process: an owner-only data
 * dir, the Host check against DNS rebinding, 5xx written to server.log, refused repository paths,
 * and `local down` after the server crashed stopping the workspaces it left running.
 */
import {execFileSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {readFile, rm, stat, writeFile} from 'node:fs/promises'
import {request} from 'node:http'
import {join} from 'node:path'

import {expect} from 'chai'

import type {CliSandbox} from '../helpers/cli.js'
import {LocalPlatform} from '../helpers/local-platform.js'

/** Alive and not a zombie (a crashed server's children are reparented to a PID 1 that may not reap them). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return false
  }
}

/** One request with a chosen Host header (fetch does not let a caller set it). */
function ask(port: number, host: string, token: string): Promise<{status: number; body: string}> {
  return new Promise((resolve, reject) => {
    const req = request({host: '127.0.0.1', port, path: '/sessions', headers: {host, authorization: `Bearer ${token}`}}, (res) => {
      let body = ''
      res.on('data', (chunk: Buffer) => (body += chunk.toString()))
      res.on('end', () => resolve({status: res.statusCode ?? 0, body}))
    })
    req.on('error', reject)
    req.end()
  })
}

describe('e2e: devflow local, its edges', function () {
  this.timeout(180_000)
  let local: LocalPlatform
  let cli: CliSandbox
  let dir: string
  let port: number

  const dataDir = () => local.dataDir
  const run = (args: string[]) => local.run(args)

  beforeEach(async function () {
    local = await LocalPlatform.create({prefix: 'devflow-local-edges-'})
    ;({cli, dir, port} = local)
  })

  afterEach(async function () {
    await rm(join(dataDir(), 'sessions'), {force: true}).catch(() => undefined)
    await local.stop()
  })

  it('keeps the data dir owner-only, refuses a rebound Host, refuses / and $HOME, and logs its 5xx', async function () {
    const up = await run(['local', 'up', '--port', String(port), '--json'])
    expect(up.exitCode, up.stderr).to.equal(0)
    expect((await stat(dataDir())).mode & 0o777).to.equal(0o700)
    expect((await stat(join(dataDir(), 'devflow.db'))).mode & 0o777).to.equal(0o600)
    expect((await stat(join(dataDir(), 'server.log'))).mode & 0o777).to.equal(0o600)
    const token = (await readFile(join(dataDir(), 'token'), 'utf8')).trim()

    const rebound = await ask(port, `attacker.example:${port}`, token)
    expect(rebound.status).to.equal(403)
    expect(JSON.parse(rebound.body).error).to.include({code: 'HOST_NOT_ALLOWED'})
    expect((await ask(port, `localhost:${port}`, token)).status).to.equal(200)
    expect((await ask(port, `127.0.0.1:${port}`, token)).status).to.equal(200)

    for (const repo of ['/', cli.home]) {
      const refused = await run(['session', 'start', '--stage', 'local', '--repo', repo, '--json'])
      expect(refused.exitCode, refused.stderr).to.equal(2)
      expect(refused.json<{error: {code: string}}>().error.code).to.equal('REPO_PATH_TOO_BROAD')
    }

    // A workspace that cannot be created is a 5xx; its cause lands in server.log.
    const project = join(dir, 'project')
    git(['init', '--quiet', '--initial-branch=main', project])
    git(['-C', project, '-c', 'user.name=Dev', '-c', 'user.email=dev@example.com', 'commit', '--quiet', '--allow-empty', '-m', 'initial'])
    // (a file where the sessions directory goes: even root cannot create the workspace)
    await writeFile(join(dataDir(), 'sessions'), '')
    const failed = await run(['session', 'start', '--stage', 'local', '--repo', project, '--json'])
    expect(failed.exitCode).to.not.equal(0)
    const log = await readFile(join(dataDir(), 'server.log'), 'utf8')
    expect(log).to.match(/devflow-local: request failed .*"route":"\/sessions"/)
    expect(log).to.match(/EEXIST|ENOTDIR/)
  })

  it('local down after a server crash stops the workspaces it left running', async function () {
    const project = join(dir, 'project')
    git(['init', '--quiet', '--initial-branch=main', project])
    git(['-C', project, '-c', 'user.name=Dev', '-c', 'user.email=dev@example.com', 'commit', '--quiet', '--allow-empty', '-m', 'initial'])
    expect((await run(['local', 'up', '--port', String(port)])).exitCode).to.equal(0)
    const start = await run(['session', 'start', '--stage', 'local', '--repo', project, '--wait', '--timeout', '60s', '--json'])
    expect(start.exitCode, start.stderr).to.equal(0)
    const session = start.json<{id: string}>()
    const task = JSON.parse(await readFile(join(dataDir(), 'sessions', session.id, 'task.json'), 'utf8')) as {pid: number; procStart?: string}
    expect(isAlive(task.pid)).to.equal(true)
    expect(task.procStart).to.be.a('string')

    const serverPid = Number(await readFile(join(dataDir(), 'server.pid'), 'utf8'))
    process.kill(serverPid, 'SIGKILL')
    for (let i = 0; i < 50 && isAlive(serverPid); i++) await new Promise((resolve) => setTimeout(resolve, 100))
    expect(isAlive(task.pid), 'the workspace outlives the crashed server').to.equal(true)

    const down = await run(['local', 'down', '--json'])
    expect(down.exitCode, down.stderr).to.equal(0)
    expect(down.json()).to.deep.include({wasRunning: false, stoppedSessions: [session.id]})
    expect(isAlive(task.pid)).to.equal(false)
    expect(await readFile(join(dataDir(), 'sessions', session.id, 'stop-reason'), 'utf8')).to.include('the local server was not running')
  })
})

function git(args: string[]): void {
  execFileSync('git', args, {stdio: 'ignore'})
}
