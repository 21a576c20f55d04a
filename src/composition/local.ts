/**
 * The local platform's composition root: the embedded store, the process or Docker runtime, the
 * user's GitHub credentials, the registry of repositories on this machine (a path is a repository
 * here) and the user's Claude API key as the preflight, passed to the same core services that the
 * Lambda functions run.
 */
import {randomBytes} from 'node:crypto'
import {existsSync, readFileSync} from 'node:fs'
import {delimiter, join} from 'node:path'
import {userInfo} from 'node:os'

import {LocalPullRequestOpener, LocalTokenIssuer} from '../adapters/local/github.js'
import {DockerRuntime} from '../adapters/local/docker-runtime.js'
import {readRepositoryFile} from '../adapters/local/repository-file.js'
import {DEFAULT_LOCAL_EGRESS, EGRESS_ENV, parseEgressPolicy, REPOSITORY_EGRESS_FILE} from '../core/egress-policy.js'
import {ImportGatedRuntime} from '../adapters/local/import-gated-runtime.js'
import {ProcessRuntime} from '../adapters/local/process-runtime.js'
import {FileConversationStore} from '../adapters/local/file-conversation-store.js'
import {DEFAULT_IMPORT_LIMITS, type ImportLimits, LocalRepoRegistry} from '../adapters/local/repo-registry.js'
import {openLocalDatabase, SqlitePromptStore, SqliteSessionStore} from '../adapters/local/sqlite-store.js'
import {SqliteUsageStore} from '../adapters/local/sqlite-usage-store.js'
import {SqliteWarmPoolStore} from '../adapters/local/sqlite-warm-pool-store.js'
import {DEFAULT_CAPACITY} from '../core/validation.js'
import {DEFAULT_WARM_POOL_SETTINGS} from '../core/warm-pool.js'
import {invalidInput} from '../core/errors.js'
import {ANY_REPOSITORY, parseRepositoryAccess, REPOSITORIES_SETTING} from '../core/repository-access.js'
import {isSessionTerminal} from '../core/state-machine.js'
import {randomIds, systemClock} from '../core/ids.js'
import type {TaskRuntime, TaskSpec} from '../core/ports.js'
import type {AdminPolicy} from '../core/admins.js'
import type {Caller} from '../core/session-api.js'
import {createCoreServices, type CoreServices, DEFAULT_CORE_SETTINGS} from '../core/services/index.js'
import type {LocalRuntimeChoice} from '../operations/local-platform.js'
import {LocalPaths, packageRoot} from '../adapters/local/paths.js'
import {claudeApiKey, getLocalSecret} from '../adapters/local/secret-file.js'
import {SqliteDeliveryStore} from '../adapters/local/sqlite-delivery-store.js'
import {SqliteTriggerQueue} from '../adapters/local/sqlite-trigger-queue.js'
import {DEFAULT_GITHUB_API_URL} from '../adapters/github/app.js'
import {GithubIssues} from '../adapters/github/issues.js'
import {UserTokenGithub} from '../adapters/github/user-token.js'
import {GithubWebhookVerifier} from '../adapters/github/webhook.js'
import {MAX_SESSIONS_PER_REPO_SETTING, parseMaxSessionsPerRepo} from '../core/github/queue.js'
import {DEFAULT_TRIGGER_LABEL} from '../core/github/trigger.js'
import type {GithubWorkDeps} from '../core/services/index.js'
import type {DeliveryRecord} from '../core/github/deliveries.js'
import {guardrailSettings, stageNotifier} from './guardrails.js'

/** The one user of the local platform. */
export function localUserId(): string {
  return `local:${userInfo().username}`
}

export interface LocalPlatformOptions {
  readonly dataDir: string
  /** The server's own URL: the workspaces' agents call back there. */
  readonly apiUrl: string
  readonly env: NodeJS.ProcessEnv
  readonly githubToken?: string
  readonly stopGraceMs?: number
  /** More admins than the local user (the browser tests' Cognito group). */
  readonly admins?: Omit<AdminPolicy, 'principals'>
  readonly runtime: LocalRuntimeChoice
  /** `local up --warm N`: workspace processes kept ready (the process runtime only). */
  readonly warmTasks?: number
}


export interface LocalPlatform {
  readonly services: CoreServices
  /** Stops every active session (before the server goes down); returns their ids. */
  stopAllSessions(): Promise<string[]>
  close(): void
}

