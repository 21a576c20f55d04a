/**
 * `devflow secrets set github-app --webhook-secret-file F` as a process against moto_server: the
 * webhook secret lands in the App secret's JSON as `webhookSecret` (what the webhook verifier
 * reads), alone or with the App's credentials, validated before anything is written.
 */
import {createHmac, generateKeyPairSync} from 'node:crypto'
import {mkdir, writeFile} from 'node:fs/promises'
import {dirname, join} from 'node:path'

import {DynamoDBClient} from '@aws-sdk/client-dynamodb'
import {DynamoDBDocumentClient} from '@aws-sdk/lib-dynamodb'

import {CreateSecretCommand, GetSecretValueCommand, SecretsManagerClient} from '@aws-sdk/client-secrets-manager'
import {expect} from 'chai'

import {DynamoDeliveryStore} from '../../src/adapters/aws/dynamo-delivery-store.js'
import {GithubWebhookVerifier} from '../../src/adapters/github/webhook.js'
import {deliveryClaim} from '../../src/core/github/deliveries.js'
import {createDeliveriesTable} from '../helpers/tables.js'
import {SECRET_NAMES, UNSET_SECRET_VALUE} from '../../src/core/deployment.js'
import {CliSandbox} from '../helpers/cli.js'
import {moto, type Moto, TEST_REGION} from '../helpers/moto.js'

const WEBHOOK_SECRET = 'b1946ac92492d2347c6235b4d2611184'

