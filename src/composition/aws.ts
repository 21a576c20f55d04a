/**
 * Wires the core services to AWS: DynamoDB stores, the ECS runtime, the GitHub App (key from
 * Secrets Manager). Used by the Lambda handlers (config from their environment), `devflow api
 * serve` and the CLI's --admin mode (config from the deployment saved by `devflow deploy`).
 */
import {DynamoUsageStore} from '../adapters/aws/dynamo-usage-store.js'
import {parseEgressPolicy} from '../core/egress-policy.js'
import {DynamoDBClient} from '@aws-sdk/client-dynamodb'
import {ECSClient} from '@aws-sdk/client-ecs'
import {SecretsManagerClient} from '@aws-sdk/client-secrets-manager'
import {S3Client} from '@aws-sdk/client-s3'
import {SNSClient} from '@aws-sdk/client-sns'
import {DynamoDBDocumentClient} from '@aws-sdk/lib-dynamodb'

import {type Deployment, type Emulator, EMULATORS, LAMBDA_ENV, PAGE_TOKEN_KEY_SECRET_NAME, TABLE_NAMES, WORKSPACE_CONTAINER_NAME} from '../core/deployment.js'
import {invalidInput, remoteFailure} from '../core/errors.js'
import {randomIds, systemClock} from '../core/ids.js'
import {CapacityProvider} from '../core/models.js'
import {type CoreDeps, DEFAULT_CORE_SETTINGS} from '../core/services/index.js'
import {DEFAULT_GITHUB_API_URL, GithubApp} from '../adapters/github/app.js'
import {GithubIssues} from '../adapters/github/issues.js'
import {GithubWebhookVerifier} from '../adapters/github/webhook.js'
import {DynamoDeliveryStore} from '../adapters/aws/dynamo-delivery-store.js'
import {DynamoTriggerQueue} from '../adapters/aws/dynamo-trigger-queue.js'
import {parseMaxSessionsPerRepo} from '../core/github/queue.js'
import {DEFAULT_TRIGGER_LABEL} from '../core/github/trigger.js'
import {DynamoPromptStore} from '../adapters/aws/dynamo-prompt-store.js'
import {DynamoSessionStore} from '../adapters/aws/dynamo-session-store.js'
import {DynamoWarmPoolStore} from '../adapters/aws/dynamo-warm-pool-store.js'
import type {WarmPoolDeps} from '../core/services/index.js'
import {DEFAULT_CAPACITY} from '../core/validation.js'
import {DEFAULT_WARM_POOL_SETTINGS, parseWarmSchedule} from '../core/warm-pool.js'
import {ecsApi, EcsTaskRuntime} from '../adapters/aws/ecs-task-runtime.js'
import {type AwsEnvironment, awsClientConfig} from '../adapters/aws/environment.js'
import {CachedSecretReader} from '../adapters/aws/secret-reader.js'
import {toDevflowError} from '../adapters/aws/sdk-errors.js'
import {SnsNotifier} from '../adapters/aws/sns-notifier.js'
import {S3ConversationStore} from '../adapters/aws/s3-conversation-store.js'
import {guardrailSettings, stageNotifier, TOPIC_EVENTS} from './guardrails.js'
import type {ErrorTranslator} from '../api/router.js'
import {CONSOLE_ADMIN_GROUP} from '../core/admins.js'
import {NO_REPOSITORIES, parseRepositoryAccess, type RepositoryAccess} from '../core/repository-access.js'

