/**
 * The names that tie the deployed stack, the Lambda functions, the CLI and the local server
 * together. The CDK app emits these outputs and environment variables; `devflow deploy` saves the
 * outputs in the config (stages.<stage>.deployment); `devflow api serve`, admin mode and the Lambda
 * handlers read them back. One list, so the parts cannot disagree on a name.
 */

/** CloudFormation output keys of the DevFlow stack, saved verbatim by `devflow deploy`. */
export const OUTPUT_KEYS = {
  apiUrl: 'ApiUrl',
  sessionsTable: 'SessionsTableName',
  promptsTable: 'PromptsTableName',
  eventsTable: 'PromptEventsTableName',
  cluster: 'ClusterName',
  taskDefinition: 'TaskDefinitionArn',
  containerName: 'WorkspaceContainerName',
  subnets: 'WorkspaceSubnetIds',
  securityGroups: 'WorkspaceSecurityGroupIds',
  capacity: 'DefaultCapacityProvider',
  ecrRepositoryUri: 'EcrRepositoryUri',
  githubAppSecretArn: 'GithubAppSecretArn',
  claudeApiKeySecretArn: 'ClaudeApiKeySecretArn',
  pageTokenKeySecretArn: 'PageTokenKeySecretArn',
  frontendDomain: 'FrontendDomainName',
  /** The web console's Cognito user pool (users are invited into it). */
  consoleUserPoolId: 'ConsoleUserPoolId',
  alarmTopicArn: 'AlarmTopicArn',
  githubDeliveriesTable: 'GithubDeliveriesTableName',
  taskRoleArn: 'WorkspaceTaskRoleArn',
  /** Only under `-c devflow:emulator=moto`. */
  emulator: 'Emulator',
  /** The repository allow-list as JSON (core/repository-access.ts), for `api serve` and admin mode. */
  repositories: 'RepositoryAllowList',
  /** The stage's egress policy as JSON (core/egress-policy.ts), for `devflow doctor`. */
  egress: 'EgressPolicy',
  usageTable: 'UsageTableName',
  /** Where stopped sessions' Claude conversations are kept for `session resume`. */
  conversationsBucket: 'ConversationsBucketName',
  /** The warm pool's table (core/warm-pool.ts). */
  warmPoolTable: 'WarmPoolTableName',
  /** The IAM roles whose sessions are the stage's admins (core/admins.ts): the operator role. */
  adminRoleArns: 'AdminRoleArns',
} as const

export type DeploymentKey = keyof typeof OUTPUT_KEYS

/** What the CLI keeps in stages.<stage>.deployment: the output values under the keys above. */
export type Deployment = Partial<Record<DeploymentKey, string>> & {stackName?: string; region?: string; account?: string}

/** Environment variables of the API Lambda functions (and of `devflow api serve`). */
export const LAMBDA_ENV = {
  sessionsTable: 'DEVFLOW_SESSIONS_TABLE',
  promptsTable: 'DEVFLOW_PROMPTS_TABLE',
  eventsTable: 'DEVFLOW_EVENTS_TABLE',
  cluster: 'DEVFLOW_CLUSTER',
  taskDefinition: 'DEVFLOW_TASK_DEFINITION',
  containerName: 'DEVFLOW_CONTAINER_NAME',
  /** Comma-separated. */
  subnets: 'DEVFLOW_SUBNETS',
  /** Comma-separated. */
  securityGroups: 'DEVFLOW_SECURITY_GROUPS',
  /** FARGATE_SPOT (try Spot first, fall back) or FARGATE. */
  capacity: 'DEVFLOW_CAPACITY',
  githubAppSecretArn: 'DEVFLOW_GITHUB_APP_SECRET_ARN',
  /** The generated secret holding the HMAC key of page tokens (default: the secret's name). */
  pageTokenKeySecretArn: 'DEVFLOW_PAGE_TOKEN_KEY_SECRET_ARN',
  /** Optional: how many active sessions one user may have (unset: no limit). */
  maxActiveSessionsPerUser: 'DEVFLOW_MAX_ACTIVE_SESSIONS_PER_USER',
  /** Optional: the GitHub API base URL (GitHub Enterprise Server); the secret's apiUrl wins. */
  githubApiUrl: 'DEVFLOW_GITHUB_API_URL',
  /** Optional: the base URL the workspace uses to reach the API; derived from the request when unset. */
  agentApiUrl: 'DEVFLOW_AGENT_API_URL',
  stage: 'DEVFLOW_STAGE',
  /** The webhook deliveries table (core/github/deliveries.ts). */
  githubDeliveriesTable: 'DEVFLOW_GITHUB_DELIVERIES_TABLE',
  /** The label that hands an issue to DevFlow; `devflow` when unset. */
  githubLabel: 'DEVFLOW_GITHUB_LABEL',
  /** Comma-separated `owner/name` or `owner/*`; every repository the App is installed on when unset. */
  githubAllowedRepos: 'DEVFLOW_GITHUB_ALLOWED_REPOS',
  /** Optional: sessions from GitHub webhooks one repository may have at once (core/github/queue.ts); 3 when unset. */
  githubMaxSessionsPerRepo: 'DEVFLOW_GITHUB_MAX_SESSIONS_PER_REPO',
  /** The workspace task role: the one identity the bootstrap route answers (with the task id as its session name). */
  taskRoleArn: 'DEVFLOW_TASK_ROLE_ARN',
  /** `moto` when the stage was deployed for the emulator: the runtime then works around its gaps (README). */
  emulator: 'DEVFLOW_EMULATOR',
  /** The DevFlow release the functions were built from, reported by GET /health. */
  version: 'DEVFLOW_VERSION',
  /** JSON budgets of the stage (src/core/budgets.ts); none apply when unset. */
  budgets: 'DEVFLOW_BUDGETS',
  /** JSON Fargate price override (src/core/pricing.ts). */
  prices: 'DEVFLOW_PRICES',
  /** The notification webhook: URL, format (slack or json) and the name of its signing secret in Secrets Manager. */
  notifyWebhook: 'DEVFLOW_NOTIFY_WEBHOOK',
  notifyFormat: 'DEVFLOW_NOTIFY_FORMAT',
  notifySecret: 'DEVFLOW_NOTIFY_SECRET',
  /** The stage's SNS topic, which budget alerts and session failures are published to. */
  alertTopicArn: 'DEVFLOW_ALERT_TOPIC_ARN',
  /** The stage's conversation bucket (`session resume`); checkpoints keep only the branch without it. */
  conversationsBucket: 'DEVFLOW_CONVERSATIONS_BUCKET',
  /** The repository allow-list (core/repository-access.ts); unset: no repository is allowed. */
  repositories: 'DEVFLOW_REPOSITORIES',
  /** Comma-separated IAM role ARNs whose sessions are the stage's admins (core/admins.ts): the operator role. */
  adminRoleArns: 'DEVFLOW_ADMIN_ROLE_ARNS',
  /** Optional: the web console's origin (https://<distribution domain>), the one origin CORS allows. */
  consoleOrigin: 'DEVFLOW_CONSOLE_ORIGIN',
  /** The stage's egress policy as JSON (core/egress-policy.ts): what the workspace says of `.devflow/egress.txt`. */
  egress: 'DEVFLOW_EGRESS',
  /** The usage ledger's table (core/usage-ledger.ts). */
  usageTable: 'DEVFLOW_USAGE_TABLE',
  /** The warm pool (core/warm-pool.ts): its table, its size outside the schedule (`devflow:warmTasks`), the schedule (`devflow:warmSchedule`) and the recycle age in seconds. */
  warmPoolTable: 'DEVFLOW_WARM_POOL_TABLE',
  warmTasks: 'DEVFLOW_WARM_TASKS',
  warmSchedule: 'DEVFLOW_WARM_SCHEDULE',
  warmMaxAgeSeconds: 'DEVFLOW_WARM_MAX_AGE_SECONDS',
} as const

