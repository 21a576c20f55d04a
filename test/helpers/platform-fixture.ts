/**
 * The one platform fixture of the integration and e2e suites: moto_server as AWS with what
 * `devflow deploy` leaves (tables, cluster, task definition, network, the GitHub App and page-token
 * secrets) behind a recording proxy that every AWS call passes through, the fake GitHub with the
 * App installed on REPO, and the API served one of two ways:
 * - 'in-process': the core services over the real AWS adapters, the router on the real HTTP
 *   server, the caller named by an `x-test-user` header; its clock and its deps can be changed;
 * - 'cli': a CLI sandbox with the deployment saved in its config, `devflow api serve` as a real
 *   process checking every user request's SigV4 signature, and a TestAgent for it.
 * What it creates, keeps and resets, and what a test may rely on: platform-fixture.md.
 */
import {ANY_REPOSITORY} from '../../src/core/repository-access.js'
import {DynamoDBClient, ScanCommand} from '@aws-sdk/client-dynamodb'
import {CreateClusterCommand, DescribeTasksCommand, ECSClient, ListTasksCommand, RegisterTaskDefinitionCommand, type Task} from '@aws-sdk/client-ecs'
import {CreateSecurityGroupCommand, CreateSubnetCommand, CreateVpcCommand, EC2Client, ModifyVpcAttributeCommand} from '@aws-sdk/client-ec2'
import {CreateSecretCommand, SecretsManagerClient} from '@aws-sdk/client-secrets-manager'
import {CreateKeyCommand, KMSClient} from '@aws-sdk/client-kms'
import {CreateBucketCommand, PutBucketEncryptionCommand, PutPublicAccessBlockCommand, S3Client} from '@aws-sdk/client-s3'
import {unmarshall} from '@aws-sdk/util-dynamodb'
import {type ResultPromise, execa} from 'execa'
import {mkdir, writeFile} from 'node:fs/promises'
import {dirname, join} from 'node:path'

import {ecsApi, type EcsApi, EcsTaskRuntime} from '../../src/adapters/aws/ecs-task-runtime.js'
import {type AwsPlatformConfig, createAwsCoreDeps} from '../../src/composition/aws.js'
import {type RunningHttpServer, startHttpServer} from '../../src/api/http-server.js'
import {createApiRouter} from '../../src/api/router.js'
import {PAGE_TOKEN_KEY_SECRET_NAME, SECRET_NAMES} from '../../src/core/deployment.js'
import type {Clock} from '../../src/core/ports.js'
import {type CoreDeps, type CoreServices, createCoreServices} from '../../src/core/services/index.js'
import {type AwsRecorder, startAwsRecorder} from './aws-recorder.js'
import {CLI, CliSandbox} from './cli.js'
import {FakeGithub} from './fake-github.js'
import {type Moto, moto, TEST_ACCOUNT, TEST_REGION} from './moto.js'
import {createDeliveriesTable, createDevflowTables} from './tables.js'
import {TestAgent} from './test-agent.js'

export const REPO = 'octo/hello'
export const TABLES = {sessions: 'devflow-sessions', prompts: 'devflow-prompts', events: 'devflow-prompt-events', deliveries: 'devflow-github-deliveries', usage: 'devflow-usage'}
/** The webhook secret the fixture's GitHub App secret holds: sign deliveries with it. */
export const WEBHOOK_SECRET = 'fixture-webhook-secret-0123456789abcdef'
export const CLUSTER = 'devflow'
/** The conversation bucket of `session resume` (infra/constructs/conversation-bucket.ts), SSE-KMS with its own key. */
export const CONVERSATIONS_BUCKET = 'devflow-conversations-test'
/** The workspace task definition's roles, as the stack names them (RunTask passes them). */
export const TASK_ROLES = {
  execution: `arn:aws:iam::${TEST_ACCOUNT}:role/devflow-dev-WorkspacesExecutionRole`,
  task: `arn:aws:iam::${TEST_ACCOUNT}:role/devflow-dev-WorkspacesTaskRole`,
}
/** What moto's STS answers for any access key: the operator in admin mode, the caller in API mode. */
export const TEST_USER_ARN = `arn:aws:sts::${TEST_ACCOUNT}:user/moto`
/** The stage's workspace task role: its sessions, named after a task id, may bootstrap that task's session. */
export const TASK_ROLE_ARN = TASK_ROLES.task
/** The stage's operator role: its sessions are the stage's admins (core/admins.ts). */
export const OPERATOR_ROLE_ARN = `arn:aws:iam::${TEST_ACCOUNT}:role/devflow-dev-operator`