export interface AwsPlatformConfig {
  readonly sessionsTable: string
  readonly promptsTable: string
  readonly eventsTable: string
  readonly cluster: string
  readonly taskDefinition: string
  readonly containerName: string
  readonly subnets: readonly string[]
  readonly securityGroups: readonly string[]
  readonly capacity: CapacityProvider
  readonly githubAppSecretArn: string
  /** The secret `{"key"}` page tokens are sealed with. */
  readonly pageTokenKeySecretArn: string
  /** Active sessions one user may have; unset: no limit. */
  readonly maxActiveSessionsPerUser?: number
  readonly githubApiUrl?: string
  /** Webhook deliveries (`devflow-github-deliveries` unless named). */
  readonly githubDeliveriesTable: string
  /** The issue label that hands an issue to DevFlow. */
  readonly githubLabel: string
  /** `owner/name` or `owner/*`; undefined: every repository the App is installed on. */
  readonly githubAllowedRepos?: readonly string[]
  /** Sessions from GitHub webhooks one repository may have at once; unset: the core's default. */
  readonly githubMaxSessionsPerRepo?: number
  readonly agentApiUrl?: string
  readonly stage?: string
  /** The workspace task role, whose sessions named after a task may bootstrap that task's session. */
  readonly taskRoleArn?: string
  /** Set when the stage was deployed for an emulator (`-c devflow:emulator=moto`). */
  readonly emulator?: Emulator
  /** Reported by /health. */
  readonly version?: string
  /** The region whose Fargate prices apply. */
  readonly region?: string
  readonly budgets?: string
  readonly prices?: string
  readonly notifyWebhook?: string
  readonly notifyFormat?: string
  readonly notifySecret?: string
  readonly alertTopicArn?: string
  /** The conversation bucket; checkpoints keep the branch only without it. */
  readonly conversationsBucket?: string
  /** SDK retries per call; tests that expect a failure use 1. */
  readonly maxAttempts?: number
  /** The repository allow-list; none: no repository may be started on. */
  readonly repositoryAccess?: RepositoryAccess
  /** The stage's egress policy as JSON (core/egress-policy.ts); enforced by the DNS Firewall. */
  readonly egress?: string
  /** The usage ledger's table (core/usage-ledger.ts). */
  readonly usageTable: string
  /** The warm pool (core/warm-pool.ts); none unless it has a size or a schedule. */
  readonly warmPoolTable?: string
  readonly warmTasks?: number
  readonly warmSchedule?: string
  readonly warmMaxAgeSeconds?: number
  /** IAM roles whose sessions are admins (the operator role); console admins are the Cognito group CONSOLE_ADMIN_GROUP. */
  readonly adminRoleArns?: readonly string[]
}

const REQUIRED = ['cluster', 'taskDefinition', 'subnets', 'githubAppSecretArn'] as const

function list(value: string | undefined): string[] {
  return (value ?? '').split(',').map((s) => s.trim()).filter(Boolean)
}

function capacity(value: string | undefined): CapacityProvider {
  if (value === undefined || value === '') return DEFAULT_CORE_SETTINGS.defaultCapacity
  const parsed = CapacityProvider.safeParse(value)
  if (!parsed.success) throw invalidInput('INVALID_CAPACITY_PROVIDER', `"${value}" is not FARGATE_SPOT or FARGATE.`, 'Set the capacity to FARGATE_SPOT or FARGATE.')
  return parsed.data
}

function emulator(value: string | undefined): Emulator | undefined {
  if (value === undefined || value === '') return undefined
  const known = EMULATORS.find((name) => name === value)
  if (!known) throw invalidInput('UNKNOWN_EMULATOR', `"${value}" is not a supported emulator.`, `Use ${EMULATORS.join(' or ')}, or leave ${LAMBDA_ENV.emulator} unset.`)
  return known
}

function optionalCount(value: string | undefined, name: string, min = 1): number | undefined {
  if (value === undefined || value === '') return undefined
  const count = Number(value)
  if (!Number.isSafeInteger(count) || count < min) throw invalidInput('INVALID_PLATFORM_SETTING', `${name} must be a whole number of at least ${min}, not "${value}".`, 'Fix the stage setting and redeploy.')
  return count
}

function checkComplete(config: AwsPlatformConfig, where: string): AwsPlatformConfig {
  const missing = REQUIRED.filter((key) => (Array.isArray(config[key]) ? config[key].length === 0 : !config[key]))
  if (missing.length > 0) {
    throw invalidInput('PLATFORM_CONFIG_MISSING', `${where} does not name the ${missing.join(', ')} of the DevFlow deployment.`, 'Run `devflow deploy` (it saves them), or set the DEVFLOW_* variables.', {
      details: {missing},
    })
  }
  return config
}

type LambdaEnvKey = keyof typeof LAMBDA_ENV

