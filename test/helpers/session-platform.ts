/**
 * The deployed platform for the session commands' e2e tests, on this machine: moto_server as AWS
 * (tables, cluster, task definition and the GitHub App secret, as `devflow deploy` leaves them),
 * the fake GitHub API, and `devflow api serve` as a real process checking every user request's
 * SigV4 signature (DEVFLOW_API_SIGV4_PRINCIPALS). `TestAgent` plays the workspace container: it
 * reads the session token from the task's environment overrides (ECS DescribeTasks) and speaks
 * the agent routes.
 */
import {DynamoDBClient, ScanCommand} from '@aws-sdk/client-dynamodb'
import {DescribeSubnetsCommand, EC2Client} from '@aws-sdk/client-ec2'
import {CreateClusterCommand, DescribeTasksCommand, ECSClient, ListTasksCommand, RegisterTaskDefinitionCommand} from '@aws-sdk/client-ecs'
import {CreateSecretCommand, SecretsManagerClient} from '@aws-sdk/client-secrets-manager'
import {type ResultPromise, execa} from 'execa'
import {mkdir, writeFile} from 'node:fs/promises'
import {dirname} from 'node:path'

import {PAGE_TOKEN_KEY_SECRET_NAME} from '../../src/core/deployment.js'
import {CLI, type CliSandbox} from './cli.js'
import {FakeGithub} from './fake-github.js'
import {createDevflowTables} from './tables.js'
import {type Moto, moto, TEST_ACCOUNT, TEST_REGION} from './moto.js'

export const REPO = 'octo/hello'
/** What moto's STS answers for any access key: the operator in admin mode, the caller in API mode. */
export const TEST_USER_ARN = `arn:aws:sts::${TEST_ACCOUNT}:user/moto`
const TABLES = {sessions: 'devflow-sessions', prompts: 'devflow-prompts', events: 'devflow-prompt-events'}
const CLUSTER = 'devflow'

export interface SessionPlatform {
  readonly moto: Moto
  readonly github: FakeGithub
  readonly deployment: Record<string, string>
  readonly ecs: ECSClient
  /** Writes the stage's deployment into the sandbox's config, as `devflow deploy` does. */
  saveDeployment(cli: CliSandbox, extra?: Record<string, string>): Promise<void>
  /** Environment for CLI processes: moto credentials and endpoint. */
  env(extra?: Record<string, string>): Record<string, string>
  /** Starts `devflow api serve` for this sandbox's config; resolves with its URL. */
  serve(cli: CliSandbox): Promise<RunningApi>
  scan(table: keyof typeof TABLES): Promise<Record<string, unknown>[]>
  close(): Promise<void>
}

export interface RunningApi {
  readonly url: string
  /** The server's stderr so far (one JSON line per request). */
  log(): string
  stop(): Promise<void>
}

export async function startSessionPlatform(): Promise<SessionPlatform> {
  const aws = await moto()
  // moto starts tasks RUNNING and walks them towards STOPPED on describes; a workspace stays up until stopped.
  await aws.setTransition('ecs::task', {progression: 'manual', times: 1_000_000})
  const clientConfig = {region: TEST_REGION, endpoint: aws.url, credentials: {accessKeyId: 'testing', secretAccessKey: 'testing'}, maxAttempts: 1}
  const dynamo = new DynamoDBClient(clientConfig)
  const ecs = new ECSClient(clientConfig)
  const secrets = new SecretsManagerClient(clientConfig)
  const github = await FakeGithub.start()
  github.install(REPO)
  await createDevflowTables(dynamo, TABLES)
  await ecs.send(new CreateClusterCommand({clusterName: CLUSTER}))
  const taskDefinition = await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'devflow-workspace',
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE'],
      cpu: '1024',
      memory: '4096',
      containerDefinitions: [{name: 'workspace', image: 'devflow-code-server:latest', memory: 4096, essential: true}],
    }),
  )
  const secret = await secrets.send(new CreateSecretCommand({Name: 'devflow/github-app', SecretString: JSON.stringify(github.secret())}))
  const pageTokenKey = await secrets.send(new CreateSecretCommand({Name: PAGE_TOKEN_KEY_SECRET_NAME, SecretString: JSON.stringify({key: 'k'.repeat(64)})}))
  secrets.destroy()
  // moto's default VPC has a subnet per zone; RunTask checks the subnet exists.
  const ec2 = new EC2Client(clientConfig)
  const subnet = (await ec2.send(new DescribeSubnetsCommand({}))).Subnets?.[0]?.SubnetId ?? ''
  ec2.destroy()
  const deployment = {
    sessionsTable: TABLES.sessions,
    promptsTable: TABLES.prompts,
    eventsTable: TABLES.events,
    cluster: CLUSTER,
    taskDefinition: taskDefinition.taskDefinition?.taskDefinitionArn ?? '',
    containerName: 'workspace',
    subnets: subnet,
    securityGroups: '',
    capacity: 'FARGATE',
    githubAppSecretArn: secret.ARN ?? '',
    pageTokenKeySecretArn: pageTokenKey.ARN ?? '',
    region: TEST_REGION,
  }
  const env = (extra: Record<string, string> = {}) => ({...aws.env(), DEVFLOW_POLL_INTERVAL_MS: '200', ...extra})
  const servers: RunningApi[] = []
  return {
    moto: aws,
    github,
    deployment,
    ecs,
    env,
    async saveDeployment(cli, extra = {}) {
      await mkdir(dirname(cli.configFile), {recursive: true})
      await writeFile(cli.configFile, JSON.stringify({stages: {dev: {deployment: {...deployment, ...extra}}}}))
    },
    async serve(cli) {
      const server = await serveApi(cli, env({DEVFLOW_API_SIGV4_PRINCIPALS: JSON.stringify({testing: {secretAccessKey: 'testing', userArn: TEST_USER_ARN}})}))
      servers.push(server)
      return server
    },
    async scan(table) {
      const out = await dynamo.send(new ScanCommand({TableName: TABLES[table]}))
      return (out.Items ?? []) as Record<string, unknown>[]
    },
    async close() {
      await Promise.all(servers.map((s) => s.stop()))
      await github.close()
      dynamo.destroy()
      ecs.destroy()
    },
  }
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

