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
        DEVFLOW_REPOSITORIES: REPO,
        ...extraEnv,
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

  it('takes the caller from the SigV4 access key under --trust-unsigned', async () => {
    const server = serve(['--port', '0', '--trust-unsigned'])
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

  /** Runs `api serve` expecting it to refuse to start: its exit code and JSON error. */
  async function refusal(args: string[], extraEnv: Record<string, string> = {}) {
    const server = serve([...args, '--port', '0', '--json'], extraEnv)
    server.url.catch(() => undefined)
    let stdout = ''
    server.child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    const code = await server.exit
    return {code, error: JSON.parse(stdout).error as {code: string; message: string; hint: string}, stderr: server.stderr()}
  }

  it('refuses to start without a way to know the caller (exit 2)', async () => {
    const {code, error, stderr} = await refusal([])
    expect(code).to.equal(2)
    expect(error.code).to.equal('API_SERVE_CALLER_UNSET')
    expect(error.hint).to.include('DEVFLOW_API_SIGV4_PRINCIPALS').and.to.include('--trust-unsigned')
    expect(stderr).not.to.include('listening on')
  })

  it('refuses a non-loopback --host unless signatures are verified (exit 2)', async () => {
    for (const args of [['--host', '0.0.0.0', '--user', 'alice'], ['--host', '0.0.0.0', '--trust-unsigned'], ['--host', '::', '--user', 'alice']]) {
      const {code, error} = await refusal(args)
      expect(code, args.join(' ')).to.equal(2)
      expect(error.code).to.equal('API_SERVE_HOST_NOT_LOOPBACK')
      expect(error.hint).to.include('DEVFLOW_API_SIGV4_PRINCIPALS')
    }
    const ambiguous = await refusal(['--user', 'alice'], {DEVFLOW_API_SIGV4_PRINCIPALS: JSON.stringify({AKIDTEST: {secretAccessKey: 's', userArn: 'arn:aws:iam::123456789012:user/a'}})})
    expect(ambiguous.code).to.equal(2)
    expect(ambiguous.error.code).to.equal('API_SERVE_CALLER_AMBIGUOUS')
  })

  it('serves any host with verified principals, and a forged unsigned Credential= is refused', async () => {
    const principals = {AKIDTEST: {secretAccessKey: 'secret', userArn: 'arn:aws:iam::123456789012:user/a'}}
    const server = serve(['--port', '0', '--host', '0.0.0.0'], {DEVFLOW_API_SIGV4_PRINCIPALS: JSON.stringify(principals)})
    const url = (await server.url).replace('0.0.0.0', '127.0.0.1')
    const forged = await fetch(`${url}/sessions`, {
      headers: {authorization: 'AWS4-HMAC-SHA256 Credential=AKIDTEST/20261129/us-east-1/execute-api/aws4_request, SignedHeaders=host, Signature=abc'},
    })
    expect(forged.status).to.equal(403)
    server.child.kill('SIGTERM')
    expect(await server.exit).to.equal(0)
  })

  it('answers a loopback server\'s requests only when their Host is a loopback name (DNS rebinding)', async () => {
    const server = serve(['--port', '0', '--user', 'alice'])
    const url = new URL(await server.url)
    const {request} = await import('node:http')
    const ask = (host: string) =>
      new Promise<{status: number; body: string}>((resolve, reject) => {
        const req = request({host: '127.0.0.1', port: url.port, path: '/sessions', headers: {host}}, (res) => {
          let body = ''
          res.on('data', (chunk: Buffer) => (body += chunk.toString()))
          res.on('end', () => resolve({status: res.statusCode ?? 0, body}))
        })
        req.on('error', reject)
        req.end()
      })
    const rebound = await ask(`evil.example:${url.port}`)
    expect(rebound.status).to.equal(403)
    expect(JSON.parse(rebound.body).error.code).to.equal('HOST_NOT_ALLOWED')
    for (const host of [`127.0.0.1:${url.port}`, `localhost:${url.port}`, 'localhost']) expect((await ask(host)).status, host).to.equal(200)
    server.child.kill('SIGTERM')
    expect(await server.exit).to.equal(0)
  })

  it('fails with PORT_IN_USE and exit code 5 when the port is taken', async () => {
    const blocker = createServer()
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
    const port = (blocker.address() as {port: number}).port
    try {
      const server = serve(['--port', String(port), '--user', 'alice', '--json'])
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
