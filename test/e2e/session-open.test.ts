/**
 * `devflow session open`: the SSM port forward through ECS Exec, with a stub session-manager-plugin
 * on PATH that records its arguments, and without one. moto implements neither SSM StartSession
 * nor the containers' runtimeId, so the CLI's ECS and SSM endpoints point at a small fake that
 * checks each request's SigV4 signature, forwards DescribeTasks to moto adding the runtime ids,
 * and answers StartSession as SSM does, recording the request.
 */
import {chmod, mkdir, readFile, writeFile} from 'node:fs/promises'
import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import {join} from 'node:path'

import {expect} from 'chai'

import {verifySigV4} from '../../src/adapters/http/sigv4.js'
import {CliSandbox} from '../helpers/cli.js'
import {expectMatchesSchema} from '../helpers/output-schemas.js'
import {REPO, usePlatform} from '../helpers/platform-fixture.js'

interface FakeSsm {
  readonly url: string
  readonly startSessions: Array<Record<string, unknown>>
  close(): Promise<void>
}

/** ECS DescribeTasks (via moto, plus runtimeId) and SSM StartSession, SigV4-checked. */
async function startFakeEcsSsm(motoUrl: string): Promise<FakeSsm> {
  const startSessions: Array<Record<string, unknown>> = []
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const body = Buffer.concat(chunks).toString('utf8')
    const target = String(req.headers['x-amz-target'] ?? '')
    const service = target.startsWith('AmazonSSM.') ? 'ssm' : 'ecs'
    try {
      await verifySigV4({method: req.method ?? 'POST', url: req.url ?? '/', headers: req.headers, body}, (key) => (key === 'testing' ? 'testing' : undefined), {service})
    } catch (error) {
      res.writeHead(403, {'content-type': 'application/x-amz-json-1.1'}).end(JSON.stringify({__type: 'InvalidSignatureException', message: (error as Error).message}))
      return
    }
    if (target === 'AmazonSSM.StartSession') {
      const request = JSON.parse(body) as Record<string, unknown>
      startSessions.push(request)
      const sessionId = `devflow-test-${startSessions.length}`
      res.writeHead(200, {'content-type': 'application/x-amz-json-1.1'}).end(
        JSON.stringify({SessionId: sessionId, TokenValue: 'token-value', StreamUrl: `wss://ssmmessages.us-east-1.amazonaws.com/v1/data-channel/${sessionId}`}),
      )
      return
    }
    const upstream = await fetch(motoUrl, {method: 'POST', headers: {'content-type': String(req.headers['content-type']), 'x-amz-target': target, authorization: String(req.headers.authorization)}, body})
    const answer = (await upstream.json()) as {tasks?: Array<{taskArn: string; containers?: Array<Record<string, unknown>>}>}
    for (const task of answer.tasks ?? []) {
      for (const [index, container] of (task.containers ?? []).entries()) container.runtimeId = `${task.taskArn.split('/').at(-1)}-${index}`
    }
    res.writeHead(upstream.status, {'content-type': 'application/x-amz-json-1.1'}).end(JSON.stringify(answer))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    startSessions,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}

