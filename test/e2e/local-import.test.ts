/**
 * A plain directory as a local session's repository (issue 11, defect 12): it is imported as a
 * snapshot in the background, so `session start` answers at once with a PROVISIONING session; the
 * workspace starts once the copy is done, and a copy that fails makes the session FAILED with the
 * reason. The CLI and the local server as real processes, git for real.
 */
import {mkdir, mkdtemp, rm, symlink, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {expect} from 'chai'

import {CliSandbox, ROOT} from '../helpers/cli.js'
import {freePort} from '../helpers/moto.js'

interface Session {
  id: string
  status: string
  repo: string
  error?: {code: string; message: string}
}

describe('e2e: devflow local, importing a plain directory in the background', function () {
  this.timeout(180_000)
  let cli: CliSandbox
  let dir: string
  let port: number
  let env: Record<string, string>

  const dataDir = () => join(cli.home, '.local', 'share', 'devflow', 'local')
  const run = (args: string[]) => cli.run(args, {env, timeout: 90_000})

  beforeEach(async function () {
    cli = await CliSandbox.create()
    dir = await mkdtemp(join(tmpdir(), 'devflow-local-import-'))
    const bin = join(dir, 'bin')
    await mkdir(bin)
    await symlink(join(ROOT, 'container', 'test', 'fixtures', 'claude'), join(bin, 'claude'))
    port = await freePort()
    env = {
      PATH: `${bin}:${process.env.PATH}`,
      ANTHROPIC_API_KEY: 'sk-ant-test',
      DEVFLOW_POLL_INTERVAL_MS: '250',
      POLL_WAIT_SECONDS: '2',
      CODE_SERVER_BIN: join(dir, 'no-code-server'),
      GITHUB_TOKEN: '',
    }
    expect((await run(['local', 'up', '--port', String(port), '--runtime', 'process'])).exitCode).to.equal(0)
  })

  afterEach(async function () {
    await run(['local', 'down'])
    await cli.cleanup()
    await rm(dir, {recursive: true, force: true})
  })

  async function project(): Promise<string> {
    const path = join(dir, 'project')
    await mkdir(join(path, 'src'), {recursive: true})
    await writeFile(join(path, 'src', 'index.js'), 'console.log("hello")\n')
    return path
  }

  async function statusUntil(id: string, done: (s: Session) => boolean): Promise<Session> {
    for (let i = 0; i < 120; i++) {
      const session = (await run(['session', 'status', id, '--stage', 'local', '--json'])).json<Session>()
      if (done(session)) return session
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
    throw new Error(`session ${id} never reached the expected state`)
  }

  it('answers the start at once (PROVISIONING), then runs the workspace on the imported snapshot', async function () {
    const start = await run(['session', 'start', '--stage', 'local', '--repo', await project(), '--json'])
    expect(start.exitCode, start.stderr).to.equal(0)
    const session = start.json<Session>()
    expect(session).to.include({status: 'PROVISIONING', repo: 'local/project'})
    const running = await statusUntil(session.id, (s) => s.status !== 'PROVISIONING')
    expect(running.status, JSON.stringify(running.error)).to.equal('RUNNING')
  })

  it('a copy that fails makes the session FAILED with the reason, and the next start imports again', async function () {
    // A stale index lock in the snapshot repository: git refuses to add to it, even as root.
    await mkdir(join(dataDir(), 'repos', 'project.git'), {recursive: true})
    await writeFile(join(dataDir(), 'repos', 'project.git', 'snapshot-index.lock'), '')
    const start = await run(['session', 'start', '--stage', 'local', '--repo', await project(), '--json'])
    expect(start.exitCode, start.stderr).to.equal(0)
    const failed = await statusUntil(start.json<Session>().id, (s) => s.status !== 'PROVISIONING')
    expect(failed.status).to.equal('FAILED')
    expect(failed.error?.message).to.include('Importing the repository failed').and.include('snapshot-index.lock')

    const again = await run(['session', 'start', '--stage', 'local', '--repo', join(dir, 'project'), '--json'])
    expect(again.exitCode, again.stderr).to.equal(0)
    expect((await statusUntil(again.json<Session>().id, (s) => s.status !== 'PROVISIONING')).status).to.equal('RUNNING')
  })
})