/** The workspace side of the prompt channel, answering as a real agent would. */
export class TestAgent {
  constructor(
    private readonly apiUrl: string,
    private readonly ecs: ECSClient,
  ) {}

  /** The session token the control plane handed the task (never stored in plain text anywhere else). */
  async token(sessionId: string, taskArn: string): Promise<string> {
    const environment = await this.environment(taskArn)
    if (!environment.DEVFLOW_SESSION_TOKEN || environment.SESSION_ID !== sessionId) throw new Error(`task ${taskArn} carries no session token for ${sessionId}`)
    return environment.DEVFLOW_SESSION_TOKEN
  }

  /** The workspace container's environment overrides, as the task was started. */
  async environment(taskArn: string): Promise<Record<string, string>> {
    const out = await this.ecs.send(new DescribeTasksCommand({cluster: CLUSTER, tasks: [taskArn]}))
    const variables = out.tasks?.[0]?.overrides?.containerOverrides?.flatMap((o) => o.environment ?? []) ?? []
    return Object.fromEntries(variables.map((v) => [v.name ?? '', v.value ?? '']))
  }

  async call(token: string, method: string, path: string, body?: unknown): Promise<{status: number; body: unknown}> {
    const response = await fetch(`${this.apiUrl}${path}`, {
      method,
      headers: {authorization: `Bearer ${token}`, 'content-type': 'application/json'},
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const text = await response.text()
    return {status: response.status, body: text ? JSON.parse(text) : undefined}
  }

  /**
   * Plays the agent of every workspace task that appears from now on: its first heartbeat makes the
   * session RUNNING. Returns a function that stops watching.
   */
  watchNewTasks(): () => Promise<void> {
    const seen = new Set<string>()
    let running = true
    const loop = (async () => {
      const initial = await this.ecs.send(new ListTasksCommand({cluster: CLUSTER}))
      for (const arn of initial.taskArns ?? []) seen.add(arn)
      while (running) {
        const out = await this.ecs.send(new ListTasksCommand({cluster: CLUSTER}))
        for (const arn of out.taskArns ?? []) {
          if (seen.has(arn)) continue
          seen.add(arn)
          const environment = await this.environment(arn)
          await this.heartbeat(environment.SESSION_ID, environment.DEVFLOW_SESSION_TOKEN)
        }
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    })()
    return async () => {
      running = false
      await loop
    }
  }

  async heartbeat(sessionId: string, token: string): Promise<void> {
    const {status} = await this.call(token, 'POST', `/agent/sessions/${sessionId}/heartbeat`, {state: 'idle'})
    if (status !== 200) throw new Error(`heartbeat answered ${status}`)
  }

  /** Claims the next prompt (long poll), reports progress and a successful result with a commit. */
  async answerNextPrompt(sessionId: string, token: string, outcome: 'SUCCEEDED' | 'FAILED' = 'SUCCEEDED'): Promise<string> {
    for (let attempt = 0; attempt < 30; attempt++) {
      const next = await this.call(token, 'GET', `/agent/sessions/${sessionId}/prompts/next?wait=2`)
      if (next.status === 204) continue
      if (next.status !== 200) throw new Error(`next prompt answered ${next.status}: ${JSON.stringify(next.body)}`)
      const prompt = next.body as {id: string}
      const base = `/agent/sessions/${sessionId}/prompts/${prompt.id}`
      await this.call(token, 'POST', `${base}/events`, {events: [{type: 'progress', text: 'Reading the repository'}, {type: 'tool', text: 'edit src/health.ts'}]})
      await this.call(token, 'POST', `${base}/events`, {events: [{type: 'progress', text: 'Committed the change'}]})
      const result =
        outcome === 'SUCCEEDED'
          ? {status: 'SUCCEEDED', summary: 'Added a health check endpoint.', branch: `devflow/${sessionId}`, commit: '0123456789abcdef0123456789abcdef01234567', turns: 3, costUsd: 0.12}
          : {status: 'FAILED', summary: 'The tests did not pass.', error: {code: 'AGENT_FAILED', message: 'The tests did not pass.'}}
      const done = await this.call(token, 'POST', `${base}/result`, result)
      if (done.status !== 200) throw new Error(`result answered ${done.status}: ${JSON.stringify(done.body)}`)
      return prompt.id
    }
    throw new Error('no prompt arrived')
  }
}

