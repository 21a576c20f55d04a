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
  frontendDomain: 'FrontendDomainName',
  alarmTopicArn: 'AlarmTopicArn',
  /** The repository allow-list as JSON (core/repository-access.ts), for `api serve` and admin mode. */
  repositories: 'RepositoryAllowList',
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
  /** Optional: the GitHub API base URL (GitHub Enterprise Server); the secret's apiUrl wins. */
  githubApiUrl: 'DEVFLOW_GITHUB_API_URL',
  /** Optional: the base URL the workspace uses to reach the API; derived from the request when unset. */
  agentApiUrl: 'DEVFLOW_AGENT_API_URL',
  stage: 'DEVFLOW_STAGE',
  /** The DevFlow release the functions were built from, reported by GET /health. */
  version: 'DEVFLOW_VERSION',
  /** The repository allow-list (core/repository-access.ts); unset: no repository is allowed. */
  repositories: 'DEVFLOW_REPOSITORIES',
} as const

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
} as const
/** The sessions table's index of a user's sessions by creation time (DESIGN.md "Data"). */
export const SESSIONS_BY_USER_INDEX = 'user_id-created_at-index'
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
