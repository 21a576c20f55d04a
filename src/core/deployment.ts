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
  /** The web console's Cognito user pool (users are invited into it). */
  consoleUserPoolId: 'ConsoleUserPoolId',
  alarmTopicArn: 'AlarmTopicArn',
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
} as const

/** The workspace container's name in the task definition. */
export const WORKSPACE_CONTAINER_NAME = 'workspace'
/** code-server's port inside the task. */
export const EDITOR_PORT = 8080
/** The DynamoDB table names of seed I-5 and DESIGN.md (prefixed by stage when not the default). */
export const TABLE_NAMES = {
  sessions: 'devflow-sessions',
  prompts: 'devflow-prompts',
  events: 'devflow-prompt-events',
} as const
/** The ECR repository of seed I-6. */
export const ECR_REPOSITORY_NAME = 'devflow-code-server'
/** Secrets of seed I-4. */
export const SECRET_NAMES = {
  githubApp: 'devflow/github-app',
  claudeApiKey: 'devflow/claude-api-key',
} as const
