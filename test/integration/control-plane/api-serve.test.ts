import {spawn} from 'node:child_process'
import {mkdtemp, rm} from 'node:fs/promises'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {expect} from 'chai'

import {signRequest} from '../../../src/adapters/http/sigv4.js'
import {CLI} from '../../helpers/cli.js'
import {REPO, usePlatform} from '../../helpers/platform-fixture.js'

describe('devflow api serve', function () {
  this.timeout(60_000)
  const h = usePlatform()
  let home: string

  before(async () => {
    home = await mkdtemp(join(tmpdir(), 'devflow-serve-'))
  })
  after(async () => {
    await rm(home, {recursive: true, force: true})
  })

  function serve(args: string[], extraEnv: Record<string, string> = {}) {
    const child = spawn(process.execPath, [CLI, 'api', 'serve', ...args], {
      env: {
        ...process.env,
        ...extraEnv,
        ...h.moto.env(),
        HOME: home,
        XDG_CONFIG_HOME: join(home, '.config'),
        DEVFLOW_CLUSTER: h.config.cluster,
        DEVFLOW_TASK_DEFINITION: h.config.taskDefinition,
        DEVFLOW_SUBNETS: h.config.subnets.join(','),
        DEVFLOW_SECURITY_GROUPS: h.config.securityGroups.join(','),
        // The stage's own settings as its functions get them: the default capacity, on the emulator.
        DEVFLOW_EMULATOR: h.config.emulator ?? '',
        DEVFLOW_TASK_ROLE_ARN: h.config.taskRoleArn ?? '',
        DEVFLOW_GITHUB_APP_SECRET_ARN: h.config.githubAppSecretArn,
      },
    })
    let stderr = ''
    const url = new Promise<string>((resolve, reject) => {
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString()
        const match = /listening on (http:\/\/\S+)/.exec(stderr)
        if (match) resolve(match[1])
      })
      child.on('exit', (code) => reject(new Error(`api serve exited ${code}: ${stderr}`)))
    })
    const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
    return {child, url, exit, stderr: () => stderr}
  }

  it('serves the router with the --user identity and stops cleanly on SIGTERM', async () => {
    const server = serve(['--port', '0', '--user', 'alice'])
    const url = await server.url
    const started = await fetch(`${url}/sessions`, {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify({repo: REPO})})
    const session = (await started.json()) as {id: string; userId: string; status: string}
    expect(started.status, JSON.stringify(session)).to.equal(201)
    expect(session.userId).to.equal('alice')
    const task = (await h.tasks()).find((t) => t.overrides?.containerOverrides?.[0]?.environment?.some((e) => e.value === session.id))
    expect(task?.overrides?.containerOverrides?.[0]?.environment?.find((e) => e.name === 'DEVFLOW_API_URL')?.value).to.equal(url)
    const read = await fetch(`${url}/sessions/${session.id}`)
    expect(read.status).to.equal(200)
    server.child.kill('SIGTERM')
    expect(await server.exit).to.equal(0)
    // Logs never carry the agent's token.
    expect(server.stderr()).to.include('"route":"/sessions/{id}"')
    expect(server.stderr()).not.to.match(/DEVFLOW_SESSION_TOKEN|Bearer/)
  })

  it('takes the caller from the SigV4 access key', async () => {
    const server = serve(['--port', '0'])
    const url = await server.url
    const anonymous = await fetch(`${url}/sessions`)
    expect(anonymous.status).to.equal(401)
    const signed = await fetch(`${url}/sessions`, {
      headers: {authorization: 'AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20261129/us-east-1/execute-api/aws4_request, SignedHeaders=host, Signature=abc'},
    })
    expect(signed.status).to.equal(200)
    server.child.kill('SIGINT')
    expect(await server.exit).to.equal(0)
  })

  it('API mode (verified SigV4): refuses an SDK-generated role session name, keeps an SSO user as the owner', async () => {
    const generated = 'arn:aws:sts::123456789012:assumed-role/DevflowDeveloper/aws-sdk-js-1733069912345'
    const sso = 'arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Developer_0123456789abcdef/ada@example.com'
    const principals = {AKIAGENERATED: {secretAccessKey: 'generated-secret', userArn: generated}, AKIASSOUSER: {secretAccessKey: 'sso-secret', userArn: sso}}
    const server = serve(['--port', '0'], {DEVFLOW_API_SIGV4_PRINCIPALS: JSON.stringify(principals)})
    const url = await server.url
    const signedStart = async (accessKeyId: string, secretAccessKey: string) => {
      const body = JSON.stringify({repo: REPO})
      const target = new URL(`${url}/sessions`)
      const headers = await signRequest({method: 'POST', url: target, headers: {'content-type': 'application/json'}, body}, {accessKeyId, secretAccessKey}, 'us-east-1')
      const response = await fetch(target, {method: 'POST', headers, body})
      return {status: response.status, body: (await response.json()) as {userId?: string; error?: {code: string; hint: string}}}
    }
    const refused = await signedStart('AKIAGENERATED', 'generated-secret')
    expect(refused.status).to.equal(403)
    expect(refused.body.error?.code).to.equal('UNSTABLE_ROLE_SESSION_NAME')
    expect(refused.body.error?.hint).to.contain('role_session_name')
    const started = await signedStart('AKIASSOUSER', 'sso-secret')
    expect(started.status, JSON.stringify(started.body)).to.equal(201)
    expect(started.body.userId).to.equal(sso)
    server.child.kill('SIGTERM')
    expect(await server.exit).to.equal(0)
  })

  it('fails with PORT_IN_USE and exit code 5 when the port is taken', async () => {
    const blocker = createServer()
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
    const port = (blocker.address() as {port: number}).port
    try {
      const server = serve(['--port', String(port), '--json'])
      server.url.catch(() => undefined)
      let stdout = ''
      server.child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
      expect(await server.exit).to.equal(5)
      expect(JSON.parse(stdout).error.code).to.equal('PORT_IN_USE')
    } finally {
      blocker.close()
    }
  })
})
