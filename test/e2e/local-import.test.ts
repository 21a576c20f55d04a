/**
 * A plain directory as a local session's repository (issue 11, defect 12): it is imported as a
 * snapshot in the background, so `session start` answers at once with a PROVISIONING session; the
 * workspace starts once the copy is done, and a copy that fails makes the session FAILED with the
 * reason. The CLI and the local server as real processes, git for real.
 */
import {mkdir, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {expect} from 'chai'

import {LocalPlatform} from '../helpers/local-platform.js'

interface Session {
  id: string
  status: string
  repo: string
  error?: {code: string; message: string}
}

describe('e2e: devflow local, importing a plain directory in the background', function () {
  this.timeout(180_000)
  let local: LocalPlatform
  let dir: string

  const dataDir = () => local.dataDir
  const run = (args: string[]) => local.run(args)

  beforeEach(async function () {
    local = await LocalPlatform.create({prefix: 'devflow-local-import-', fakeDocker: false})
    dir = local.dir
    expect((await run(['local', 'up', '--port', String(local.port), '--runtime', 'process'])).exitCode).to.equal(0)
  })

  afterEach(async function () {
    await local.stop()
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
