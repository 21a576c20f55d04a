import {mkdir, mkdtemp, readFile, rm, stat, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {expect} from 'chai'

import {DockerRuntime, dockerAnswers, newestWorkspaceImage} from '../../../../src/adapters/local/docker-runtime.js'
import {DevflowError} from '../../../../src/core/errors.js'
import type {TaskSpec} from '../../../../src/core/ports.js'

const FAKE_DOCKER = fileURLToPath(new URL('fixtures/fake-docker', import.meta.url))
const IMAGE = 'devflow-workspace:abc1234'

describe('adapters/local/DockerRuntime (against a fake docker CLI)', function () {
  let dir: string
  let state: string
  let runtime: DockerRuntime
  let savedState: string | undefined

  const spec = (sessionId: string): TaskSpec => ({sessionId, owner: 'local:test', cpu: 1024, memory: 4096, capacity: 'FARGATE_SPOT', environment: {SESSION_ID: sessionId, REPO: 'local/app'}, bootstrapNonce: `nonce-${sessionId}`})
  const container = (sessionId: string) => join(state, 'containers', `devflow-${sessionId}`)

  beforeEach(async function () {
    dir = await mkdtemp(join(tmpdir(), 'devflow-docker-'))
    state = join(dir, 'docker')
    await mkdir(state)
    await writeFile(join(state, 'images'), `${IMAGE}\ndevflow-workspace:older\n`)
    savedState = process.env.FAKE_DOCKER_STATE
    process.env.FAKE_DOCKER_STATE = state
    runtime = new DockerRuntime({
      dataDir: join(dir, 'data'),
      image: IMAGE,
      docker: FAKE_DOCKER,
      environment: () => ({ANTHROPIC_API_KEY: 'sk-ant-test', REPO_URL: '/srv/app.git'}),
      mounts: () => ['/srv/app.git'],
      stopGraceMs: 5000,
    })
  })

  afterEach(async function () {
    process.env.FAKE_DOCKER_STATE = savedState
    if (savedState === undefined) delete process.env.FAKE_DOCKER_STATE
    await rm(dir, {recursive: true, force: true})
  })

  it('finds the engine and the newest workspace image', async function () {
    expect(await dockerAnswers(FAKE_DOCKER)).to.equal(true)
    expect(await newestWorkspaceImage(FAKE_DOCKER)).to.equal(IMAGE)
    await writeFile(join(state, 'engine-down'), '')
    expect(await dockerAnswers(FAKE_DOCKER)).to.equal(false)
    expect(await newestWorkspaceImage(FAKE_DOCKER)).to.equal(undefined)
  })

  it('runs the image on the host network with the environment in an owner-only file, and stops it', async function () {
    const id = 's-aaaaaaaaaaaaaaaaaaaa'
    const {taskArn} = await runtime.run(spec(id))
    const args = (await readFile(join(container(id), 'args'), 'utf8')).trim().split('\n')
    expect(args).to.include.members(['--network', 'host', '--volume', '/srv/app.git:/srv/app.git', IMAGE])
    expect(args.at(-1)).to.equal(IMAGE)
    const env = await readFile(join(container(id), 'env'), 'utf8')
    expect(env).to.include(`SESSION_ID=${id}\n`).and.include('ANTHROPIC_API_KEY=sk-ant-test\n').and.include('REPO_URL=/srv/app.git\n')
    expect(env).to.match(/EDITOR_BIND_ADDR=127\.0\.0\.1:\d+\n/)
    expect((await stat(join(runtime.sessionDir(id), 'container.env'))).mode & 0o777).to.equal(0o600)
    expect(runtime.editorPort(taskArn)).to.equal(Number(/EDITOR_BIND_ADDR=127\.0\.0\.1:(\d+)/.exec(env)?.[1]))
    // The bootstrap nonce: a 0600 file mounted read-only, named in the environment, never in it.
    const nonceFile = join(runtime.sessionDir(id), 'bootstrap-nonce')
    expect(args).to.include.members(['--volume', `${nonceFile}:/run/devflow/bootstrap-nonce:ro`])
    expect(await readFile(nonceFile, 'utf8')).to.equal(`nonce-${id}`)
    expect((await stat(nonceFile)).mode & 0o777).to.equal(0o600)
    expect(env).to.include('DEVFLOW_BOOTSTRAP_FILE=/run/devflow/bootstrap-nonce\n').and.not.include(`nonce-${id}`)

    expect(await runtime.describe(taskArn)).to.include({lastStatus: 'RUNNING'})
    await runtime.stop(taskArn, 'Stopped by the user')
    expect(await runtime.describe(taskArn)).to.include({lastStatus: 'STOPPED', stopCode: 'UserInitiated', stoppedReason: 'Stopped by the user', exitCode: 0})
    // The ended container is removed once its exit is recorded, and the env file with it.
    expect(await stat(container(id)).catch(() => undefined)).to.equal(undefined)
    await stat(join(runtime.sessionDir(id), 'container.env')).then(
      () => expect.fail('the env file should be gone'),
      () => undefined,
    )
    await runtime.stop(taskArn, 'again')
  })

  it('reports a container that died by itself with its exit code, also after a restart', async function () {
    const id = 's-bbbbbbbbbbbbbbbbbbbb'
    const {taskArn} = await runtime.run(spec(id))
    process.kill(Number(await readFile(join(container(id), 'pid'), 'utf8')), 'SIGKILL')
    await new Promise((resolve) => setTimeout(resolve, 100))
    const died = await runtime.describe(taskArn)
    expect(died).to.include({lastStatus: 'STOPPED', stopCode: 'EssentialContainerExited', exitCode: 137, stoppedReason: 'The workspace container exited with code 137.'})
    const restarted = new DockerRuntime({dataDir: join(dir, 'data'), image: IMAGE, docker: FAKE_DOCKER, environment: () => ({}), mounts: () => []})
    expect(await restarted.describe(taskArn)).to.deep.equal(died)
  })

  it('says what to do when the image is missing', async function () {
    await writeFile(join(state, 'images'), '')
    try {
      await runtime.run(spec('s-cccccccccccccccccccc'))
      expect.fail('run should fail')
    } catch (error) {
      expect(error).to.be.instanceOf(DevflowError)
      expect((error as DevflowError).code).to.equal('WORKSPACE_START_FAILED')
      expect((error as DevflowError).message).to.include('Unable to find image')
    }
  })
})