describe('e2e: devflow secrets set github-app --webhook-secret-file (against moto_server)', () => {
  let cli: CliSandbox
  let aws: Moto
  let secrets: SecretsManagerClient
  const rsaPem = generateKeyPairSync('rsa', {modulusLength: 2048}).privateKey.export({type: 'pkcs1', format: 'pem'}).toString()

  const stored = async () => {
    const value = (await secrets.send(new GetSecretValueCommand({SecretId: SECRET_NAMES.githubApp}))).SecretString ?? ''
    return value === UNSET_SECRET_VALUE ? value : (JSON.parse(value) as Record<string, string>)
  }

  const file = async (name: string, content: string) => {
    const path = join(cli.home, name)
    await writeFile(path, content)
    return path
  }

  beforeEach(async () => {
    aws = await moto()
    cli = await CliSandbox.create()
    secrets = new SecretsManagerClient({endpoint: aws.url, region: TEST_REGION, credentials: {accessKeyId: 'testing', secretAccessKey: 'testing'}})
    for (const name of Object.values(SECRET_NAMES)) await secrets.send(new CreateSecretCommand({Name: name, SecretString: UNSET_SECRET_VALUE}))
  })
  afterEach(async () => {
    secrets.destroy()
    await cli.cleanup()
  })

  it('stores the webhook secret with the App credentials, trimmed, never printed', async () => {
    const key = await file('app.pem', rsaPem)
    const secretFile = await file('webhook-secret', `${WEBHOOK_SECRET}\n`)
    const result = await cli.run(['secrets', 'set', 'github-app', '--app-id', '123456', '--private-key-file', key, '--webhook-secret-file', secretFile, '--json'], {env: aws.env()})
    expect(result.exitCode, result.stdout + result.stderr).to.equal(0)
    expect(result.stdout + result.stderr).not.to.contain(WEBHOOK_SECRET)
    expect(await stored()).to.deep.equal({appId: '123456', privateKey: rsaPem, webhookSecret: WEBHOOK_SECRET})
  })

  it('adds the webhook secret alone to an App already set, and a later key rotation keeps it', async () => {
    const key = await file('app.pem', rsaPem)
    expect((await cli.run(['secrets', 'set', 'github-app', '--app-id', '123456', '--private-key-file', key], {env: aws.env()})).exitCode).to.equal(0)
    const secretFile = await file('webhook-secret', WEBHOOK_SECRET)
    const added = await cli.run(['secrets', 'set', 'github-app', '--webhook-secret-file', secretFile, '--json'], {env: aws.env()})
    expect(added.exitCode, added.stderr).to.equal(0)
    expect(await stored()).to.deep.equal({appId: '123456', privateKey: rsaPem, webhookSecret: WEBHOOK_SECRET})

    const rotated = generateKeyPairSync('rsa', {modulusLength: 2048}).privateKey.export({type: 'pkcs1', format: 'pem'}).toString()
    const newKey = await file('new.pem', rotated)
    expect((await cli.run(['secrets', 'set', 'github-app', '--app-id', '123456', '--private-key-file', newKey], {env: aws.env()})).exitCode).to.equal(0)
    expect(await stored()).to.deep.equal({appId: '123456', privateKey: rotated, webhookSecret: WEBHOOK_SECRET})

    // What the webhook route will read: the verifier checks a delivery signed with the stored secret.
    const body = JSON.stringify({zen: 'Keep it logically awesome.', hook_id: 1})
    const headers = {'x-hub-signature-256': `sha256=${createHmac('sha256', WEBHOOK_SECRET).update(body).digest('hex')}`, 'x-github-delivery': 'd-1', 'x-github-event': 'ping'}
    const verified = await new GithubWebhookVerifier(async () => stored()).verify({headers, body})
    expect(verified).to.deep.include({deliveryId: 'd-1', event: 'ping'})
  })

  it('refuses the webhook secret alone before the App is set (exit 5), writing nothing', async () => {
    const secretFile = await file('webhook-secret', WEBHOOK_SECRET)
    const result = await cli.run(['secrets', 'set', 'github-app', '--webhook-secret-file', secretFile, '--json'], {env: aws.env()})
    expect(result.exitCode).to.equal(5)
    expect(result.json<{error: {code: string; hint: string}}>().error).to.include({code: 'GITHUB_APP_NOT_SET'})
    expect(await stored()).to.equal(UNSET_SECRET_VALUE)
  })

  it('rejects an empty, short, multi-line or unreadable secret file with exit 2, writing nothing', async () => {
    const key = await file('app.pem', rsaPem)
    const cases: Array<[string, string]> = [
      [await file('empty', '\n'), 'EMPTY_WEBHOOK_SECRET'],
      [await file('short', 'tooshort'), 'INVALID_WEBHOOK_SECRET'],
      [await file('lines', `${WEBHOOK_SECRET}\n${WEBHOOK_SECRET}\n`), 'INVALID_WEBHOOK_SECRET'],
      [join(cli.home, 'missing'), 'FILE_UNREADABLE'],
    ]
    for (const [path, code] of cases) {
      const result = await cli.run(['secrets', 'set', 'github-app', '--app-id', '123456', '--private-key-file', key, '--webhook-secret-file', path, '--json'], {env: aws.env()})
      expect(result.exitCode, code).to.equal(2)
      expect(result.json<{error: {code: string}}>().error.code).to.equal(code)
    }
    expect(await stored()).to.equal(UNSET_SECRET_VALUE)
    const onClaude = await cli.run(['secrets', 'set', 'claude-api-key', '--webhook-secret-file', cases[0][0], '--json'], {env: aws.env(), input: 'sk-ant-x'})
    expect(onClaude.json<{error: {code: string}}>().error.code).to.equal('UNEXPECTED_FLAGS')
  })

  it('devflow github status: the App, the webhook URL to paste, whether the secret is set, the last deliveries', async () => {
    await mkdir(dirname(cli.configFile), {recursive: true})
    await writeFile(cli.configFile, JSON.stringify({stages: {dev: {deployment: {apiUrl: 'https://abc123.execute-api.us-east-1.amazonaws.com/dev/', region: 'us-east-1'}}}}))
    const dynamo = new DynamoDBClient({endpoint: aws.url, region: TEST_REGION, credentials: {accessKeyId: 'testing', secretAccessKey: 'testing'}})
    await createDeliveriesTable(dynamo)
    const store = new DynamoDeliveryStore(DynamoDBDocumentClient.from(dynamo), 'devflow-github-deliveries')
    await store.claim(deliveryClaim({id: 'd-1', event: 'issues', action: 'labeled', repo: 'octo/hello'}, new Date()))
    await store.finish('d-1', {status: 'DONE', at: new Date().toISOString(), outcome: 'start', detail: 's-abcdefghijklmnopqrst'})
    dynamo.destroy()

    const before = await cli.run(['github', 'status', '--stage', 'dev', '--json'], {env: aws.env()})
    expect(before.exitCode, before.stderr).to.equal(0)
    expect(before.json<{app: {set: boolean}; webhook: {url: string; secretSet: boolean}}>()).to.deep.include({app: {set: false}, webhook: {url: 'https://abc123.execute-api.us-east-1.amazonaws.com/dev/github/webhook', secretSet: false}})

    const key = await file('app.pem', rsaPem)
    const secretFile = await file('webhook-secret', WEBHOOK_SECRET)
    expect((await cli.run(['secrets', 'set', 'github-app', '--app-id', '123456', '--private-key-file', key, '--webhook-secret-file', secretFile], {env: aws.env()})).exitCode).to.equal(0)
    const after = await cli.run(['github', 'status', '--stage', 'dev', '--json'], {env: aws.env()})
    expect(after.exitCode, after.stderr).to.equal(0)
    expect(after.stdout).not.to.contain(WEBHOOK_SECRET)
    const status = after.json<{app: {set: boolean; appId: string}; webhook: {secretSet: boolean}; permissions: Record<string, string>; deliveries: Array<Record<string, string>>}>()
    expect(status.app).to.deep.equal({set: true, appId: '123456'})
    expect(status.webhook.secretSet).to.equal(true)
    expect(status.permissions).to.deep.equal({contents: 'write', pull_requests: 'write', issues: 'write', metadata: 'read'})
    expect(status.deliveries).to.have.length(1)
    expect(status.deliveries[0]).to.include({id: 'd-1', event: 'issues', action: 'labeled', status: 'DONE', outcome: 'start'})

    const human = await cli.run(['github', 'status', '--stage', 'dev'], {env: aws.env()})
    expect(human.stdout).to.contain('Webhook URL:    https://abc123.execute-api.us-east-1.amazonaws.com/dev/github/webhook').and.contain('issues.labeled')
  })
})