/** One mapping from LAMBDA_ENV names to the config, whatever supplies the values. */
function platformConfig(read: (key: LambdaEnvKey) => string | undefined, origin: string, fallbackAgentApiUrl?: string): AwsPlatformConfig {
  return checkComplete(
    {
      sessionsTable: read('sessionsTable') ?? TABLE_NAMES.sessions,
      promptsTable: read('promptsTable') ?? TABLE_NAMES.prompts,
      eventsTable: read('eventsTable') ?? TABLE_NAMES.events,
      cluster: read('cluster') ?? '',
      taskDefinition: read('taskDefinition') ?? '',
      containerName: read('containerName') ?? WORKSPACE_CONTAINER_NAME,
      subnets: list(read('subnets')),
      securityGroups: list(read('securityGroups')),
      capacity: capacity(read('capacity')),
      githubAppSecretArn: read('githubAppSecretArn') ?? '',
      pageTokenKeySecretArn: read('pageTokenKeySecretArn') ?? PAGE_TOKEN_KEY_SECRET_NAME,
      maxActiveSessionsPerUser: optionalCount(read('maxActiveSessionsPerUser'), LAMBDA_ENV.maxActiveSessionsPerUser),
      githubApiUrl: read('githubApiUrl'),
      githubDeliveriesTable: read('githubDeliveriesTable') ?? TABLE_NAMES.githubDeliveries,
      githubLabel: read('githubLabel') ?? DEFAULT_TRIGGER_LABEL,
      ...(read('githubAllowedRepos') ? {githubAllowedRepos: list(read('githubAllowedRepos'))} : {}),
      ...(read('githubMaxSessionsPerRepo') ? {githubMaxSessionsPerRepo: parseMaxSessionsPerRepo(read('githubMaxSessionsPerRepo') as string, LAMBDA_ENV.githubMaxSessionsPerRepo)} : {}),
      agentApiUrl: read('agentApiUrl') ?? fallbackAgentApiUrl,
      stage: read('stage'),
      taskRoleArn: read('taskRoleArn'),
      emulator: emulator(read('emulator')),
      version: read('version'),
      budgets: read('budgets'),
      prices: read('prices'),
      notifyWebhook: read('notifyWebhook'),
      notifyFormat: read('notifyFormat'),
      notifySecret: read('notifySecret'),
      alertTopicArn: read('alertTopicArn'),
      egress: read('egress'),
      usageTable: read('usageTable') ?? TABLE_NAMES.usage,
      conversationsBucket: read('conversationsBucket'),
      ...(read('adminRoleArns') ? {adminRoleArns: list(read('adminRoleArns'))} : {}),
      ...(read('repositories') ? {repositoryAccess: parseRepositoryAccess(read('repositories') as string, LAMBDA_ENV.repositories)} : {}),
      warmPoolTable: read('warmPoolTable'),
      warmTasks: optionalCount(read('warmTasks'), LAMBDA_ENV.warmTasks, 0),
      warmSchedule: read('warmSchedule'),
      warmMaxAgeSeconds: optionalCount(read('warmMaxAgeSeconds'), LAMBDA_ENV.warmMaxAgeSeconds),
    },
    origin,
  )
}

/** The Lambda functions' configuration: the LAMBDA_ENV variables the CDK app sets. */
export function awsPlatformConfigFromEnv(processEnv: NodeJS.ProcessEnv): AwsPlatformConfig {
  return platformConfig((key) => processEnv[LAMBDA_ENV[key]] || undefined, 'The environment')
}

/**
 * The CLI's configuration: stages.<stage>.deployment as `devflow deploy` saved it; a DEVFLOW_*
 * variable of LAMBDA_ENV, when set, wins over the saved value (`devflow api serve` against tables
 * made by hand). Workspaces started this way call the deployed API back unless told otherwise.
 */
export function awsPlatformConfigFromDeployment(deployment: Deployment, processEnv: NodeJS.ProcessEnv = process.env): AwsPlatformConfig {
  const saved = deployment as Partial<Record<string, string>>
  return platformConfig((key) => processEnv[LAMBDA_ENV[key]] || saved[key] || undefined, 'The saved deployment', deployment.apiUrl || undefined)
}

/** What the router answers for an AWS error that reached it untranslated. */
export const awsErrorTranslator: ErrorTranslator = (error) => toDevflowError(error, 'An AWS call')