/** The SigV4 identity API Gateway reports for a workspace task calling with its task role (session name = task id). */
export function taskRoleCaller(taskArn: string): string {
  return `arn:aws:sts::${TEST_ACCOUNT}:assumed-role/${TASK_ROLE_ARN.split('/').at(-1)}/${taskArn.split('/').at(-1)}`
}

export type ApiMode = 'in-process' | 'cli'
export type TableKey = keyof typeof TABLES

/** The ARNs of the stack's secrets, as created in moto. */
export interface PlatformSecretArns {
  readonly githubApp: string
  readonly pageTokenKey: string
  /** The conversation bucket's KMS key. */
  readonly conversationsKey: string
}

export interface RunningApi {
  readonly url: string
  /** The server's stderr so far (one JSON line per request). */
  log(): string
  stop(): Promise<void>
}

export interface CallOptions {
  /** The caller (stands in for SigV4); no user is an anonymous request. */
  user?: string
  body?: unknown
  /** Sent as is, instead of `body` as JSON. */
  rawBody?: string
  /** An agent's session token (Authorization: Bearer). */
  token?: string
}

/** Mocha hooks: a platform started before the suite's tests and closed after them. */
export function usePlatform(options: {api?: ApiMode} = {}): PlatformFixture {
  const platform = new PlatformFixture(options.api ?? 'in-process')
  before(() => platform.start())
  after(() => platform.close())
  return platform
}

export class PlatformFixture {
  #moto?: Moto
  #recorder?: AwsRecorder
  #secrets?: PlatformSecretArns
  #github?: FakeGithub
  #dynamo?: DynamoDBClient
  #ecs?: ECSClient
  #config?: AwsPlatformConfig
  #server?: RunningHttpServer
  #cli?: CliSandbox
  #api?: RunningApi
  #agent?: TestAgent
  #initialDeps?: CoreDeps
  #deps?: CoreDeps
  #services?: CoreServices
  #clockOffset = 0
  #savedEnv: Record<string, string | undefined> = {}

  constructor(readonly mode: ApiMode) {}