describe('e2e: devflow session open', function () {
  this.timeout(120_000)
  const platform = usePlatform({api: 'cli'})
  let fake: FakeSsm
  let stubDir: string
  let argsFile: string
  let session: {id: string; taskArn: string}
  let password: string

  before(async () => {
    fake = await startFakeEcsSsm(platform.moto.url)
    stubDir = join(platform.cli.home, 'stub-bin')
    argsFile = join(platform.cli.home, 'plugin-args.json')
    await mkdir(stubDir)
    const start = await platform.cli.run(['session', 'start', '--repo', REPO, '--json'], {env: platform.env({DEVFLOW_ENDPOINT: platform.api.url})})
    session = start.json()
    await platform.agent.heartbeat(session.id, await platform.agent.token(session.id, session.taskArn))
    password = (await platform.agent.bootstrap(session.id, session.taskArn)).editorPassword
  })
  after(async () => {
    await fake?.close()
  })

  async function installStub(exitCode: number): Promise<void> {
    const stub = join(stubDir, 'session-manager-plugin')
    await writeFile(stub, `#!/usr/bin/env node\nrequire('fs').writeFileSync(${JSON.stringify(argsFile)}, JSON.stringify(process.argv.slice(2)))\nprocess.exit(${exitCode})\n`)
    await chmod(stub, 0o755)
  }

  const open = (args: string[], withStub: boolean) =>
    platform.cli.run(['session', 'open', session.id, '--no-browser', ...args], {
      env: platform.env({
        DEVFLOW_ENDPOINT: platform.api.url,
        AWS_ENDPOINT_URL_ECS: fake.url,
        AWS_ENDPOINT_URL_SSM: fake.url,
        PATH: withStub ? `${stubDir}:${process.env.PATH}` : (process.env.PATH ?? ''),
      }),
    })

  it('starts the SSM port forward to the task with the plugin, as the AWS CLI does', async () => {
    await installStub(0)
    const result = await open(['--port', '9123', '--json'], true)
    expect(result.exitCode, result.stdout + result.stderr).to.equal(0)
    const access = result.json()
    expectMatchesSchema('session-open', access)
    expect(access).to.deep.include({sessionId: session.id, url: 'http://localhost:9123/', via: 'ssm-port-forward', localPort: 9123, password, ssmSessionId: 'devflow-test-1'})
    const taskId = session.taskArn.split('/').at(-1)
    const request = {Target: `ecs:devflow_${taskId}_${taskId}-0`, DocumentName: 'AWS-StartPortForwardingSession', Parameters: {portNumber: ['8080'], localPortNumber: ['9123']}}
    expect(fake.startSessions).to.deep.equal([request])
    const args = JSON.parse(await readFile(argsFile, 'utf8')) as string[]
    expect(args).to.have.length(6)
    expect(JSON.parse(args[0])).to.deep.equal({SessionId: 'devflow-test-1', TokenValue: 'token-value', StreamUrl: 'wss://ssmmessages.us-east-1.amazonaws.com/v1/data-channel/devflow-test-1'})
    expect(args.slice(1, 4)).to.deep.equal(['us-east-1', 'StartSession', ''])
    expect(JSON.parse(args[4])).to.deep.equal(request)
    expect(args[5]).to.equal(fake.url)
  })

  it('shows the URL and the password once in human mode', async () => {
    await installStub(0)
    const result = await open([], true)
    expect(result.exitCode, result.stderr).to.equal(0)
    expect(result.stdout).to.include('http://localhost:8080/')
    expect(result.stdout.split(password)).to.have.length(2)
  })

  it('fails with exit 7 when the plugin fails', async () => {
    await installStub(1)
    const result = await open(['--json'], true)
    expect(result.exitCode).to.equal(7)
    expect(result.json<{error: {code: string}}>().error.code).to.equal('PORT_FORWARD_FAILED')
  })

  it('without the plugin: exit 2 with install instructions, and no SSM session opened', async () => {
    const before = fake.startSessions.length
    const result = await open(['--json'], false)
    expect(result.exitCode).to.equal(2)
    const {error} = result.json<{error: {code: string; hint: string}}>()
    expect(error.code).to.equal('SSM_PLUGIN_MISSING')
    expect(error.hint).to.include('https://docs.aws.amazon.com/systems-manager/latest/userguide/session-manager-working-with-install-plugin.html')
    expect(fake.startSessions).to.have.length(before)
  })

  it('refuses a session that is not running yet (exit 5)', async () => {
    const start = await platform.cli.run(['session', 'start', '--repo', REPO, '--json'], {env: platform.env({DEVFLOW_ENDPOINT: platform.api.url})})
    const pending = start.json<{id: string}>()
    const result = await platform.cli.run(['session', 'open', pending.id, '--no-browser', '--json'], {env: platform.env({DEVFLOW_ENDPOINT: platform.api.url})})
    expect(result.exitCode).to.equal(5)
    expect(result.json<{error: {code: string}}>().error.code).to.equal('EDITOR_UNAVAILABLE')
  })
})

describe('e2e: devflow session open in local mode', () => {
  let server: Server
  let cli: CliSandbox
  const seen: Array<string | undefined> = []

  before(async () => {
    server = createServer((req, res) => {
      seen.push(req.headers.authorization)
      if (req.headers.authorization !== 'Bearer local-secret') {
        res.writeHead(401, {'content-type': 'application/json'}).end(JSON.stringify({error: {code: 'UNAUTHENTICATED', message: 'Bad token.', hint: 'Run devflow local up.'}}))
        return
      }
      res.writeHead(200, {'content-type': 'application/json'}).end(
        JSON.stringify({sessionId: 's-abcdefghijklmnopqrst', status: 'RUNNING', port: 8080, url: 'http://127.0.0.1:18080/', password: 'local-pw'}),
      )
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    cli = await CliSandbox.create()
    const tokenFile = join(cli.home, 'local-token')
    await writeFile(tokenFile, 'local-secret\n', {mode: 0o600})
    await mkdir(join(cli.configHome, 'devflow'), {recursive: true})
    const apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
    await writeFile(cli.configFile, JSON.stringify({stages: {local: {local: {tokenFile, apiUrl}}}}))
  })
  after(async () => {
    server.close()
    await cli.cleanup()
  })

  it('opens the URL the local runtime reports, authenticated with the local token', async () => {
    const result = await cli.run(['session', 'open', 's-abcdefghijklmnopqrst', '--stage', 'local', '--no-browser', '--json'])
    expect(result.exitCode, result.stdout + result.stderr).to.equal(0)
    expect(result.json()).to.deep.equal({sessionId: 's-abcdefghijklmnopqrst', url: 'http://127.0.0.1:18080/', via: 'direct', password: 'local-pw'})
    expect(seen).to.deep.equal(['Bearer local-secret'])
  })

  it('opens the browser unless --no-browser', async () => {
    const bin = join(cli.home, 'browser-bin')
    const opened = join(cli.home, 'opened-url')
    await mkdir(bin, {recursive: true})
    await writeFile(join(bin, 'xdg-open'), `#!/bin/sh\nprintf '%s' "$1" > ${JSON.stringify(opened)}\n`, {mode: 0o755})
    const result = await cli.run(['session', 'open', 's-abcdefghijklmnopqrst', '--stage', 'local'], {env: {PATH: `${bin}:${process.env.PATH}`}})
    expect(result.exitCode, result.stderr).to.equal(0)
    expect(result.stdout).to.match(/Editor:\s+http:\/\/127.0.0.1:18080\/\nPassword: local-pw/)
    let url = ''
    for (let i = 0; i < 50 && url === ''; i++) {
      url = await readFile(opened, 'utf8').catch(() => '')
      if (url === '') await new Promise((resolve) => setTimeout(resolve, 100))
    }
    expect(url).to.equal('http://127.0.0.1:18080/')
  })
})
