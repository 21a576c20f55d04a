/**
 * The control plane on moto_server and the fake GitHub: tables, cluster, task definition and the
 * App secret created as `devflow deploy` would, the core services over the real AWS adapters, the
 * router served by the real HTTP server, and raw SDK clients to check what landed.
 */
import {DynamoDBClient, ScanCommand} from '@aws-sdk/client-dynamodb'
import {CreateClusterCommand, DescribeTasksCommand, ECSClient, ListTasksCommand, RegisterTaskDefinitionCommand, type Task} from '@aws-sdk/client-ecs'
import {unmarshall} from '@aws-sdk/util-dynamodb'
import {CreateSecurityGroupCommand, CreateSubnetCommand, CreateVpcCommand, EC2Client, ModifyVpcAttributeCommand} from '@aws-sdk/client-ec2'
import {CreateSecretCommand, SecretsManagerClient} from '@aws-sdk/client-secrets-manager'

import {ecsApi, type EcsApi, EcsTaskRuntime} from '../../../src/adapters/aws/ecs-task-runtime.js'
import {type AwsPlatformConfig, createAwsCoreDeps} from '../../../src/adapters/aws/platform.js'
import {type RunningHttpServer, startHttpServer} from '../../../src/api/http-server.js'
import {createApiRouter} from '../../../src/api/router.js'
import type {Clock} from '../../../src/core/ports.js'
import {type CoreDeps, type CoreServices, createCoreServices} from '../../../src/core/services/index.js'
import {type AwsRecorder, startAwsRecorder} from '../../helpers/aws-recorder.js'
import {FakeGithub} from '../../helpers/fake-github.js'
import {createDevflowTables} from '../../helpers/tables.js'
import {type Moto, moto, TEST_REGION} from '../../helpers/moto.js'

export const TABLES = {sessions: 'devflow-sessions', prompts: 'devflow-prompts', events: 'devflow-prompt-events'}
export const CLUSTER = 'devflow'
export const REPO = 'octo/hello'
/** The workspace task definition's roles, as the stack names them (RunTask passes them). */
export const TASK_ROLES = {
  execution: 'arn:aws:iam::123456789012:role/devflow-dev-WorkspacesExecutionRole',
  task: 'arn:aws:iam::123456789012:role/devflow-dev-WorkspacesTaskRole',
}

