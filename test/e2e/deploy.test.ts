/**
 * `devflow bootstrap`/`deploy`/`diff`/`destroy` as a process against moto_server: the CDK toolkit
 * bootstraps the account, deploys devflow-dev (with `-c devflow:emulator=moto`, README), the
 * outputs land in the config file, and destroy removes the stack. `synth` is test/e2e/synth.test.ts
 * (no AWS: it runs beside this file under `npm test`).
 */
import {mkdir, readFile, writeFile} from 'node:fs/promises'
import {dirname, join} from 'node:path'

import {CloudFormationClient, DescribeStacksCommand} from '@aws-sdk/client-cloudformation'
import {DescribeTableCommand, DynamoDBClient} from '@aws-sdk/client-dynamodb'
import {DescribeTaskDefinitionCommand, DescribeTasksCommand, ECSClient} from '@aws-sdk/client-ecs'
import {expect} from 'chai'

import {OUTPUT_KEYS} from '../../src/core/deployment.js'
import {CliSandbox} from '../helpers/cli.js'
import {FakeGithub} from '../helpers/fake-github.js'
import {moto, type Moto, TEST_ACCOUNT, TEST_REGION} from '../helpers/moto.js'

// The emulated stage allows the fake GitHub's repository: with no devflow:repositories a stage allows none.
const MOTO = ['-c', 'devflow:emulator=moto', '-c', 'devflow:repositories=octo/hello']
const DIGEST = `sha256:${'0123456789abcdef'.repeat(4)}`