export function createLocalPlatform(options: LocalPlatformOptions): LocalPlatform {
  const paths = new LocalPaths(options.dataDir)
  const pageTokenKey = randomBytes(32)
  const db = openLocalDatabase(paths.database)
  const repos = new LocalRepoRegistry(db, join(paths.dataDir, 'repos'), importLimits(options.env))
  const root = packageRoot()
  const isLocalRepo = (repo: string) => repos.cloneUrlOf(repo) !== undefined
  const githubOptions = {isLocalRepo, githubToken: options.githubToken, apiUrl: options.env.GITHUB_API_URL}
  const workspaceSecrets = (spec: TaskSpec) => {
    const cloneUrl = repos.cloneUrlOf(spec.environment.REPO ?? '')
    const key = claudeApiKey(paths.dataDir, options.env)
    return {...(key ? {ANTHROPIC_API_KEY: key} : {}), ...(cloneUrl ? {REPO_URL: cloneUrl} : {})}
  }
  // The Docker workspaces' egress (DEVFLOW_EGRESS, the local stage's `egress` setting); host processes are unrestricted.
  const egressPolicy = options.env[EGRESS_ENV] ? parseEgressPolicy(options.env[EGRESS_ENV] as string) : DEFAULT_LOCAL_EGRESS
  const workspaces =
    options.runtime.kind === 'docker'
      ? new DockerRuntime({
          dataDir: paths.dataDir,
          image: options.runtime.image,
          stopGraceMs: options.stopGraceMs,
          environment: workspaceSecrets,
          mounts: (spec) => [repos.cloneUrlOf(spec.environment.REPO ?? '')].filter((path): path is string => path !== undefined),
          egress: {
            policy: egressPolicy,
            apiPort: Number(new URL(options.apiUrl).port),
            // A repository on this machine is read at the session's branch; a GitHub one is not read here (README, "Guardrails").
            repositoryEgressFile: async (spec) => {
              const cloneUrl = repos.cloneUrlOf(spec.environment.REPO ?? '')
              return cloneUrl ? readRepositoryFile(cloneUrl, spec.environment.BRANCH ?? 'HEAD', REPOSITORY_EGRESS_FILE) : undefined
            },
          },
        })
      : new ProcessRuntime({
          dataDir: paths.dataDir,
          entrypoint: join(root, 'container', 'entrypoint.sh'),
          stopGraceMs: options.stopGraceMs,
          codeServerInstalled: () => onPath(options.env.CODE_SERVER_BIN || 'code-server', options.env.PATH),
          // Host processes run as the user, with the user's tools on PATH.
          environment: (spec) => ({...options.env, ...workspaceSecrets(spec)}),
        })
  // A plain directory is imported in the background: its sessions start once it is done.
  const runtime: TaskRuntime = new ImportGatedRuntime(workspaces, (spec) => repos.pendingImport(spec.environment.REPO ?? ''))
  const apiKey = () => claudeApiKey(paths.dataDir, options.env)
  // A container's mounts are fixed when it starts, before a warm one knows its repository: warm tasks are host processes.
  const warmPool =
    options.warmTasks && options.runtime.kind === 'process'
      ? {
          store: new SqliteWarmPoolStore(db),
          settings: {
            ...DEFAULT_WARM_POOL_SETTINGS,
            baseTasks: options.warmTasks,
            windows: [],
            ...DEFAULT_CAPACITY,
            capacity: 'FARGATE' as const,
            sessionEnvironment: (repo: string): Record<string, string> => {
              const cloneUrl = repos.cloneUrlOf(repo)
              return cloneUrl ? {REPO_URL: cloneUrl} : {}
            },
          },
        }
      : undefined
  const services = createCoreServices({
    ...(warmPool ? {warmPool} : {}),
    sessions: new SqliteSessionStore(db),
    prompts: new SqlitePromptStore(db),
    usage: new SqliteUsageStore(db),
    runtime,
    tokens: new LocalTokenIssuer(githubOptions),
    pullRequests: new LocalPullRequestOpener(githubOptions),
    repositories: repos,
    conversations: new FileConversationStore(paths.dataDir, systemClock),
    agentKey: {
      async ensureKey() {
        if (apiKey()) return
        throw invalidInput(
          'CLAUDE_API_KEY_MISSING',
          'The local platform has no Claude API key, so the agent cannot run this prompt.',
          'Run `devflow secrets set claude-api-key --stage local` (or export ANTHROPIC_API_KEY and run `devflow local down && devflow local up`), then send the prompt again.',
        )
      },
    },
    clock: systemClock,
    ids: randomIds,
    github: localGithubWork(db, paths.dataDir, options),
    notifier: stageNotifier({
      webhookUrl: options.env.DEVFLOW_NOTIFY_WEBHOOK || undefined,
      webhookFormat: options.env.DEVFLOW_NOTIFY_FORMAT || undefined,
      webhookSecret: async () => getLocalSecret(paths.dataDir, 'notify-webhook-secret'),
    }),
    // Page tokens live as long as this server: one machine needs no key that outlives it.
    pageTokenKey: async () => pageTokenKey,
    settings: {
      ...DEFAULT_CORE_SETTINGS,
      ...guardrailSettings({budgets: options.env.DEVFLOW_BUDGETS || undefined, prices: options.env.DEVFLOW_PRICES || undefined}),
      stage: 'local',
      version: packageVersion(root),
      // One machine has no Spot market: every local session is "on demand".
      defaultCapacity: 'FARGATE',
      agentApiUrl: options.apiUrl,
      // Locally the repositories are reached with the user's own GitHub token or are on this
      // machine: any of them, unless DEVFLOW_REPOSITORIES (in the environment of `local up`) narrows it.
      ...(options.runtime.kind === 'docker' ? {egress: {policy: egressPolicy, enforcer: 'session-proxy' as const}} : {}),
      repositoryAccess: options.env[REPOSITORIES_SETTING.env] ? parseRepositoryAccess(options.env[REPOSITORIES_SETTING.env] as string, REPOSITORIES_SETTING.env) : ANY_REPOSITORY,
      // The one local user is the admin (it sees sessions GitHub webhooks started, too).
      admins: {principals: [localUserId()], ...options.admins},
    },
  })

  return {
    services,
    async stopAllSessions() {
      const admin: Caller = {userId: localUserId(), admin: true}
      const active: string[] = []
      let nextToken: string | undefined
      do {
        const page = await services.sessions.list(admin, {all: true, limit: 100, nextToken})
        for (const session of page.items) if (!isSessionTerminal(session.status)) active.push(session.id)
        nextToken = page.nextToken
      } while (nextToken)
      await Promise.all(active.map((id) => services.sessions.stop(admin, id)))
      return active
    },
    close() {
      db.close()
    },
  }
}

