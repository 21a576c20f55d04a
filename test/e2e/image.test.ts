import {DescribeImagesCommand, CreateRepositoryCommand, ECRClient, GetAuthorizationTokenCommand} from '@aws-sdk/client-ecr'
import {DescribeTaskDefinitionCommand, ECSClient, RegisterTaskDefinitionCommand} from '@aws-sdk/client-ecs'
import {expect} from 'chai'
import {execa} from 'execa'
import {chmod, mkdir, readFile, writeFile} from 'node:fs/promises'
import {dirname, join} from 'node:path'

import {CliSandbox, ROOT} from '../helpers/cli.js'
import {FAKE_DOCKER} from '../helpers/fake-docker.js'
import {moto, type Moto, TEST_REGION} from '../helpers/moto.js'


interface Call {
  args: string[]
  stdin: string
}

interface ErrorBody {
  error: {code: string; message: string; hint: string}
}

describe('e2e: devflow image build / push (fake docker, ECR and ECS on moto)', () => {
  let cli: CliSandbox
  let aws: Moto
  let bin: string
  let ecr: ECRClient
  let ecs: ECSClient

  before(async () => {
    aws = await moto()
  })

  beforeEach(async () => {
    await aws.reset()
    cli = await CliSandbox.create()
    bin = join(cli.home, 'bin')
    await mkdir(bin)
    await writeFile(join(bin, 'docker'), FAKE_DOCKER)
    await chmod(join(bin, 'docker'), 0o755)
    const clientConfig = {endpoint: aws.url, region: TEST_REGION, credentials: {accessKeyId: 'testing', secretAccessKey: 'testing'}}
    ecr = new ECRClient(clientConfig)
    ecs = new ECSClient(clientConfig)
  })

  afterEach(async () => {
    ecr.destroy()
    ecs.destroy()
    await cli.cleanup()
  })

  function env(extra: Record<string, string> = {}): Record<string, string> {
    return {
      ...aws.env(),
      PATH: `${bin}:${process.env.PATH}`,
      FAKE_DOCKER_LOG: join(cli.home, 'docker.jsonl'),
      FAKE_DOCKER_IMAGES: join(cli.home, 'docker-images'),
      ...extra,
    }
  }

  async function calls(): Promise<Call[]> {
    const text = await readFile(join(cli.home, 'docker.jsonl'), 'utf8').catch(() => '')
    return text
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Call)
  }

  async function expectedGitTag(): Promise<string> {
    const head = (await execa('git', ['-C', ROOT, 'rev-parse', '--short=12', 'HEAD'])).stdout.trim()
    const dirty = (await execa('git', ['-C', ROOT, 'status', '--porcelain'])).stdout.trim() !== ''
    return `${head}${dirty ? '-dirty' : ''}`
  }

  async function deployStage(): Promise<{repositoryUri: string; taskDefinitionArn: string}> {
    const repository = await ecr.send(new CreateRepositoryCommand({repositoryName: 'devflow-code-server'}))
    const registered = await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'devflow-workspace',
        requiresCompatibilities: ['FARGATE'],
        networkMode: 'awsvpc',
        cpu: '1024',
        memory: '4096',
        containerDefinitions: [
          {name: 'workspace', image: 'public.ecr.aws/placeholder:1', memory: 4096, essential: true, portMappings: [{containerPort: 8080}]},
          {name: 'sidecar', image: 'public.ecr.aws/sidecar:2', memory: 128, essential: false},
        ],
      }),
    )
    const repositoryUri = repository.repository?.repositoryUri ?? ''
    const taskDefinitionArn = registered.taskDefinition?.taskDefinitionArn ?? ''
    await mkdir(dirname(cli.configFile), {recursive: true})
    await writeFile(
      cli.configFile,
      JSON.stringify({stages: {dev: {deployment: {ecrRepositoryUri: repositoryUri, taskDefinition: taskDefinitionArn, containerName: 'workspace'}}}}),
    )
    return {repositoryUri, taskDefinitionArn}
  }

  describe('build', () => {
    it('builds container/ for linux/amd64, tagged with the git commit', async () => {
      const result = await cli.run(['image', 'build', '--json'], {env: env()})
      expect(result.exitCode, result.stderr + result.stdout).to.equal(0)
      const tag = await expectedGitTag()
      expect(result.json()).to.include({image: `devflow-workspace:${tag}`, tag, platform: 'linux/amd64', context: join(ROOT, 'container')})
      const build = (await calls()).find((c) => c.args[0] === 'build')
      expect(build?.args).to.deep.equal(['build', '--platform', 'linux/amd64', '--tag', `devflow-workspace:${tag}`, join(ROOT, 'container')])
    })

    it('takes --tag, --platform and --build-arg', async () => {
      const result = await cli.run(['image', 'build', '--tag', 'v1.2.0', '--platform', 'linux/arm64', '--build-arg', 'CODE_SERVER_DIGEST=sha256:abc'], {env: env()})
      expect(result.exitCode, result.stderr).to.equal(0)
      expect(result.stdout.trim()).to.equal('devflow-workspace:v1.2.0')
      const build = (await calls()).find((c) => c.args[0] === 'build')
      expect(build?.args).to.deep.equal([
        'build',
        '--platform',
        'linux/arm64',
        '--tag',
        'devflow-workspace:v1.2.0',
        '--build-arg',
        'CODE_SERVER_DIGEST=sha256:abc',
        join(ROOT, 'container'),
      ])
    })

    it('refuses a bad tag with exit 2 before calling docker', async () => {
      const result = await cli.run(['image', 'build', '--tag', '-bad tag', '--json'], {env: env()})
      expect(result.exitCode).to.equal(2)
      expect(result.json<ErrorBody>().error.code).to.equal('INVALID_IMAGE_TAG')
      expect(await calls()).to.deep.equal([])
    })

    it('without a Docker engine: exit 7 with a hint', async () => {
      const result = await cli.run(['image', 'build', '--tag', 'v1'], {env: env({FAKE_DOCKER_ENGINE: 'down'})})
      expect(result.exitCode).to.equal(7)
      expect(result.stderr).to.contain('Error: No Docker engine answers: Cannot connect to the Docker daemon')
      expect(result.stderr).to.contain('Try this: Start Docker')
      // Without a daemon: the same build with buildah or podman, tag and context named.
      expect(result.stderr).to.match(/buildah build --platform linux\/amd64 --tag devflow-workspace:v1 \S*\/container`/)
      expect(result.stderr).to.contain('--storage-driver vfs --isolation chroot').and.to.match(/podman build --platform linux\/amd64 --tag devflow-workspace:v1 /)
    })

    it('without docker installed: exit 7, DOCKER_MISSING', async () => {
      const result = await cli.run(['image', 'build', '--tag', 'v1', '--json'], {env: {...env(), PATH: dirname(process.execPath)}})
      expect(result.exitCode).to.equal(7)
      expect(result.json<ErrorBody>().error.code).to.equal('DOCKER_MISSING')
      expect(result.json<ErrorBody>().error.hint).to.contain('buildah build --platform linux/amd64 --tag devflow-workspace:v1').and.to.contain('podman build')
    })

    it('a failing build: exit 7 with docker output in the message', async () => {
      const result = await cli.run(['image', 'build', '--tag', 'v1', '--json'], {env: env({FAKE_DOCKER_FAIL: 'build'})})
      expect(result.exitCode).to.equal(7)
      const {error} = result.json<ErrorBody>()
      expect(error.code).to.equal('DOCKER_BUILD_FAILED')
      expect(error.message).to.contain('simulated failure from the fake docker')
    })
  })

  describe('push', () => {
    it('logs in with the ECR password on stdin, pushes, records the digest and re-registers the task definition', async () => {
      const {repositoryUri, taskDefinitionArn} = await deployStage()
      expect((await cli.run(['image', 'build', '--tag', 'v7'], {env: env()})).exitCode).to.equal(0)

      const result = await cli.run(['image', 'push', '--tag', 'v7', '--json'], {env: env()})
      expect(result.exitCode, result.stderr + result.stdout).to.equal(0)
      const pushed = result.json<{repository: string; tag: string; digest: string; imageUri: string; pushedAt: string; taskDefinition: string}>()

      const described = await ecr.send(new DescribeImagesCommand({repositoryName: 'devflow-code-server', imageIds: [{imageTag: 'v7'}]}))
      const digest = described.imageDetails?.[0]?.imageDigest
      expect(digest).to.match(/^sha256:[0-9a-f]{64}$/)
      expect(pushed).to.include({repository: repositoryUri, tag: 'v7', digest, imageUri: `${repositoryUri}@${digest}`})

      const token = await ecr.send(new GetAuthorizationTokenCommand({}))
      const password = Buffer.from(token.authorizationData?.[0]?.authorizationToken ?? '', 'base64').toString().split(':')[1]
      const registry = repositoryUri.split('/')[0]
      const all = await calls()
      const recorded = all.slice(all.findIndex((c) => c.args[0] === 'build') + 1)
      expect(recorded.map((c) => c.args)).to.deep.equal([
        ['version', '--format', '{{.Server.Version}}'],
        ['image', 'inspect', '--format', '{{.Id}}', 'devflow-workspace:v7'],
        ['tag', 'devflow-workspace:v7', `${repositoryUri}:v7`],
        ['login', '--username', 'AWS', '--password-stdin', registry],
        ['push', `${repositoryUri}:v7`],
      ])
      expect(recorded[3].stdin).to.equal(password)
      for (const call of await calls()) expect(call.args.join(' ')).not.to.contain(password)

      const config = JSON.parse(await readFile(cli.configFile, 'utf8')) as {stages: {dev: {image: Record<string, string>}}}
      expect(config.stages.dev.image).to.include({repository: repositoryUri, tag: 'v7', digest, taskDefinition: pushed.taskDefinition})
      expect(Date.parse(config.stages.dev.image.pushedAt)).to.be.closeTo(Date.now(), 60_000)

      const latest = await ecs.send(new DescribeTaskDefinitionCommand({taskDefinition: 'devflow-workspace'}))
      expect(latest.taskDefinition?.taskDefinitionArn).to.equal(pushed.taskDefinition).and.not.equal(taskDefinitionArn)
      expect(latest.taskDefinition?.revision).to.equal(2)
      expect(latest.taskDefinition).to.include({cpu: '1024', memory: '4096', networkMode: 'awsvpc'})
      const containers = latest.taskDefinition?.containerDefinitions ?? []
      expect(containers.find((c) => c.name === 'workspace')?.image).to.equal(`${repositoryUri}@${digest}`)
      expect(containers.find((c) => c.name === 'sidecar')?.image).to.equal('public.ecr.aws/sidecar:2')
    })

    it('with --repository and no deployment: pushes without touching a task definition', async () => {
      const repository = await ecr.send(new CreateRepositoryCommand({repositoryName: 'team/workspace'}))
      const repositoryUri = repository.repository?.repositoryUri ?? ''
      await cli.run(['image', 'build', '--tag', 'v1'], {env: env()})
      const result = await cli.run(['image', 'push', '--tag', 'v1', '--repository', repositoryUri, '--json'], {env: env()})
      expect(result.exitCode, result.stderr + result.stdout).to.equal(0)
      expect(result.json()).to.include({repository: repositoryUri, tag: 'v1'})
      expect(result.json()).not.to.have.property('taskDefinition')
    })

    it('without a known repository: exit 3 with a hint to deploy', async () => {
      const result = await cli.run(['image', 'push', '--tag', 'v1', '--json'], {env: env()})
      expect(result.exitCode).to.equal(3)
      const {error} = result.json<ErrorBody>()
      expect(error.code).to.equal('ECR_REPOSITORY_UNKNOWN')
      expect(error.hint).to.contain('devflow deploy')
    })

    it('refuses a malformed --repository with exit 2', async () => {
      const result = await cli.run(['image', 'push', '--tag', 'v1', '--repository', 'docker.io/library/x', '--json'], {env: env()})
      expect(result.exitCode).to.equal(2)
      expect(result.json<ErrorBody>().error.code).to.equal('INVALID_ECR_REPOSITORY')
    })

    it('an image that was not built: exit 3, IMAGE_NOT_BUILT', async () => {
      await deployStage()
      const result = await cli.run(['image', 'push', '--tag', 'never-built', '--json'], {env: env()})
      expect(result.exitCode).to.equal(3)
      expect(result.json<ErrorBody>().error.code).to.equal('IMAGE_NOT_BUILT')
    })

    for (const [step, code] of [
      ['login', 'DOCKER_LOGIN_FAILED'],
      ['push', 'DOCKER_PUSH_FAILED'],
      ['tag', 'DOCKER_TAG_FAILED'],
    ] as const) {
      it(`docker ${step} failing: exit 7, ${code}, nothing recorded`, async () => {
        await deployStage()
        await cli.run(['image', 'build', '--tag', 'v1'], {env: env()})
        const result = await cli.run(['image', 'push', '--tag', 'v1', '--json'], {env: env({FAKE_DOCKER_FAIL: step})})
        expect(result.exitCode).to.equal(7)
        const {error} = result.json<ErrorBody>()
        expect(error.code).to.equal(code)
        expect(error.message).to.contain('simulated failure')
        const config = JSON.parse(await readFile(cli.configFile, 'utf8')) as {stages: {dev: Record<string, unknown>}}
        expect(config.stages.dev).not.to.have.property('image')
      })
    }

    it('without AWS credentials: exit 4, and nothing is pushed', async () => {
      await deployStage()
      await cli.run(['image', 'build', '--tag', 'v1'], {env: env()})
      const result = await cli.run(['image', 'push', '--tag', 'v1', '--json'], {env: {...env(), AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: ''}})
      expect(result.exitCode).to.equal(4)
      expect(result.json<ErrorBody>().error.code).to.match(/^AWS_CREDENTIALS/)
      expect((await calls()).map((c) => c.args[0])).not.to.include.members(['login', 'push'])
    })
  })
})