describe('e2e: devflow deploy / diff / destroy (against moto_server)', function () {
  this.timeout(240_000)
  let cli: CliSandbox
  let aws: Moto

  before(async () => {
    aws = await moto()
    cli = await CliSandbox.create()
  })
  after(() => cli.cleanup())

  const client = <T>(Client: new (config: object) => T) => new Client({endpoint: aws.url, region: TEST_REGION, credentials: {accessKeyId: 'testing', secretAccessKey: 'testing'}})

  it('bootstraps, deploys and saves the stack outputs in the config', async () => {
    // What `devflow image push` records: deploy runs the image by this digest.
    await mkdir(dirname(cli.configFile), {recursive: true})
    await writeFile(cli.configFile, JSON.stringify({stages: {dev: {image: {digest: DIGEST}}}}))
    const result = await cli.run(['deploy', '--stage', 'dev', ...MOTO, '--json'], {env: aws.env(), timeout: 200_000})
    expect(result.exitCode, result.stderr).to.equal(0)
    const outputs = result.json<Record<string, string>>()
    expect(outputs).to.include({stackName: 'devflow-dev', region: TEST_REGION, account: TEST_ACCOUNT, sessionsTable: 'devflow-sessions', capacity: 'FARGATE_SPOT', containerName: 'workspace', emulator: 'moto'})
    expect(outputs.taskRoleArn).to.match(/^arn:aws:iam::\d{12}:role\//)
    // moto leaves out the CloudFront domain and the console's user pool (README); every other output is there.
    const expected = (Object.keys(OUTPUT_KEYS) as Array<keyof typeof OUTPUT_KEYS>).filter((key) => key !== 'frontendDomain' && key !== 'consoleUserPoolId')
    expect(outputs).to.include.all.keys(expected)
    expect(outputs.apiUrl).to.match(/^https:\/\/.+execute-api/)
    expect(outputs.taskDefinition).to.contain(':task-definition/devflow-workspace:')

    const config = JSON.parse(await readFile(cli.configFile, 'utf8')) as {stages: {dev: {deployment: Record<string, string>}}}
    expect(config.stages.dev.deployment).to.deep.equal(outputs)

    const task = await client(ECSClient).send(new DescribeTaskDefinitionCommand({taskDefinition: outputs.taskDefinition}))
    const container = task.taskDefinition?.containerDefinitions?.[0]
    expect(container?.name).to.equal('workspace')
    expect(container?.image).to.equal(`${outputs.ecrRepositoryUri}@${DIGEST}`)
    expect(container?.memory).to.equal(4096)

    const stacks = await client(CloudFormationClient).send(new DescribeStacksCommand({StackName: 'CDKToolkit'}))
    expect(stacks.Stacks?.[0]?.StackStatus).to.equal('CREATE_COMPLETE')
    const table = await client(DynamoDBClient).send(new DescribeTableCommand({TableName: 'devflow-sessions'}))
    expect(table.Table?.GlobalSecondaryIndexes?.[0]?.IndexName).to.equal('user_id-created_at-index')
  })

  it('leaves a whole platform under the emulator: secrets set, session start with the stage\'s capacity, stop', async () => {
    // moto's CloudFormation skips AWS::SecretsManager::Secret: the emulator mode's deploy created them.
    const status = await cli.run(['secrets', 'status', '--stage', 'dev', '--json'], {env: aws.env()})
    expect(status.exitCode, status.stderr).to.equal(0)
    expect(status.json<{secrets: Array<{exists: boolean; set: boolean}>}>().secrets.map((x) => [x.exists, x.set])).to.deep.equal([
      [true, false],
      [true, false],
    ])
    const github = await FakeGithub.start()
    try {
      github.install('octo/hello')
      const keyFile = join(cli.home, 'app.pem')
      await writeFile(keyFile, github.secret().privateKey)
      const setApp = await cli.run(['secrets', 'set', 'github-app', '--stage', 'dev', '--app-id', github.secret().appId, '--private-key-file', keyFile, '--json'], {env: aws.env()})
      expect(setApp.exitCode, setApp.stdout + setApp.stderr).to.equal(0)
      const setKey = await cli.run(['secrets', 'set', 'claude-api-key', '--stage', 'dev', '--json'], {env: aws.env(), input: 'sk-ant-test-0123456789abcdef'})
      expect(setKey.exitCode, setKey.stdout + setKey.stderr).to.equal(0)

      // The GitHub API URL is the stage's GitHub Enterprise setting, here the fake's.
      const env = {...aws.env(), DEVFLOW_GITHUB_API_URL: github.url}
      const started = await cli.run(['session', 'start', '--stage', 'dev', '--admin', '--repo', 'octo/hello', '--json'], {env})
      expect(started.exitCode, started.stdout + started.stderr).to.equal(0)
      const session = started.json<{id: string; capacity: string; taskArn: string}>()
      // The stage's default capacity, recorded as such; the emulator mode placed it on FARGATE.
      expect(session.capacity).to.equal('FARGATE_SPOT')
      const config = JSON.parse(await readFile(cli.configFile, 'utf8')) as {stages: {dev: {deployment: Record<string, string>}}}
      const task = await client(ECSClient).send(new DescribeTasksCommand({cluster: config.stages.dev.deployment.cluster, tasks: [session.taskArn]}))
      expect(task.tasks?.[0]?.launchType).to.equal('FARGATE')
      const stopped = await cli.run(['session', 'stop', session.id, '--stage', 'dev', '--admin', '--json'], {env})
      expect(stopped.exitCode, stopped.stdout + stopped.stderr).to.equal(0)
    } finally {
      await github.close()
    }
  })

  it('without --json, reports progress on stderr one line per resource event and prints the outputs', async () => {
    const result = await cli.run(['deploy', '--stage', 'dev', ...MOTO, '--skip-bootstrap'], {env: aws.env(), timeout: 200_000})
    expect(result.exitCode, result.stderr).to.equal(0)
    expect(result.stderr).to.match(/^devflow-dev \| UPDATE_COMPLETE \| AWS::CloudFormation::Stack \| devflow-dev/m)
    expect(result.stdout).to.match(/sessionsTable\s+devflow-sessions/)
  })

  it('diff shows no pending change right after a deploy', async () => {
    const result = await cli.run(['diff', '--stage', 'dev', ...MOTO, '--json'], {env: aws.env(), timeout: 120_000})
    expect(result.exitCode, result.stderr).to.equal(0)
    expect(result.json()).to.include({stackName: 'devflow-dev'})
  })

  it('refuses a stage that is not deployable, and destroy without --yes when not interactive', async () => {
    const bad = await cli.run(['deploy', '--stage', 'qa', '--json'], {env: aws.env()})
    expect(bad.exitCode).to.equal(2)
    expect(bad.json<{error: {code: string}}>().error.code).to.equal('UNKNOWN_STAGE')
    const unconfirmed = await cli.run(['destroy', '--stage', 'dev', '--json'], {env: aws.env()})
    expect(unconfirmed.exitCode).to.equal(2)
    expect(unconfirmed.json<{error: {code: string}}>().error.code).to.equal('CONFIRMATION_REQUIRED')
  })

  it('destroy --yes deletes the stack and forgets the saved outputs', async () => {
    // One destroy: the emulator mode retries moto's stack deletion that gives up on the VPC.
    const result = await cli.run(['destroy', '--stage', 'dev', '--yes', '--json'], {env: aws.env(), timeout: 180_000})
    expect(result.exitCode, result.stdout + result.stderr).to.equal(0)
    expect(result.json()).to.deep.equal({stackName: 'devflow-dev', stage: 'dev', retainedData: false})
    const stacks = await client(CloudFormationClient).send(new DescribeStacksCommand({})).catch(() => ({Stacks: []}))
    expect((stacks.Stacks ?? []).filter((s) => s.StackName === 'devflow-dev' && s.StackStatus !== 'DELETE_COMPLETE')).to.deep.equal([])
    const config = JSON.parse(await readFile(cli.configFile, 'utf8')) as {stages?: {dev?: {deployment?: unknown}}}
    expect(config.stages?.dev?.deployment).to.equal(undefined)
    // The secrets the emulator mode created went with the stack.
    const secrets = await cli.run(['secrets', 'status', '--stage', 'dev', '--json'], {env: aws.env()})
    expect(secrets.json<{secrets: Array<{exists: boolean}>}>().secrets.map((x) => x.exists)).to.deep.equal([false, false])
  })
})