  get moto(): Moto {
    return started(this.#moto, 'moto')
  }
  /** The proxy in front of moto that every AWS call of the fixture, its clients, the services and `env()`'s processes passes through. */
  get recorder(): AwsRecorder {
    return started(this.#recorder, 'recorder')
  }
  /** The GitHub App and page-token secrets' ARNs. */
  get secrets(): PlatformSecretArns {
    return started(this.#secrets, 'secrets')
  }
  get github(): FakeGithub {
    return started(this.#github, 'github')
  }
  /** Raw SDK clients (maxAttempts 1) to check what landed. */
  get dynamo(): DynamoDBClient {
    return started(this.#dynamo, 'dynamo')
  }
  get ecs(): ECSClient {
    return started(this.#ecs, 'ecs')
  }
  /** The platform's names as the API Lambdas get them (subnets and security groups as lists). */
  get config(): AwsPlatformConfig {
    return started(this.#config, 'config')
  }

  /** 'in-process': the served router. */
  get server(): RunningHttpServer {
    return started(this.#server, 'server', 'in-process')
  }
  /** 'in-process': the deps the services were built from (settings, clock, adapters). */
  get deps(): CoreDeps {
    return started(this.#deps, 'deps', 'in-process')
  }
  /** 'in-process': the services the router calls now. */
  get services(): CoreServices {
    return started(this.#services, 'services', 'in-process')
  }

  /** 'cli': the CLI sandbox whose config holds the deployment. */
  get cli(): CliSandbox {
    return started(this.#cli, 'cli', 'cli')
  }
  /** 'cli': `devflow api serve` for the sandbox's config. */
  get api(): RunningApi {
    return started(this.#api, 'api', 'cli')
  }
  /** 'cli': the workspace side, speaking to `api`. */
  get agent(): TestAgent {
    return started(this.#agent, 'agent', 'cli')
  }

  async start(): Promise<void> {
    const aws = await moto()
    this.#moto = aws
    // Tasks stay RUNNING until stopped (moto would otherwise walk them to STOPPED on each describe).
    await aws.setTransition('ecs::task', {progression: 'manual', times: 1_000_000})
    const recorder = await startAwsRecorder(aws.url)
    this.#recorder = recorder
    const clientConfig = {region: TEST_REGION, endpoint: recorder.url, credentials: {accessKeyId: 'testing', secretAccessKey: 'testing'}, maxAttempts: 1}
    this.#dynamo = new DynamoDBClient(clientConfig)
    this.#ecs = new ECSClient(clientConfig)
    this.#github = await FakeGithub.start()
    this.#github.install(REPO)
    const resources = await createPlatformResources(clientConfig, this.#dynamo, this.#ecs, this.#github)
    this.#config = resources.config
    this.#secrets = resources.secrets
    if (this.mode === 'in-process') await this.serveInProcess()
    else await this.serveCli()
  }

  async close(): Promise<void> {
    await this.#api?.stop()
    await this.#server?.close()
    await this.#github?.close()
    await this.#cli?.cleanup()
    this.#dynamo?.destroy()
    this.#ecs?.destroy()
    await this.#recorder?.close()
    // Later tests in this process reach AWS as they did before the fixture.
    for (const [key, value] of Object.entries(this.#savedEnv)) {
      if (value === undefined) delete process.env[key]
      else process.env[key] = value
    }
  }

  /** Environment for a CLI process against this moto, through the recorder (and a fast poll for the waiting commands). */
  env(extra: Record<string, string> = {}): Record<string, string> {
    return {...this.moto.env(), AWS_ENDPOINT_URL: this.recorder.url, DEVFLOW_POLL_INTERVAL_MS: '200', ...extra}
  }

  /** The stage's deployment as `devflow deploy` saves it in the config. */
  deployment(): Record<string, string> {
    const config = this.config
    return {
      sessionsTable: config.sessionsTable,
      promptsTable: config.promptsTable,
      eventsTable: config.eventsTable,
      cluster: config.cluster,
      taskDefinition: config.taskDefinition,
      containerName: config.containerName,
      subnets: config.subnets.join(','),
      securityGroups: config.securityGroups.join(','),
      capacity: config.capacity,
      githubAppSecretArn: config.githubAppSecretArn,
      githubDeliveriesTable: config.githubDeliveriesTable,
      taskRoleArn: config.taskRoleArn ?? '',
      emulator: config.emulator ?? '',
      repositories: JSON.stringify(config.repositoryAccess),
      adminRoleArns: (config.adminRoleArns ?? []).join(','),
      pageTokenKeySecretArn: config.pageTokenKeySecretArn,
      conversationsBucket: config.conversationsBucket ?? '',
      region: TEST_REGION,
    }
  }

  /** Writes the dev stage's deployment into a sandbox's config, as `devflow deploy` does. */
  async saveDeployment(cli: CliSandbox, extra: Record<string, string> = {}): Promise<void> {
    await mkdir(dirname(cli.configFile), {recursive: true})
    await writeFile(cli.configFile, JSON.stringify({stages: {dev: {deployment: {...this.deployment(), ...extra}}}}))
  }

  /** Every task of the cluster, running or stopped. */
  async tasks(): Promise<Task[]> {
    const running = (await this.ecs.send(new ListTasksCommand({cluster: CLUSTER}))).taskArns ?? []
    const stopped = (await this.ecs.send(new ListTasksCommand({cluster: CLUSTER, desiredStatus: 'STOPPED'}))).taskArns ?? []
    const all = [...new Set([...running, ...stopped])]
    if (all.length === 0) return []
    return (await this.ecs.send(new DescribeTasksCommand({cluster: CLUSTER, tasks: all}))).tasks ?? []
  }

  /** A table's items, unmarshalled (attribute names as stored: `session_id`, `user_id`, …). */
  async scan(table: TableKey): Promise<Record<string, unknown>[]> {
    const out = await this.dynamo.send(new ScanCommand({TableName: TABLES[table]}))
    return (out.Items ?? []).map((item) => unmarshall(item))
  }

  /** 'in-process': moves the services' clock forward (leases, idle timeouts). */
  advance(ms: number): void {
    this.#clockOffset += ms
  }

  /** 'in-process': rebuilds the services with some deps replaced (fault injection), keeping the server; `rewire(() => ({}))` undoes it. */
  rewire(change: (deps: CoreDeps) => Partial<CoreDeps>): void {
    const initial = started(this.#initialDeps, 'deps', 'in-process')
    this.#deps = {...initial, ...change(initial)}
    this.#services = createCoreServices(this.#deps)
  }

  /**
   * 'in-process': the workspace's bootstrap call for a session's task, as its task role makes it;
   * answers the agent token and the editor password (once per session).
   */
  async bootstrap(sessionId: string, taskArn: string): Promise<{token: string; editorPassword: string}> {
    const response = await this.call('POST', `/agent/sessions/${sessionId}/bootstrap`, {user: taskRoleCaller(taskArn)})
    if (response.status !== 200) throw new Error(`bootstrap of ${sessionId} answered ${response.status}: ${JSON.stringify(response.body)}`)
    return response.body
  }

  /** 'in-process': a request to the served API. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- response JSON, asserted field by field
  async call(method: string, path: string, options: CallOptions = {}): Promise<{status: number; body: any}> {
    const headers: Record<string, string> = {'content-type': 'application/json'}
    if (options.user !== undefined) headers['x-test-user'] = options.user
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`
    const body = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body))
    const response = await fetch(`${this.server.url}${path}`, {method, headers, body})
    const text = await response.text()
    return {status: response.status, body: text ? JSON.parse(text) : undefined}
  }

  private async serveInProcess(): Promise<void> {
    // The in-process SDK clients find moto (through the recorder) in the environment, as `devflow api serve` does.
    for (const [key, value] of Object.entries({...this.moto.env(), AWS_ENDPOINT_URL: this.recorder.url})) {
      this.#savedEnv[key] = process.env[key]
      process.env[key] = value
    }
    const clock: Clock = {now: () => new Date(Date.now() + this.#clockOffset), sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms))}
    const base = await createAwsCoreDeps(this.config, {region: TEST_REGION})
    this.#initialDeps = {...base, clock, settings: {...base.settings, pollIntervalMs: 50}}
    this.rewire(() => ({}))
    // The router calls whichever services the fixture holds now, so rewire() takes effect at once.
    const services = () => this.services
    const router = createApiRouter({
      get sessions() {
        return services().sessions
      },
      get agent() {
        return services().agent
      },
      get github() {
        return services().github
      },
      reapSessions: () => services().reapSessions(),
    })
    this.#server = await startHttpServer({
      router,
      host: '127.0.0.1',
      port: 0,
      identify: async (req) => {
        const user = req.headers['x-test-user']
        return typeof user === 'string' ? {userArn: user} : undefined
      },
    })
  }

  private async serveCli(): Promise<void> {
    const cli = await CliSandbox.create()
    this.#cli = cli
    await this.saveDeployment(cli)
    // Read again on every request: the TestAgent adds each task's role session as it appears.
    const principalsFile = join(cli.home, 'sigv4-principals.json')
    await writeFile(principalsFile, JSON.stringify({testing: {secretAccessKey: 'testing', userArn: TEST_USER_ARN}}))
    this.#api = await serveApi(cli, this.env({DEVFLOW_API_SIGV4_PRINCIPALS: `@${principalsFile}`}))
    this.#agent = new TestAgent(this.#api.url, this.ecs, CLUSTER, {principalsFile, callerOf: taskRoleCaller})
  }
}

function started<T>(value: T | undefined, name: string, mode?: ApiMode): T {
  if (value === undefined) throw new Error(`platform fixture: ${name} is there only after start()${mode ? ` in '${mode}' mode` : ''}`)
  return value
}

/** The resources of a deployed stack, created in moto; answers the config naming them and the secrets' ARNs. */
async function createPlatformResources(
  clientConfig: ConstructorParameters<typeof EC2Client>[0] & object,
  dynamo: DynamoDBClient,
  ecs: ECSClient,
  github: FakeGithub,
): Promise<{config: AwsPlatformConfig; secrets: PlatformSecretArns}> {
  const ec2 = new EC2Client(clientConfig)
  const vpc = await ec2.send(new CreateVpcCommand({CidrBlock: '10.20.0.0/16'}))
  // moto's awsvpc tasks need DNS hostnames on the VPC (it reads the ENI's private DNS name).
  await ec2.send(new ModifyVpcAttributeCommand({VpcId: vpc.Vpc?.VpcId, EnableDnsHostnames: {Value: true}}))
  const subnet = await ec2.send(new CreateSubnetCommand({VpcId: vpc.Vpc?.VpcId, CidrBlock: '10.20.1.0/24'}))
  const group = await ec2.send(new CreateSecurityGroupCommand({GroupName: 'devflow-workspace', Description: 'workspace', VpcId: vpc.Vpc?.VpcId}))
  ec2.destroy()
  await createDevflowTables(dynamo, TABLES)
  await createDeliveriesTable(dynamo, TABLES.deliveries)
  await ecs.send(new CreateClusterCommand({clusterName: CLUSTER}))
  const taskDefinition = await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'devflow-workspace',
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE'],
      cpu: '1024',
      memory: '4096',
      executionRoleArn: TASK_ROLES.execution,
      taskRoleArn: TASK_ROLES.task,
      // moto's RunTask fails without a container-level memory limit.
      containerDefinitions: [{name: 'workspace', image: 'devflow-code-server:latest', memory: 4096, essential: true}],
    }),
  )
  const secrets = new SecretsManagerClient(clientConfig)
  const githubApp = await secrets.send(new CreateSecretCommand({Name: SECRET_NAMES.githubApp, SecretString: JSON.stringify({...github.secret(), webhookSecret: WEBHOOK_SECRET})}))
  // The stack generates 64 characters; any key of 32 or more is accepted.
  const pageTokenKey = await secrets.send(new CreateSecretCommand({Name: PAGE_TOKEN_KEY_SECRET_NAME, SecretString: JSON.stringify({key: 'k'.repeat(64)})}))
  secrets.destroy()
  const kms = new KMSClient(clientConfig)
  const key = await kms.send(new CreateKeyCommand({Description: 'devflow conversations'}))
  kms.destroy()
  const {region, endpoint, credentials} = clientConfig as {region: string; endpoint: string; credentials: {accessKeyId: string; secretAccessKey: string}}
  const s3 = new S3Client({region, endpoint, credentials, forcePathStyle: true, maxAttempts: 1})
  await s3.send(new CreateBucketCommand({Bucket: CONVERSATIONS_BUCKET}))
  await s3.send(new PutPublicAccessBlockCommand({Bucket: CONVERSATIONS_BUCKET, PublicAccessBlockConfiguration: {BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true}}))
  await s3.send(
    new PutBucketEncryptionCommand({
      Bucket: CONVERSATIONS_BUCKET,
      ServerSideEncryptionConfiguration: {Rules: [{ApplyServerSideEncryptionByDefault: {SSEAlgorithm: 'aws:kms', KMSMasterKeyID: key.KeyMetadata?.Arn}, BucketKeyEnabled: true}]},
    }),
  )
  s3.destroy()
  const arns = {githubApp: githubApp.ARN ?? '', pageTokenKey: pageTokenKey.ARN ?? '', conversationsKey: key.KeyMetadata?.Arn ?? ''}
  const config: AwsPlatformConfig = {
    sessionsTable: TABLES.sessions,
    promptsTable: TABLES.prompts,
    eventsTable: TABLES.events,
    cluster: CLUSTER,
    taskDefinition: taskDefinition.taskDefinition?.taskDefinitionArn ?? '',
    containerName: 'workspace',
    subnets: [subnet.Subnet?.SubnetId ?? ''],
    securityGroups: [group.GroupId ?? ''],
    // The dev stage's default, placed as the emulator mode of the ECS runtime places it (README).
    capacity: 'FARGATE_SPOT',
    emulator: 'moto',
    taskRoleArn: TASK_ROLE_ARN,
    githubAppSecretArn: arns.githubApp,
    pageTokenKeySecretArn: arns.pageTokenKey,
    githubDeliveriesTable: TABLES.deliveries,
    usageTable: TABLES.usage,
    githubLabel: 'devflow',
    conversationsBucket: CONVERSATIONS_BUCKET,
    version: '0.0.0-test',
    maxAttempts: 1,
    // Every repository: which ones the App reaches is the fake GitHub's say (only REPO).
    repositoryAccess: ANY_REPOSITORY,
    adminRoleArns: [OPERATOR_ROLE_ARN],
  }
  return {config, secrets: arns}
}

async function serveApi(cli: CliSandbox, env: Record<string, string>): Promise<RunningApi> {
  const child: ResultPromise = execa('node', [CLI, 'api', 'serve', '--port', '0'], {
    cwd: cli.home,
    reject: false,
    extendEnv: false,
    env: {PATH: process.env.PATH, HOME: cli.home, XDG_CONFIG_HOME: cli.configHome, NO_COLOR: '1', AWS_EC2_METADATA_DISABLED: 'true', ...env},
  })
  let stderr = ''
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`api serve did not start:\n${stderr}`)), 30_000)
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += String(chunk)
      const match = /listening on (http:\/\/\S+)/.exec(stderr)
      if (match) {
        clearTimeout(timer)
        resolve(match[1])
      }
    })
    void child.then(() => reject(new Error(`api serve exited:\n${stderr}`)))
  })
  return {
    url,
    log: () => stderr,
    async stop() {
      child.kill('SIGTERM')
      await child
    },
  }
}

/**
 * An ECS runtime for the platform's cluster over `api(real ECS API)`: for `rewire`'s fault
 * injection. `realPlacement` drops the emulator mode, so that RunTask asks for Spot as on AWS (the
 * fault then has to answer it: moto cannot).
 */
export function runtimeWith(platform: PlatformFixture, api: (real: EcsApi) => EcsApi, options: {realPlacement?: boolean} = {}): EcsTaskRuntime {
  const {emulator} = platform.config
  return new EcsTaskRuntime(api(ecsApi(platform.ecs)), {
    cluster: platform.config.cluster,
    taskDefinition: platform.config.taskDefinition,
    containerName: platform.config.containerName,
    subnets: platform.config.subnets,
    securityGroups: platform.config.securityGroups,
    ...(emulator && !options.realPlacement ? {emulator} : {}),
  })
}
