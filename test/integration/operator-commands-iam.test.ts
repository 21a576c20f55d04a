/**
 * The operator's own commands as AWS would authorise them: `secrets set`, `secrets status`,
 * `github status` and `image push` (with a fake docker), each run as a CLI process against moto
 * through the recording proxy, and every AWS call they made evaluated against the synthesized
 * `devflow-<stage>-operator` role (admin mode's calls are held to it in deployed-shapes.test.ts).
 * A grant the role lacks fails here.
 *
 * Not covered, on purpose: `bootstrap`, `deploy`, `destroy` and `diff` run the CDK toolkit, which
 * deploys with the CDK bootstrap roles, not with this role; the CreateSecret/DeleteSecret calls an
 * emulated deploy/destroy makes (README, "Deploying to moto") happen only against moto.
 */
import {generateKeyPairSync} from 'node:crypto'
import {chmod, mkdir, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {CreateRepositoryCommand, ECRClient} from '@aws-sdk/client-ecr'
import {CreateSecretCommand, SecretsManagerClient} from '@aws-sdk/client-secrets-manager'
import {expect} from 'chai'

import {ECR_REPOSITORY_NAME, SECRET_NAMES, UNSET_SECRET_VALUE} from '../../src/core/deployment.js'
import {type AwsCall} from '../helpers/aws-recorder.js'
import {CliSandbox} from '../helpers/cli.js'
import {FAKE_DOCKER} from '../helpers/fake-docker.js'
import {denial, iamRequests, TemplateResolver} from '../helpers/iam-policy.js'
import {TEST_ACCOUNT, TEST_REGION} from '../helpers/moto.js'
import {CLUSTER, PlatformFixture, TASK_ROLES} from '../helpers/platform-fixture.js'
import {synthTemplate, type Template} from '../helpers/synth.js'

const OPERATOR_KEY = 'AKIAOPERATORCOMMANDS'

describe('operator commands: every AWS call they make is allowed by the operator role', function () {
  this.timeout(180_000)
  const h = new PlatformFixture('in-process')
  let template: Promise<Template>
  let cli: CliSandbox
  let bin: string
  const made: {claudeApiKeyArn?: string; repositoryUri?: string; repositoryArn?: string} = {}

  before(async () => {
    template = synthTemplate('dev')
    template.catch(() => undefined)
    await h.start()
    // What the stack creates besides the fixture's resources: the Claude key secret (holding the
    // placeholder) and the image repository. Straight to moto: it is not the operator's call.
    const clientConfig = {region: TEST_REGION, endpoint: h.moto.url, credentials: {accessKeyId: 'testing', secretAccessKey: 'testing'}}
    const secrets = new SecretsManagerClient(clientConfig)
    made.claudeApiKeyArn = (await secrets.send(new CreateSecretCommand({Name: SECRET_NAMES.claudeApiKey, SecretString: UNSET_SECRET_VALUE}))).ARN
    secrets.destroy()
    const ecr = new ECRClient(clientConfig)
    const repository = (await ecr.send(new CreateRepositoryCommand({repositoryName: ECR_REPOSITORY_NAME}))).repository
    ecr.destroy()
    made.repositoryUri = repository?.repositoryUri
    made.repositoryArn = repository?.repositoryArn
    cli = await CliSandbox.create()
    await h.saveDeployment(cli, {ecrRepositoryUri: made.repositoryUri ?? '', claudeApiKeySecretArn: made.claudeApiKeyArn ?? ''})
    bin = join(cli.home, 'bin')
    await mkdir(bin)
    await writeFile(join(bin, 'docker'), FAKE_DOCKER)
    await chmod(join(bin, 'docker'), 0o755)
  })
  after(async () => {
    await cli?.cleanup()
    await h.close()
  })

  const env = () =>
    h.env({
      AWS_ACCESS_KEY_ID: OPERATOR_KEY,
      AWS_SECRET_ACCESS_KEY: 'secret',
      AWS_REGION: TEST_REGION,
      PATH: `${bin}:${process.env.PATH}`,
      FAKE_DOCKER_LOG: join(cli.home, 'docker.jsonl'),
      FAKE_DOCKER_IMAGES: join(cli.home, 'docker-images'),
    })
  const run = async (args: string[], input?: string) => {
    const result = await cli.run([...args, '--json'], {env: env(), ...(input === undefined ? {} : {input})})
    expect(result.exitCode, `${args.join(' ')}: ${result.stdout}${result.stderr}`).to.equal(0)
    return result
  }

  it('secrets set (the GitHub App, the Claude key), secrets status and github status', async () => {
    const keyFile = join(cli.home, 'app.pem')
    await writeFile(keyFile, generateKeyPairSync('rsa', {modulusLength: 2048}).privateKey.export({type: 'pkcs1', format: 'pem'}).toString())
    const webhookFile = join(cli.home, 'webhook-secret')
    await writeFile(webhookFile, 'operator-webhook-secret-0123456789\n')
    await run(['secrets', 'set', 'github-app', '--app-id', '123456', '--private-key-file', keyFile, '--webhook-secret-file', webhookFile])
    await run(['secrets', 'set', 'claude-api-key'], 'sk-ant-operator-test-key')
    const {secrets: status} = (await run(['secrets', 'status'])).json<{secrets: Array<{name: string; set: boolean}>}>()
    expect(status.map((s) => [s.name, s.set])).to.deep.include.members([
      [SECRET_NAMES.githubApp, true],
      [SECRET_NAMES.claudeApiKey, true],
    ])
    await run(['github', 'status'])
  })

  it('image build and image push: into the stage\'s repository, and the task definition registered again', async () => {
    await run(['image', 'build', '--tag', 'v1'])
    const pushed = (await run(['image', 'push', '--tag', 'v1'])).json<{repository: string; taskDefinition?: string}>()
    expect(pushed.repository).to.equal(made.repositoryUri)
    expect(pushed.taskDefinition).to.match(/:task-definition\/devflow-workspace:2$/)
  })

  describe('IAM', () => {
    let resolver: TemplateResolver
    before(async () => {
      resolver = new TemplateResolver(await template, {
        region: TEST_REGION,
        account: TEST_ACCOUNT,
        names: {WorkspacesCluster: CLUSTER, ImagesRepository: ECR_REPOSITORY_NAME},
        arns: {
          SecretsGithubApp: h.secrets.githubApp,
          SecretsClaudeApiKey: made.claudeApiKeyArn ?? '',
          SecretsPageTokenKey: h.secrets.pageTokenKey,
          WorkspacesTaskRole: TASK_ROLES.task,
          WorkspacesExecutionRole: TASK_ROLES.execution,
          ImagesRepository: made.repositoryArn ?? '',
        },
      })
    })

    const denials = (calls: AwsCall[], rolePrefix: string) => {
      const statements = resolver.statementsOfRole(rolePrefix)
      return calls
        .flatMap((call) => iamRequests(call, {region: TEST_REGION, account: TEST_ACCOUNT}))
        .map((request) => ({request, why: denial(statements, request)}))
        .filter((d) => d.why !== undefined)
        .map(({request, why}) => `${request.from}: ${request.action} on ${request.resource} ${JSON.stringify(request.context)}: ${why}`)
    }

    it('the operator role allows every call those commands made', () => {
      const calls = h.recorder.by(OPERATOR_KEY)
      expect(new Set(calls.map((c) => `${c.service}:${c.action}`))).to.include.members([
        'secretsmanager:GetSecretValue',
        'secretsmanager:PutSecretValue',
        'ecr:GetAuthorizationToken',
        'ecr:PutImage',
        'ecr:DescribeImages',
        'ecs:DescribeTaskDefinition',
        'ecs:RegisterTaskDefinition',
      ])
      expect(denials(calls, 'AccessOperator')).to.deep.equal([])
    })

    it('and the check can fail: the developer role allows none of them', () => {
      const calls = h.recorder.by(OPERATOR_KEY).filter((c) => c.action !== 'GetCallerIdentity')
      expect(denials(calls, 'AccessDeveloper').length).to.be.greaterThanOrEqual(calls.length)
    })
  })
})