export async function createAwsCoreDeps(config: AwsPlatformConfig, env: AwsEnvironment): Promise<CoreDeps> {
  const clientConfig = await awsClientConfig(env, {maxAttempts: config.maxAttempts ?? 4})
  const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient(clientConfig), {marshallOptions: {removeUndefinedValues: true}})
  const ecs = new ECSClient(clientConfig)
  const secrets = new CachedSecretReader(new SecretsManagerClient(clientConfig), systemClock)
  const readAppSecret = () => secrets.readJson(config.githubAppSecretArn)
  const github = new GithubApp(readAppSecret, config.githubApiUrl ?? DEFAULT_GITHUB_API_URL)
  const warmPool = warmPoolDeps(config, dynamo)
  return {
    ...(warmPool ? {warmPool} : {}),
    sessions: new DynamoSessionStore(dynamo, config.sessionsTable),
    prompts: new DynamoPromptStore(dynamo, config.promptsTable, config.eventsTable),
    usage: new DynamoUsageStore(dynamo, config.usageTable),
    runtime: new EcsTaskRuntime(ecsApi(ecs), {
      cluster: config.cluster,
      taskDefinition: config.taskDefinition,
      containerName: config.containerName,
      subnets: config.subnets,
      securityGroups: config.securityGroups,
      ...(config.emulator ? {emulator: config.emulator} : {}),
    }),
    tokens: github,
    pullRequests: github,
    ...(config.conversationsBucket ? {conversations: new S3ConversationStore(new S3Client({...clientConfig, forcePathStyle: config.emulator === 'moto'}), config.conversationsBucket, systemClock)} : {}),
    clock: systemClock,
    ids: randomIds,
    github: {
      verifier: new GithubWebhookVerifier(readAppSecret),
      deliveries: new DynamoDeliveryStore(dynamo, config.githubDeliveriesTable),
      queue: new DynamoTriggerQueue(dynamo, config.githubDeliveriesTable),
      ...(config.githubMaxSessionsPerRepo ? {maxSessionsPerRepo: config.githubMaxSessionsPerRepo} : {}),
      client: new GithubIssues(github),
      settings: {label: config.githubLabel, ...(config.githubAllowedRepos ? {allowedRepos: config.githubAllowedRepos} : {})},
    },
    notifier: stageNotifier({
      webhookUrl: config.notifyWebhook,
      webhookFormat: config.notifyFormat,
      ...(config.notifySecret ? {webhookSecret: async () => webhookSecretOf(await secrets.readJson(config.notifySecret as string))} : {}),
      ...(config.alertTopicArn ? {topic: {notifier: new SnsNotifier(new SNSClient(clientConfig), config.alertTopicArn), kinds: TOPIC_EVENTS}} : {}),
    }),
    pageTokenKey: async () => pageTokenKey(await secrets.readJson(config.pageTokenKeySecretArn), config.pageTokenKeySecretArn),
    settings: {
      ...DEFAULT_CORE_SETTINGS,
      ...guardrailSettings({budgets: config.budgets, prices: config.prices}),
      ...(config.stage ? {stage: config.stage} : {}),
      ...(clientConfig.region ? {region: String(clientConfig.region)} : {}),
      version: config.version ?? 'unknown',
      defaultCapacity: config.capacity,
      containerName: config.containerName,
      cluster: config.cluster,
      ...(config.taskRoleArn ? {workspaceRoleArn: config.taskRoleArn} : {}),
      repositoryAccess: config.repositoryAccess ?? NO_REPOSITORIES,
      admins: {consoleGroups: [CONSOLE_ADMIN_GROUP], roleArns: config.adminRoleArns ?? []},
      ...(config.maxActiveSessionsPerUser ? {maxActiveSessionsPerUser: config.maxActiveSessionsPerUser} : {}),
      ...(config.agentApiUrl ? {agentApiUrl: config.agentApiUrl} : {}),
      ...(config.egress ? {egress: {policy: parseEgressPolicy(config.egress), enforcer: 'dns-firewall' as const}} : {}),
    },
  }
}

/** The warm pool when the stage keeps one: a size above 0, or a schedule. Its tasks are of the task definition's size. */
function warmPoolDeps(config: AwsPlatformConfig, dynamo: DynamoDBDocumentClient): WarmPoolDeps | undefined {
  const windows = parseWarmSchedule(config.warmSchedule, LAMBDA_ENV.warmSchedule)
  if (!config.warmPoolTable || (!config.warmTasks && windows.length === 0)) return undefined
  return {
    store: new DynamoWarmPoolStore(dynamo, config.warmPoolTable),
    settings: {
      ...DEFAULT_WARM_POOL_SETTINGS,
      baseTasks: config.warmTasks ?? 0,
      windows,
      ...DEFAULT_CAPACITY,
      capacity: config.capacity,
      ...(config.warmMaxAgeSeconds ? {maxAgeSeconds: config.warmMaxAgeSeconds} : {}),
    },
  }
}

/** The webhook deliveries table alone (`devflow github status`); close() releases the client. */
export async function openDeliveryStore(env: AwsEnvironment, deployment: Deployment | undefined): Promise<{store: DynamoDeliveryStore; close(): void}> {
  const client = new DynamoDBClient(await awsClientConfig(env, {maxAttempts: 3}))
  const table = process.env[LAMBDA_ENV.githubDeliveriesTable] || deployment?.githubDeliveriesTable || TABLE_NAMES.githubDeliveries
  return {store: new DynamoDeliveryStore(DynamoDBDocumentClient.from(client), table), close: () => client.destroy()}
}

/** The webhook signing secret is kept as `{"secret": "..."}`, like the other DevFlow secrets a JSON document. */
function webhookSecretOf(value: unknown): string | undefined {
  const secret = (value as {secret?: unknown} | null)?.secret
  return typeof secret === 'string' && secret !== '' ? secret : undefined
}

function pageTokenKey(secret: unknown, secretId: string): Uint8Array {
  const key = (secret as {key?: unknown} | null)?.key
  if (typeof key !== 'string' || key.length < 32) {
    throw remoteFailure('PAGE_TOKEN_KEY_INVALID', `The secret ${secretId} holds no "key" of 32 characters or more.`, 'Redeploy with `devflow deploy`: the stack generates it.')
  }
  return Buffer.from(key, 'utf8')
}