/**
 * The tags of every workspace task: developers' `ecs:DescribeTasks`, `ecs:ExecuteCommand` and
 * `ssm:StartSession` are scoped by the owner tag (README, "Deploying to AWS").
 */
export const TASK_TAGS = {owner: 'devflow:owner', session: 'devflow:session'} as const

/** The emulators `-c devflow:emulator=...` accepts; the deployed platform works around their gaps. */
export const EMULATORS = ['moto'] as const
export type Emulator = (typeof EMULATORS)[number]

/** The workspace container's name in the task definition. */
export const WORKSPACE_CONTAINER_NAME = 'workspace'
/** The local name of built workspace images; `image push` tags them into the ECR repository. */
export const LOCAL_IMAGE_NAME = 'devflow-workspace'
/** code-server's port inside the task. */
export const EDITOR_PORT = 8080
/** The CloudFormation stack of a stage. */
export function stackNameFor(stage: string): string {
  return `devflow-${stage}`
}

/** The DynamoDB table names of seed I-5 and DESIGN.md. */
export const TABLE_NAMES = {
  sessions: 'devflow-sessions',
  prompts: 'devflow-prompts',
  events: 'devflow-prompt-events',
  /** Webhook deliveries by X-GitHub-Delivery (core/github/deliveries.ts). */
  githubDeliveries: 'devflow-github-deliveries',
  /** The usage ledger (core/usage-ledger.ts): PK `scope`, SK `period`. */
  usage: 'devflow-usage',
  /** The warm pool's tasks and counters (core/warm-pool.ts). */
  warmPool: 'devflow-warm-pool',
} as const
/** The sessions table's index of a user's sessions by creation time (DESIGN.md "Data"). */
export const SESSIONS_BY_USER_INDEX = 'user_id-created_at-index'
/** The deliveries table's index of deliveries by time (`devflow github status`'s last deliveries). */
export const DELIVERIES_BY_TIME_INDEX = 'kind-received_at-index'
/** How long a session's, prompt's or event's item stays in the tables after it ended (the `ttl` attribute). */
export const RETENTION_SECONDS = 30 * 86_400
/** The ECR repository of seed I-6. */
export const ECR_REPOSITORY_NAME = 'devflow-code-server'
/** Secrets of seed I-4. */
export const SECRET_NAMES = {
  githubApp: 'devflow/github-app',
  claudeApiKey: 'devflow/claude-api-key',
} as const

/**
 * The value the stack creates each DevFlow secret with, until `devflow secrets set` writes the real
 * one. CloudFormation needs some value; this one is recognisable, so `devflow secrets status` can
 * tell "created by the stack" from "set by an operator", and never reads like a key.
 */
export const UNSET_SECRET_VALUE = 'devflow:not-set'

/** Generated by the stack, never set by hand: `{"key": "..."}`, the HMAC key of the API's page tokens. */
export const PAGE_TOKEN_KEY_SECRET_NAME = 'devflow/page-token-key'

/** Where a session's saved Claude Code conversation is, in the conversation bucket (and the one prefix the functions may touch). */
export const CONVERSATIONS_PREFIX = 'sessions/'
export function conversationKey(sessionId: string): string {
  return `${CONVERSATIONS_PREFIX}${sessionId}/conversation.jsonl.gz`
}
