/**
 * The local platform's composition: the embedded store, the process runtime and the user's GitHub
 * credentials behind the same core services that the Lambda functions run, plus the two rules that
 * only hold on one machine: a repository can be a path here, and the Claude API key is the user's.
 */
import {randomBytes} from 'node:crypto'
import {existsSync, readFileSync} from 'node:fs'
import {delimiter, join} from 'node:path'
import {userInfo} from 'node:os'

import {LocalPullRequestOpener, LocalTokenIssuer} from '../adapters/local/github.js'
import {DockerRuntime} from '../adapters/local/docker-runtime.js'
import {ProcessRuntime} from '../adapters/local/process-runtime.js'
import {LocalRepoRegistry, looksLikeLocalPath} from '../adapters/local/repo-registry.js'
import {openLocalDatabase, SqlitePromptStore, SqliteSessionStore} from '../adapters/local/sqlite-store.js'
import {invalidInput} from '../core/errors.js'
import {randomIds, systemClock} from '../core/ids.js'
import type {TaskRuntime, TaskSpec} from '../core/ports.js'
import type {Caller, SessionApi} from '../core/session-api.js'
import {createCoreServices, type CoreServices, DEFAULT_CORE_SETTINGS} from '../core/services/index.js'
import {LocalPaths, packageRoot} from './paths.js'
import {claudeApiKey} from './secrets.js'

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
  readonly runtime: LocalRuntimeChoice
}

/** How sessions run: host processes, or containers of a workspace image. */
export type LocalRuntimeChoice = {readonly kind: 'process'} | {readonly kind: 'docker'; readonly image: string}

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
  const repos = new LocalRepoRegistry(db, join(paths.dataDir, 'repos'))
  const root = packageRoot()
  const isLocalRepo = (repo: string) => repos.cloneUrlOf(repo) !== undefined
  const githubOptions = {isLocalRepo, githubToken: options.githubToken, apiUrl: options.env.GITHUB_API_URL}
  const workspaceSecrets = (spec: TaskSpec) => {
    const cloneUrl = repos.cloneUrlOf(spec.environment.REPO ?? '')
    const key = claudeApiKey(paths.dataDir, options.env)
    return {...(key ? {ANTHROPIC_API_KEY: key} : {}), ...(cloneUrl ? {REPO_URL: cloneUrl} : {})}
  }
  const runtime: TaskRuntime & {editorPort(taskArn: string): number | undefined} =
    options.runtime.kind === 'docker'
      ? new DockerRuntime({
          dataDir: paths.dataDir,
          image: options.runtime.image,
          stopGraceMs: options.stopGraceMs,
          environment: workspaceSecrets,
          mounts: (spec) => [repos.cloneUrlOf(spec.environment.REPO ?? '')].filter((path): path is string => path !== undefined),
        })
      : new ProcessRuntime({
          dataDir: paths.dataDir,
          entrypoint: join(root, 'container', 'entrypoint.sh'),
          stopGraceMs: options.stopGraceMs,
          // Host processes run as the user, with the user's tools on PATH.
          environment: (spec) => ({...options.env, ...workspaceSecrets(spec)}),
        })
  const core = createCoreServices({
    sessions: new SqliteSessionStore(db),
    prompts: new SqlitePromptStore(db),
    runtime,
    tokens: new LocalTokenIssuer(githubOptions),
    pullRequests: new LocalPullRequestOpener(githubOptions),
    clock: systemClock,
    ids: randomIds,
    // Page tokens live as long as this server: one machine needs no key that outlives it.
    pageTokenKey: async () => pageTokenKey,
    settings: {
      ...DEFAULT_CORE_SETTINGS,
      version: packageVersion(root),
      // One machine has no Spot market: every local session is "on demand".
      defaultCapacity: 'FARGATE',
      agentApiUrl: options.apiUrl,
    },
  })
  const services: CoreServices = {
    ...core,
    sessions: localSessionRules(core.sessions, {
      repos,
      apiKey: () => claudeApiKey(paths.dataDir, options.env),
      editorPort: (taskArn) => runtime.editorPort(taskArn),
      // The workspace image always has code-server; a host may not.
      codeServerInstalled: () => options.runtime.kind === 'docker' || onPath(options.env.CODE_SERVER_BIN || 'code-server', options.env.PATH),
    }),
  }

  return {
    services,
    async stopAllSessions() {
      const admin: Caller = {userId: localUserId(), admin: true}
      const active: string[] = []
      let nextToken: string | undefined
      do {
        const page = await core.sessions.list(admin, {all: true, limit: 100, nextToken})
        for (const session of page.items) if (!['STOPPED', 'FAILED'].includes(session.status)) active.push(session.id)
        nextToken = page.nextToken
      } while (nextToken)
      await Promise.all(active.map((id) => core.sessions.stop(admin, id)))
      return active
    },
    close() {
      db.close()
    },
  }
}