export interface Harness {
  readonly moto: Moto
  /** Every AWS call of the services and the fixtures passes through it (AWS_ENDPOINT_URL). */
  readonly recorder: AwsRecorder
  /** The GitHub App and page-token secrets' ARNs. */
  readonly secrets: {githubApp: string; pageTokenKey: string}
  readonly github: FakeGithub
  readonly dynamo: DynamoDBClient
  readonly ecs: ECSClient
  readonly config: AwsPlatformConfig
  /** Moves the services' clock forward (leases, idle timeouts). */
  advance(ms: number): void
  deps: CoreDeps
  services: CoreServices
  server: RunningHttpServer
  /** Rebuilds the services with some deps replaced (fault injection), keeping the server. */
  rewire(change: (deps: CoreDeps) => Partial<CoreDeps>): void
  /** A request to the served API as `user` (the x-test-user header stands in for SigV4). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- response JSON, asserted field by field
  call(method: string, path: string, options?: {user?: string; body?: unknown; rawBody?: string; token?: string}): Promise<{status: number; body: any}>
  tasks(): Promise<Task[]>
  scan(table: string): Promise<Record<string, unknown>[]>
  close(): Promise<void>
}

export async function startHarness(): Promise<Harness> {
  const aws = await moto()
  await aws.reset()
  const recorder = await startAwsRecorder(aws.url)
  for (const [key, value] of Object.entries(aws.env())) process.env[key] = value
  process.env.AWS_ENDPOINT_URL = recorder.url
  // Tasks stay RUNNING until stopped (moto would otherwise walk them to STOPPED on each describe).
  await aws.setTransition('ecs::task', {progression: 'manual', times: 1_000_000})
  const clientConfig = {region: TEST_REGION, endpoint: recorder.url, credentials: {accessKeyId: 'testing', secretAccessKey: 'testing'}}
  const dynamo = new DynamoDBClient({...clientConfig, maxAttempts: 1})
  const ecs = new ECSClient({...clientConfig, maxAttempts: 1})
  const secrets = new SecretsManagerClient({...clientConfig, maxAttempts: 1})
  const github = await FakeGithub.start()
  github.install(REPO)

  const ec2 = new EC2Client({...clientConfig, maxAttempts: 1})
  const vpc = await ec2.send(new CreateVpcCommand({CidrBlock: '10.20.0.0/16'}))
  // moto's awsvpc tasks need DNS hostnames on the VPC (it reads the ENI's private DNS name).
  await ec2.send(new ModifyVpcAttributeCommand({VpcId: vpc.Vpc?.VpcId, EnableDnsHostnames: {Value: true}}))
  const subnet = await ec2.send(new CreateSubnetCommand({VpcId: vpc.Vpc?.VpcId, CidrBlock: '10.20.1.0/24'}))
  const group = await ec2.send(new CreateSecurityGroupCommand({GroupName: 'devflow-workspace', Description: 'workspace', VpcId: vpc.Vpc?.VpcId}))
  ec2.destroy()
  await createDevflowTables(dynamo, TABLES)
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
      containerDefinitions: [{name: 'workspace', image: 'devflow-code-server:latest', memory: 4096, essential: true}],
    }),
  )
  const secret = await secrets.send(new CreateSecretCommand({Name: 'devflow/github-app', SecretString: JSON.stringify(github.secret())}))
  const pageTokenKey = await secrets.send(new CreateSecretCommand({Name: 'devflow/page-token-key', SecretString: JSON.stringify({key: 'k'.repeat(64)})}))

  const config: AwsPlatformConfig = {
    sessionsTable: TABLES.sessions,
    promptsTable: TABLES.prompts,
    eventsTable: TABLES.events,
    cluster: CLUSTER,
    taskDefinition: taskDefinition.taskDefinition?.taskDefinitionArn ?? '',
    containerName: 'workspace',
    subnets: [subnet.Subnet?.SubnetId ?? ''],
    securityGroups: [group.GroupId ?? ''],
    capacity: 'FARGATE',
    githubAppSecretArn: secret.ARN ?? '',
    pageTokenKeySecretArn: pageTokenKey.ARN ?? '',
    version: '0.0.0-test',
    maxAttempts: 1,
  }
  let offset = 0
  const clock: Clock = {now: () => new Date(Date.now() + offset), sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms))}
  const baseDeps = await createAwsCoreDeps(config, {region: TEST_REGION})
  const initial: CoreDeps = {...baseDeps, clock, settings: {...baseDeps.settings, pollIntervalMs: 50}}

  const harness: Harness = {
    moto: aws,
    recorder,
    secrets: {githubApp: secret.ARN ?? '', pageTokenKey: pageTokenKey.ARN ?? ''},
    github,
    dynamo,
    ecs,
    config,
    advance: (ms) => {
      offset += ms
    },
    deps: initial,
    services: createCoreServices(initial),
    server: undefined as unknown as RunningHttpServer,
    rewire(change) {
      this.deps = {...initial, ...change(initial)}
      this.services = createCoreServices(this.deps)
    },
    async call(method, path, options = {}) {
      const headers: Record<string, string> = {'content-type': 'application/json'}
      if (options.user !== undefined) headers['x-test-user'] = options.user
      if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`
      const body = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body))
      const response = await fetch(`${harness.server.url}${path}`, {method, headers, body})
      const text = await response.text()
      return {status: response.status, body: text ? JSON.parse(text) : undefined}
    },
    async tasks() {
      const arns = (await ecs.send(new ListTasksCommand({cluster: CLUSTER}))).taskArns ?? []
      const stopped = (await ecs.send(new ListTasksCommand({cluster: CLUSTER, desiredStatus: 'STOPPED'}))).taskArns ?? []
      const all = [...new Set([...arns, ...stopped])]
      if (all.length === 0) return []
      return (await ecs.send(new DescribeTasksCommand({cluster: CLUSTER, tasks: all}))).tasks ?? []
    },
    async scan(table) {
      const out = await dynamo.send(new ScanCommand({TableName: table}))
      return (out.Items ?? []).map((item) => unmarshall(item))
    },
    async close() {
      await harness.server.close()
      await github.close()
      dynamo.destroy()
      ecs.destroy()
      secrets.destroy()
      await recorder.close()
      // Later tests in this process reach moto directly again.
      process.env.AWS_ENDPOINT_URL = aws.url
    },
  }
  // The router always calls whichever services the harness holds now, so rewire() takes effect.
  const router = createApiRouter({
    get sessions() {
      return harness.services.sessions
    },
    get agent() {
      return harness.services.agent
    },
    reapSessions: () => harness.services.reapSessions(),
  })
  harness.server = await startHttpServer({
    router,
    host: '127.0.0.1',
    port: 0,
    identify: async (req) => {
      const user = req.headers['x-test-user']
      return typeof user === 'string' ? {userArn: user} : undefined
    },
  })
  return harness
}

/** An ECS API whose RunTask answers with `fault` when `when(input)` holds, and is real otherwise. */
export function ecsWithRunTaskFault(real: EcsApi, when: (capacity: string | undefined) => boolean, fault: () => Promise<never> | ReturnType<EcsApi['runTask']>): EcsApi {
  return {
    ...real,
    runTask: (input) => (when(input.capacityProviderStrategy?.[0]?.capacityProvider ?? input.launchType) ? fault() : real.runTask(input)),
  }
}

export function runtimeWith(harness: Harness, api: (real: EcsApi) => EcsApi): EcsTaskRuntime {
  return new EcsTaskRuntime(api(ecsApi(harness.ecs)), {
    cluster: harness.config.cluster,
    taskDefinition: harness.config.taskDefinition,
    containerName: harness.config.containerName,
    subnets: harness.config.subnets,
    securityGroups: harness.config.securityGroups,
  })
}

