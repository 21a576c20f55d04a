/**
 * `devflow secrets set|status` as a process against moto_server. The secrets exist as the stack
 * creates them (holding the placeholder); the commands validate before writing and never print a
 * value.
 */
import {generateKeyPairSync} from 'node:crypto'
import {writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {GetSecretValueCommand, SecretsManagerClient} from '@aws-sdk/client-secrets-manager'
import {expect} from 'chai'

import {SecretsAdmin} from '../../src/adapters/aws/secrets-admin.js'
import {SECRET_NAMES} from '../../src/core/deployment.js'
import {UNSET_SECRET_VALUE} from '../../src/core/deployment.js'
import {CliSandbox} from '../helpers/cli.js'
import {moto, type Moto, TEST_REGION} from '../helpers/moto.js'

interface Status {
  secrets: Array<{key: string; name: string; exists: boolean; set: boolean}>
}

describe('e2e: devflow secrets (against moto_server)', () => {
  let cli: CliSandbox
  let aws: Moto
  let secrets: SecretsManagerClient
  const rsaPem = generateKeyPairSync('rsa', {modulusLength: 2048}).privateKey.export({type: 'pkcs1', format: 'pem'}).toString()
  const ecPem = generateKeyPairSync('ec', {namedCurve: 'P-256'}).privateKey.export({type: 'sec1', format: 'pem'}).toString()

  const valueOf = async (name: string) => (await secrets.send(new GetSecretValueCommand({SecretId: name}))).SecretString

  beforeEach(async () => {
    aws = await moto()
    cli = await CliSandbox.create()
    secrets = new SecretsManagerClient({endpoint: aws.url, region: TEST_REGION, credentials: {accessKeyId: 'testing', secretAccessKey: 'testing'}})
  })
  afterEach(async () => {
    secrets.destroy()
    await cli.cleanup()
  })

  // What a deploy leaves: on moto, the emulator mode's own step (moto's CloudFormation skips secrets).
  const createAsTheStackDoes = async () => {
    const saved = {...process.env}
    Object.assign(process.env, aws.env())
    const admin = await SecretsAdmin.create({region: TEST_REGION})
    try {
      expect(await admin.createMissing()).to.deep.equal(['githubApp', 'claudeApiKey'])
      expect(await admin.createMissing()).to.deep.equal([])
    } finally {
      admin.close()
      for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key]
      Object.assign(process.env, saved)
    }
  }

  it('before a deploy: status says missing, set says deploy first (exit 3)', async () => {
    const status = await cli.run(['secrets', 'status', '--json'], {env: aws.env()})
    expect(status.exitCode, status.stderr).to.equal(0)
    expect(status.json<Status>().secrets.map((s) => [s.name, s.exists, s.set])).to.deep.equal([
      [SECRET_NAMES.githubApp, false, false],
      [SECRET_NAMES.claudeApiKey, false, false],
    ])
    const set = await cli.run(['secrets', 'set', 'claude-api-key', '--json'], {env: aws.env(), input: 'sk-ant-test-0123456789abcdef'})
    expect(set.exitCode).to.equal(3)
    expect(set.json<{error: {code: string; hint: string}}>().error).to.include({code: 'SECRET_NOT_FOUND'})
  })

  it('sets the GitHub App credentials as JSON after validating the PEM', async () => {
    await createAsTheStackDoes()
    const keyFile = join(cli.home, 'app.pem')
    await writeFile(keyFile, rsaPem)
    const result = await cli.run(['secrets', 'set', 'github-app', '--app-id', '123456', '--private-key-file', keyFile, '--installation-id', '42', '--json'], {env: aws.env()})
    expect(result.exitCode, result.stdout + result.stderr).to.equal(0)
    expect(result.stdout).not.to.contain('PRIVATE KEY')
    expect(JSON.parse((await valueOf(SECRET_NAMES.githubApp)) ?? '')).to.deep.equal({appId: '123456', privateKey: rsaPem, installationId: '42'})
    const status = (await cli.run(['secrets', 'status', '--json'], {env: aws.env()})).json<Status>()
    expect(status.secrets.map((s) => [s.key, s.set])).to.deep.equal([
      ['githubApp', true],
      ['claudeApiKey', false],
    ])
  })

  it('rejects a bad PEM, a non-RSA key and a bad app id with exit 2, writing nothing', async () => {
    await createAsTheStackDoes()
    const bad = join(cli.home, 'bad.pem')
    await writeFile(bad, '-----BEGIN RSA PRIVATE KEY-----\nnot a key\n-----END RSA PRIVATE KEY-----\n')
    const ec = join(cli.home, 'ec.pem')
    await writeFile(ec, ecPem)
    const good = join(cli.home, 'good.pem')
    await writeFile(good, rsaPem)
    const cases: Array<[string[], string]> = [
      [['--app-id', '123', '--private-key-file', bad], 'INVALID_PRIVATE_KEY'],
      [['--app-id', '123', '--private-key-file', ec], 'INVALID_PRIVATE_KEY'],
      [['--app-id', 'abc', '--private-key-file', good], 'INVALID_APP_ID'],
      [['--app-id', '123', '--private-key-file', join(cli.home, 'missing.pem')], 'FILE_UNREADABLE'],
      [['--app-id', '123'], 'MISSING_FLAGS'],
    ]
    for (const [flags, code] of cases) {
      const result = await cli.run(['secrets', 'set', 'github-app', ...flags, '--json'], {env: aws.env()})
      expect(result.exitCode, code).to.equal(2)
      expect(result.json<{error: {code: string}}>().error.code).to.equal(code)
    }
    expect(await valueOf(SECRET_NAMES.githubApp)).to.equal(UNSET_SECRET_VALUE)
    const human = await cli.run(['secrets', 'set', 'github-app', '--app-id', '123', '--private-key-file', bad], {env: aws.env()})
    expect(human.stderr).to.match(/^Error: The private key file is not a valid PEM private key\.\nTry this: /m)
  })

  it('reads the Claude API key from stdin, never from argv', async () => {
    await createAsTheStackDoes()
    const result = await cli.run(['secrets', 'set', 'claude-api-key'], {env: aws.env(), input: 'sk-ant-api03-abcdefghijklmnop\n'})
    expect(result.exitCode, result.stderr).to.equal(0)
    expect(result.stdout).not.to.contain('sk-ant')
    expect(await valueOf(SECRET_NAMES.claudeApiKey)).to.equal('sk-ant-api03-abcdefghijklmnop')
    const empty = await cli.run(['secrets', 'set', 'claude-api-key', '--json'], {env: aws.env(), input: ''})
    expect(empty.exitCode).to.equal(2)
    const asArg = await cli.run(['secrets', 'set', 'claude-api-key', 'sk-ant-on-the-command-line', '--json'], {env: aws.env()})
    expect(asArg.exitCode).to.equal(2)
    expect(await valueOf(SECRET_NAMES.claudeApiKey)).to.equal('sk-ant-api03-abcdefghijklmnop')
    const status = await cli.run(['secrets', 'status'], {env: aws.env()})
    expect(status.stdout).to.match(/devflow\/claude-api-key\s+set/)
    expect(status.stdout).not.to.contain('sk-ant')
  })
})