/**
 * The session operations with the local rules in front: a path or file:// URL becomes a registered
 * `local/<name>` repository, and a prompt is refused up front when no Claude API key is set.
 */
export interface LocalRules {
  readonly repos: LocalRepoRegistry
  readonly apiKey: () => string | undefined
  /** The editor's port of a running task, and whether code-server is installed to serve it. */
  readonly editorPort: (taskArn: string) => number | undefined
  readonly codeServerInstalled: () => boolean
}

export function localSessionRules(inner: SessionApi, rules: LocalRules): SessionApi {
  const {repos, apiKey} = rules
  return {
    start: async (caller, request) => {
      const repo = (request as {repo?: unknown}).repo
      if (typeof repo === 'string' && looksLikeLocalPath(repo)) {
        if (/^\.{1,2}(\/|$)/.test(repo.trim())) {
          throw invalidInput('REPO_PATH_RELATIVE', `"${repo}" is a relative path, and the local server does not know your working directory.`, `Pass an absolute path, for example --repo "$PWD/${repo.trim().replace(/^\.\//, '')}".`)
        }
        return inner.start(caller, {...request, repo: repos.register(repo, '/')})
      }
      return inner.start(caller, request)
    },
    enqueuePrompt: async (caller, sessionId, request) => {
      if (!apiKey()) {
        throw invalidInput(
          'CLAUDE_API_KEY_MISSING',
          'The local platform has no Claude API key, so the agent cannot run this prompt.',
          'Run `devflow secrets set claude-api-key --stage local` (or export ANTHROPIC_API_KEY and run `devflow local down && devflow local up`), then send the prompt again.',
        )
      }
      return inner.enqueuePrompt(caller, sessionId, request)
    },
    list: (caller, options) => inner.list(caller, options),
    get: (caller, id) => inner.get(caller, id),
    stop: (caller, id) => inner.stop(caller, id),
    listPrompts: (caller, id, options) => inner.listPrompts(caller, id, options),
    getPrompt: (caller, id, promptId) => inner.getPrompt(caller, id, promptId),
    promptEvents: (caller, id, promptId, after) => inner.promptEvents(caller, id, promptId, after),
    editor: async (caller, id) => {
      const info = await inner.editor(caller, id)
      if (info.unavailableReason || !info.taskArn) return info
      const port = rules.editorPort(info.taskArn)
      if (!rules.codeServerInstalled() || port === undefined) {
        return {
          ...info,
          unavailableReason: 'code-server is not installed on this machine, so the session has no editor (prompts still work).',
          unavailableHint: 'Install code-server (https://coder.com/docs/code-server/install), then start a new session.',
        }
      }
      return {...info, port, url: `http://127.0.0.1:${port}/`}
    },
    health: () => inner.health(),
  }
}

function onPath(command: string, path: string | undefined): boolean {
  if (command.includes('/')) return existsSync(command)
  return (path ?? '').split(delimiter).some((dir) => dir !== '' && existsSync(join(dir, command)))
}

function packageVersion(root: string): string {
  return (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {version: string}).version
}
