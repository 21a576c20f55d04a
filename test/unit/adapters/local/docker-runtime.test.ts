import {mkdir, mkdtemp, readFile, rm, stat, writeFile} from 'node:fs/promises'
import {createServer, request, type Server} from 'node:http'
import type {AddressInfo, Socket} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {expect} from 'chai'

import {type DockerEgressOptions, DockerRuntime, dockerAnswers, newestWorkspaceImage} from '../../../../src/adapters/local/docker-runtime.js'
import type {EgressPolicy} from '../../../../src/core/egress-policy.js'
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

  it('without an egress policy: runs the image on the host network with the environment in an owner-only file, and stops it', async function () {
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
    // The bootstrap nonce: a file mounted read-only, named in the environment, never in it; readable
    // by the image's user (another uid than the host's), behind the owner-only session dir.
    const nonceFile = join(runtime.sessionDir(id), 'bootstrap-nonce')
    expect(args).to.include.members(['--volume', `${nonceFile}:/run/devflow/bootstrap-nonce:ro`])
    expect(await readFile(nonceFile, 'utf8')).to.equal(`nonce-${id}`)
    expect((await stat(nonceFile)).mode & 0o777).to.equal(0o644)
    expect((await stat(runtime.sessionDir(id))).mode & 0o777).to.equal(0o700)
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

/** A request through the proxy named by a workspace's environment: CONNECT for https-like traffic, an absolute URL for http. */
function throughProxy(proxyUrl: string, method: 'CONNECT' | 'GET', target: string): Promise<{status: number; body: string}> {
  const proxy = new URL(proxyUrl)
  return new Promise((resolve, reject) => {
    const req = request({host: proxy.hostname, port: Number(proxy.port), method, path: target, headers: method === 'GET' ? {host: new URL(target).host} : {}})
    req.on('connect', (res, socket: Socket) => {
      if (res.statusCode !== 200) {
        socket.destroy()
        return resolve({status: res.statusCode ?? 0, body: ''})
      }
      let raw = ''
      socket.on('data', (chunk: Buffer) => (raw += chunk.toString()))
      socket.on('end', () => resolve({status: 200, body: raw}))
      socket.write(`GET /tunnelled HTTP/1.1\r\nhost: ${target}\r\nconnection: close\r\n\r\n`)
    })
    req.on('response', (res) => {
      let body = ''
      res.on('data', (chunk: Buffer) => (body += chunk.toString()))
      res.on('end', () => resolve({status: res.statusCode ?? 0, body}))
    })
    req.on('error', reject)
    req.end()
  })
}

describe('adapters/local/DockerRuntime with egress filtered (fake docker CLI, real proxies on loopback)', function () {
  let dir: string
  let state: string
  let savedState: string | undefined
  let upstream: Server
  let upstreamPort: number
  const seen: string[] = []
  const runtimes: DockerRuntime[] = []

  const spec = (sessionId: string): TaskSpec => ({sessionId, owner: 'local:test', cpu: 1024, memory: 4096, capacity: 'FARGATE', environment: {SESSION_ID: sessionId, REPO: 'local/app', BRANCH: 'main', DEVFLOW_API_URL: 'http://127.0.0.1:7000'}, bootstrapNonce: `nonce-${sessionId}`})
  const container = (sessionId: string) => join(state, 'containers', `devflow-${sessionId}`)
  const envOf = async (sessionId: string) => Object.fromEntries((await readFile(join(container(sessionId), 'env'), 'utf8')).trim().split('\n').map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]))
  const runtimeWith = (policy: EgressPolicy, egressFile?: string, extra: Partial<DockerEgressOptions> = {}) => {
    const runtime = new DockerRuntime({
      dataDir: join(dir, 'data'),
      image: IMAGE,
      docker: FAKE_DOCKER,
      environment: () => ({ANTHROPIC_API_KEY: 'sk-ant-test'}),
      mounts: () => [],
      stopGraceMs: 5000,
      // The fake "API" and the fake "GitHub" are one loopback server; the proxy opens its port only.
      egress: {policy, apiPort: upstreamPort, ports: [upstreamPort], repositoryEgressFile: async () => egressFile, ...extra},
    })
    runtimes.push(runtime)
    return runtime
  }
  const filtered: EgressPolicy = {mode: 'allowList', allow: ['github.localhost', '*.github.localhost'], repositoryAdditions: true}

  before(async function () {
    upstream = createServer((req, res) => {
      seen.push(`${req.headers.host} ${req.url}`)
      res.end(`upstream ${req.url}`)
    })
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve))
    upstreamPort = (upstream.address() as AddressInfo).port
  })
  after(async function () {
    await new Promise((resolve) => upstream.close(resolve))
  })
  beforeEach(async function () {
    dir = await mkdtemp(join(tmpdir(), 'devflow-docker-egress-'))
    state = join(dir, 'docker')
    await mkdir(state)
    await writeFile(join(state, 'images'), `${IMAGE}\n`)
    savedState = process.env.FAKE_DOCKER_STATE
    process.env.FAKE_DOCKER_STATE = state
    seen.length = 0
  })
  afterEach(async function () {
    await Promise.all(runtimes.splice(0).map((runtime) => runtime.closeProxies()))
    process.env.FAKE_DOCKER_STATE = savedState
    if (savedState === undefined) delete process.env.FAKE_DOCKER_STATE
    await rm(dir, {recursive: true, force: true})
  })

  it('creates the internal network once and runs the workspace on it, never on the host network', async function () {
    const runtime = runtimeWith(filtered)
    await runtime.run(spec('s-dddddddddddddddddddd'))
    await runtime.run(spec('s-eeeeeeeeeeeeeeeeeeee'))
    expect((await readFile(join(state, 'networks', 'devflow-workspaces'), 'utf8')).trim().split('\n')).to.deep.equal(['--internal', '--label', 'devflow.network=workspaces', 'devflow-workspaces'])
    const args = (await readFile(join(container('s-dddddddddddddddddddd'), 'args'), 'utf8')).trim().split('\n')
    expect(args.slice(0, 8)).to.deep.equal(['--detach', '--name', 'devflow-s-dddddddddddddddddddd', '--label', 'devflow.session=s-dddddddddddddddddddd', '--network', 'devflow-workspaces', '--env-file'])
    expect(args).to.not.include('host')
    expect(args.at(-1)).to.equal(IMAGE)
  })

  it('gives the workspace its proxy in both spellings, its own loopback in NO_PROXY, the API as http://devflow-api, and the editor on its address', async function () {
    const runtime = runtimeWith(filtered)
    const id = 's-ffffffffffffffffffff'
    const {taskArn} = await runtime.run(spec(id))
    const env = await envOf(id)
    expect(env.HTTPS_PROXY).to.match(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect([env.HTTP_PROXY, env.http_proxy, env.https_proxy]).to.deep.equal([env.HTTPS_PROXY, env.HTTPS_PROXY, env.HTTPS_PROXY])
    expect([env.NO_PROXY, env.no_proxy]).to.deep.equal(['localhost,127.0.0.1,::1', 'localhost,127.0.0.1,::1'])
    expect(env.DEVFLOW_API_URL, 'the API through the proxy, not the host\'s 127.0.0.1').to.equal('http://devflow-api')
    expect(env.EDITOR_BIND_ADDR).to.match(/^0\.0\.0\.0:\d+$/)
    const port = Number(env.EDITOR_BIND_ADDR.split(':')[1])
    expect(await runtime.editorAccess(taskArn)).to.deep.equal({kind: 'url', url: `http://127.0.0.2:${port}/`, port})

    // The DevFlow API is reached through the proxy, with the loopback Host header the local server accepts.
    expect(await throughProxy(env.HTTP_PROXY, 'GET', 'http://devflow-api/agent/sessions/s-1/heartbeat')).to.deep.equal({status: 200, body: 'upstream /agent/sessions/s-1/heartbeat'})
    expect(seen).to.deep.equal([`127.0.0.1:${upstreamPort} /agent/sessions/s-1/heartbeat`])
  })

  it('the proxy allows a github-like loopback name and blocks another, logging it in the session dir', async function () {
    const runtime = runtimeWith(filtered)
    const id = 's-gggggggggggggggggggg'
    await runtime.run(spec(id))
    const {HTTPS_PROXY: proxy} = await envOf(id)
    const allowed = await throughProxy(proxy, 'CONNECT', `api.github.localhost:${upstreamPort}`)
    expect(allowed.status).to.equal(200)
    expect(allowed.body).to.contain('upstream /tunnelled')
    expect((await throughProxy(proxy, 'CONNECT', `evil.localhost:${upstreamPort}`)).status).to.equal(403)
    expect((await throughProxy(proxy, 'GET', `http://evil.localhost:${upstreamPort}/x`)).status).to.equal(403)
    expect(seen).to.deep.equal([`api.github.localhost:${upstreamPort} /tunnelled`])
    const log = (await readFile(join(runtime.sessionDir(id), 'egress.log'), 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as {host: string; method: string; allowed: boolean})
    expect(log.map((entry) => [entry.method, entry.host, entry.allowed])).to.deep.equal([
      ['CONNECT', 'evil.localhost', false],
      ['GET', 'evil.localhost', false],
    ])
  })

  it('honours the repository\'s .devflow/egress.txt only when the stage allows additions', async function () {
    const file = '# the project\'s mirror\n*.mirror.localhost\n'
    const honoured = runtimeWith(filtered, file)
    await honoured.run(spec('s-hhhhhhhhhhhhhhhhhhhh'))
    const withAdditions = (await envOf('s-hhhhhhhhhhhhhhhhhhhh')).HTTPS_PROXY
    expect((await throughProxy(withAdditions, 'CONNECT', `pkg.mirror.localhost:${upstreamPort}`)).status).to.equal(200)

    const refused = runtimeWith({...filtered, repositoryAdditions: false}, file)
    await refused.run(spec('s-iiiiiiiiiiiiiiiiiiii'))
    const without = (await envOf('s-iiiiiiiiiiiiiiiiiiii')).HTTPS_PROXY
    expect((await throughProxy(without, 'CONNECT', `pkg.mirror.localhost:${upstreamPort}`)).status).to.equal(403)
    expect((await throughProxy(without, 'CONNECT', `github.localhost:${upstreamPort}`)).status, 'the stage\'s list still applies').to.equal(200)
  })

  it('refuses a repository file with a bad line, naming it, before any container starts', async function () {
    const runtime = runtimeWith(filtered, 'not a host name\n')
    try {
      await runtime.run(spec('s-jjjjjjjjjjjjjjjjjjjj'))
      expect.fail('run should fail')
    } catch (error) {
      expect((error as DevflowError).code).to.equal('INVALID_EGRESS_PATTERN')
    }
    expect(await stat(container('s-jjjjjjjjjjjjjjjjjjjj')).catch(() => undefined)).to.equal(undefined)
  })

  it('closes the session\'s proxy when its container ends, and listens again where it was after a restart of the server', async function () {
    const runtime = runtimeWith(filtered)
    const id = 's-kkkkkkkkkkkkkkkkkkkk'
    const {taskArn} = await runtime.run(spec(id))
    const {HTTPS_PROXY: proxy} = await envOf(id)
    await runtime.closeProxies() // the server went down while the container ran
    await throughProxy(proxy, 'CONNECT', `github.localhost:${upstreamPort}`).then(
      () => expect.fail('nothing should listen'),
      (error: NodeJS.ErrnoException) => expect(error.code).to.equal('ECONNREFUSED'),
    )
    const restarted = runtimeWith(filtered)
    expect(await restarted.describe(taskArn)).to.include({lastStatus: 'RUNNING'})
    expect((await throughProxy(proxy, 'CONNECT', `github.localhost:${upstreamPort}`)).status).to.equal(200)
    expect((await throughProxy(proxy, 'CONNECT', `evil.localhost:${upstreamPort}`)).status).to.equal(403)

    await restarted.stop(taskArn, 'Stopped by the user')
    await throughProxy(proxy, 'CONNECT', `github.localhost:${upstreamPort}`).then(
      () => expect.fail('the proxy should be closed with its container'),
      (error: NodeJS.ErrnoException) => expect(error.code).to.equal('ECONNREFUSED'),
    )
  })

  it('egress open: the host network, no proxy and no network created', async function () {
    const runtime = runtimeWith({...filtered, mode: 'open'})
    const id = 's-llllllllllllllllllll'
    await runtime.run(spec(id))
    const args = (await readFile(join(container(id), 'args'), 'utf8')).trim().split('\n')
    expect(args).to.include.members(['--network', 'host'])
    const env = await envOf(id)
    expect(env.HTTPS_PROXY).to.equal(undefined)
    expect(env.DEVFLOW_API_URL).to.equal('http://127.0.0.1:7000')
    expect(env.EDITOR_BIND_ADDR).to.match(/^127\.0\.0\.1:\d+$/)
    expect(await stat(join(state, 'networks', 'devflow-workspaces')).catch(() => undefined)).to.equal(undefined)
  })
})