/**
 * GitHub webhooks on the local platform: checked with the local webhook secret (read on each
 * delivery, so `devflow secrets set github-app --webhook-secret-file F --stage local` needs no
 * restart), answered with the user's own token (comments and pull requests are the user's), the
 * deliveries and the queue in the SQLite file. DEVFLOW_GITHUB_LABEL, DEVFLOW_GITHUB_ALLOWED_REPOS
 * and githubMaxSessionsPerRepo (in the environment of `local up`) are the stage settings.
 */
function localGithubWork(db: ReturnType<typeof openLocalDatabase>, dataDir: string, options: LocalPlatformOptions): GithubWorkDeps {
  const env = options.env
  const limit = env[MAX_SESSIONS_PER_REPO_SETTING.env]
  const allowed = (env.DEVFLOW_GITHUB_ALLOWED_REPOS ?? '').split(',').map((repo) => repo.trim()).filter(Boolean)
  return {
    verifier: new GithubWebhookVerifier(async () => ({webhookSecret: getLocalSecret(dataDir, 'github-webhook-secret')})),
    deliveries: new SqliteDeliveryStore(db),
    queue: new SqliteTriggerQueue(db),
    client: new GithubIssues(new UserTokenGithub(options.githubToken, env.GITHUB_API_URL || DEFAULT_GITHUB_API_URL)),
    settings: {label: env.DEVFLOW_GITHUB_LABEL || DEFAULT_TRIGGER_LABEL, ...(allowed.length > 0 ? {allowedRepos: allowed} : {})},
    ...(limit ? {maxSessionsPerRepo: parseMaxSessionsPerRepo(limit, MAX_SESSIONS_PER_REPO_SETTING.env)} : {}),
  }
}

/**
 * What `devflow github status --stage local` reads: the local webhook secret and the deliveries in
 * the data dir's database (no App: the local platform uses the user's token). close() releases it.
 */
export function openLocalGithubStatus(dataDir: string): {webhookSecretSet: boolean; recentDeliveries(limit: number): Promise<DeliveryRecord[]>; close(): void} {
  const db = openLocalDatabase(new LocalPaths(dataDir).database)
  const store = new SqliteDeliveryStore(db)
  return {webhookSecretSet: getLocalSecret(dataDir, 'github-webhook-secret') !== undefined, recentDeliveries: (limit) => store.recent(limit), close: () => db.close()}
}

function onPath(command: string, path: string | undefined): boolean {
  if (command.includes('/')) return existsSync(command)
  return (path ?? '').split(delimiter).some((dir) => dir !== '' && existsSync(join(dir, command)))
}

function packageVersion(root: string): string {
  return (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {version: string}).version
}

/** DEVFLOW_LOCAL_IMPORT_MAX_FILES / DEVFLOW_LOCAL_IMPORT_MAX_MB (in the environment of `local up`) change the snapshot limits. */
function importLimits(env: NodeJS.ProcessEnv): ImportLimits {
  const positive = (name: string): number | undefined => {
    const value = Number(env[name])
    return env[name] && Number.isInteger(value) && value > 0 ? value : undefined
  }
  const megabytes = positive('DEVFLOW_LOCAL_IMPORT_MAX_MB')
  return {
    maxFiles: positive('DEVFLOW_LOCAL_IMPORT_MAX_FILES') ?? DEFAULT_IMPORT_LIMITS.maxFiles,
    maxBytes: megabytes === undefined ? DEFAULT_IMPORT_LIMITS.maxBytes : megabytes * 1024 * 1024,
  }
}
