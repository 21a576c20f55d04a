/**
 * The Docker runtime of `devflow local`: each session is a container of the workspace image (the
 * one ECS runs, as `devflow image build` leaves it: devflow-workspace:<tag>), driven through the
 * `docker` CLI.
 *
 * Egress filtered (the default, `egress` given): the container joins the internal network
 * `devflow-workspaces` (src/adapters/local/docker-network.ts), which has no route out. The session
 * gets its own egress proxy (src/adapters/local/egress-proxy.ts), run by this process on the
 * host's address on that network, enforcing the stage's allow-list plus the repository's
 * `.devflow/egress.txt` names when the stage allows additions (src/core/egress-policy.ts); the
 * container's HTTP_PROXY/HTTPS_PROXY (both cases) point there, NO_PROXY covers its own loopback.
 * The DevFlow API (127.0.0.1 on the host) is reached through the proxy as http://devflow-api, a
 * fixed upstream. code-server listens on the container's address, which the host reaches directly
 * (a Linux engine; Docker Desktop does not route to container addresses).
 *
 * Egress open (`egress` absent or mode open): the container shares the host's network
 * (`--network host`), unrestricted, and reaches the API on 127.0.0.1 like host processes.
 *
 * A repository on this machine is mounted at the same path so REPO_URL stays valid.
 * The environment goes through an owner-only env file, never the command line; the one-use
 * bootstrap nonce is a file mounted read-only (readable by the image's user), never in the environment. When a container
 * ends, its state is copied to the session dir and the container removed.
 */
import {appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {execa} from 'execa'

import {unavailable} from '../../core/errors.js'
import type {CapacityProvider} from '../../core/models.js'
import type {TaskRuntime, TaskSpec, TaskState} from '../../core/ports.js'
import {LOCAL_IMAGE_NAME} from '../../core/deployment.js'
import type {EditorAccess} from '../../core/session-api.js'
import {type EgressPolicy, parseRepositoryEgressFile, sessionAllowList} from '../../core/egress-policy.js'
import {containerAddress, ensureWorkspaceNetwork, WORKSPACE_NETWORK} from './docker-network.js'
import {type EgressProxy, startEgressProxy} from './egress-proxy.js'
import {freePort, localEditorAccess, retirePreviousRun, writeBootstrapNonce} from './process-runtime.js'

export const DOCKER_TASK_PREFIX = 'local-docker:'
/** Where the container finds its bootstrap nonce (a read-only mount of the session dir's file). */
export const CONTAINER_NONCE_PATH = '/run/devflow/bootstrap-nonce'
/** The DevFlow API's name inside a filtered workspace: the proxy's fixed upstream for the host's 127.0.0.1:<port>. */
export const WORKSPACE_API_HOST = 'devflow-api'
/** What a workspace never sends to the proxy: its own loopback. */
export const WORKSPACE_NO_PROXY = 'localhost,127.0.0.1,::1'

export interface DockerEgressOptions {
  readonly policy: EgressPolicy
  /** The local API's port on the host's 127.0.0.1. */
  readonly apiPort: number
  /** The repository's `.devflow/egress.txt` at the session's branch, when it has one. */
  readonly repositoryEgressFile?: (spec: TaskSpec) => Promise<string | undefined>
  /** @default devflow-workspaces */
  readonly network?: string
  /** The ports the proxy opens (the workspace security group's on AWS). @default [443, 80] */
  readonly ports?: readonly number[]
}

export interface DockerRuntimeOptions {
  readonly dataDir: string
  readonly image: string
  /** The docker CLI. */
  readonly docker?: string
  /** The workspace's environment beyond the task's own (ANTHROPIC_API_KEY, REPO_URL, ...). */
  readonly environment: (spec: TaskSpec) => Readonly<Record<string, string | undefined>>
  /** Host paths to mount at the same path (repositories on this machine). */
  readonly mounts: (spec: TaskSpec) => readonly string[]
  readonly stopGraceMs?: number
  /** Filter the workspaces' egress (see above); absent: the host network, unrestricted. */
  readonly egress?: DockerEgressOptions
}

/** What the session dir's task.json records. */
interface TaskFile {
  readonly container: string
  readonly editorPort: number
  /** Where the editor listens: the container's address on the workspace network (127.0.0.1 on the host network). */
  readonly editorHost?: string
  readonly startedAt: string
  /** With egress filtered: the proxy's address and the list it enforces, to start it again after a restart. */
  readonly proxy?: {readonly host: string; readonly port: number; readonly allow: readonly string[]}
}

interface ContainerState {
  readonly Running: boolean
  readonly ExitCode: number
  readonly Error: string
  readonly OOMKilled: boolean
}

interface RecordedExit {
  readonly exitCode: number
  readonly error: string
  readonly oomKilled: boolean
}

/** Whether a Docker engine answers, within a few seconds. */
export async function dockerAnswers(docker = 'docker'): Promise<boolean> {
  const result = await execa(docker, ['info', '--format', '{{.ServerVersion}}'], {reject: false, timeout: 5000})
  return result.exitCode === 0
}

/** The newest workspace image in the local engine (`devflow image build`), if any. */
export async function newestWorkspaceImage(docker = 'docker'): Promise<string | undefined> {
  const result = await execa(docker, ['images', LOCAL_IMAGE_NAME, '--format', '{{.Repository}}:{{.Tag}}'], {reject: false, timeout: 10_000})
  if (result.exitCode !== 0) return undefined
  return String(result.stdout).split('\n').map((line) => line.trim()).find((line) => line !== '' && !line.endsWith(':<none>'))
}

export class DockerRuntime implements TaskRuntime {
  private readonly docker: string
  private readonly stopGraceMs: number
  /** The running sessions' egress proxies, by session id. */
  private readonly proxies = new Map<string, Promise<EgressProxy>>()

  constructor(private readonly options: DockerRuntimeOptions) {
    this.docker = options.docker ?? 'docker'
    this.stopGraceMs = options.stopGraceMs ?? 15_000
  }

  sessionDir(sessionId: string): string {
    return join(this.options.dataDir, 'sessions', sessionId)
  }

  async run(spec: TaskSpec): Promise<{taskArn: string; capacity: CapacityProvider}> {
    const dir = this.sessionDir(spec.sessionId)
    mkdirSync(dir, {recursive: true, mode: 0o700})
    retirePreviousRun(dir)
    const editorPort = await freePort()
    const filtered = this.filteredEgress()
    const network = filtered ? await ensureWorkspaceNetwork(this.docker, filtered.network ?? WORKSPACE_NETWORK) : undefined
    let proxy: EgressProxy | undefined
    let proxyRecord: TaskFile['proxy']
    if (filtered && network) {
      const file = await filtered.repositoryEgressFile?.(spec)
      const allow = sessionAllowList(filtered.policy, file === undefined ? [] : parseRepositoryEgressFile(file))
      try {
        proxy = await this.startProxy(spec.sessionId, {host: network.gateway, port: 0, allow})
      } catch (error) {
        throw unavailable('EGRESS_PROXY_FAILED', `The session's egress proxy could not listen on ${network.gateway} (the host's address on ${network.name}): ${(error as Error).message}`, 'On a Linux engine the host owns the network\'s gateway address; elsewhere run `devflow config set egress \'{"mode": "open"}\' --stage local` (unfiltered) or `devflow local up --runtime process`.', {cause: error})
      }
      proxyRecord = {host: network.gateway, port: proxy.port, allow}
    }
    const environment: Record<string, string | undefined> = {
      ...this.options.environment(spec),
      ...spec.environment,
      EDITOR_BIND_ADDR: `${network ? '0.0.0.0' : '127.0.0.1'}:${editorPort}`,
      STOP_TIMEOUT_SECONDS: String(Math.max(1, Math.floor(this.stopGraceMs / 1000) - 3)),
      ...(proxy ? proxyEnvironment(proxy.url) : {}),
    }
    // Readable by the image's user (coder, uid 1000), whose uid is rarely the host user's: a bind
    // mount keeps the host owner. On the host the session dir (owner-only, in the 0700 data dir) guards it.
    const nonceFile = writeBootstrapNonce(dir, spec.bootstrapNonce, 0o644)
    environment.DEVFLOW_BOOTSTRAP_FILE = CONTAINER_NONCE_PATH
    const envFile = join(dir, 'container.env')
    const lines = Object.entries(environment).filter((entry): entry is [string, string] => entry[1] !== undefined && !entry[1].includes('\n'))
    writeFileSync(envFile, lines.map(([key, value]) => `${key}=${value}`).join('\n') + '\n', {mode: 0o600})
    const mounts = [...this.options.mounts(spec).flatMap((path) => ['--volume', `${path}:${path}`]), '--volume', `${nonceFile}:${CONTAINER_NONCE_PATH}:ro`]
    const name = containerName(spec.sessionId)
    const result = await execa(
      this.docker,
      ['run', '--detach', '--name', name, '--label', `devflow.session=${spec.sessionId}`, '--network', network ? network.name : 'host', '--env-file', envFile, ...mounts, this.options.image],
      {reject: false, timeout: 120_000},
    )
    if (result.exitCode !== 0) {
      await this.closeProxy(spec.sessionId)
      throw unavailable('WORKSPACE_START_FAILED', `Docker could not start the workspace container: ${String(result.stderr).trim() || `exit ${result.exitCode}`}`, `Check \`docker info\` and that the image ${this.options.image} exists (devflow image build), or run \`devflow local up --runtime process\`.`)
    }
    const editorHost = network ? await containerAddress(this.docker, name, network.name) : '127.0.0.1'
    const task: TaskFile = {container: name, editorPort, ...(editorHost ? {editorHost} : {}), startedAt: new Date().toISOString(), ...(proxyRecord ? {proxy: proxyRecord} : {})}
    writeFileSync(join(dir, 'task.json'), JSON.stringify(task))
    return {taskArn: `${DOCKER_TASK_PREFIX}${spec.sessionId}`, capacity: 'FARGATE'}
  }

  /** The egress options when the workspaces are filtered; undefined when they run open. */
  private filteredEgress(): DockerEgressOptions | undefined {
    const egress = this.options.egress
    return egress && egress.policy.mode !== 'open' ? egress : undefined
  }

  private startProxy(sessionId: string, at: {host: string; port: number; allow: readonly string[]}): Promise<EgressProxy> {
    const egress = this.filteredEgress()
    const logFile = join(this.sessionDir(sessionId), 'egress.log')
    const started = startEgressProxy({
      allow: at.allow,
      host: at.host,
      port: at.port,
      ports: egress?.ports ?? [443, 80],
      upstreams: egress ? {[`${WORKSPACE_API_HOST}:80`]: {host: '127.0.0.1', port: egress.apiPort}} : {},
      // Every blocked request, a JSON line in the session dir (`devflow local` keeps it with the session's other files).
      log: (entry) => appendFileSync(logFile, `${JSON.stringify(entry)}\n`, {mode: 0o600}),
    })
    this.proxies.set(sessionId, started)
    started.catch(() => this.proxies.delete(sessionId))
    return started
  }

  /** A running workspace whose proxy this process does not hold (the server restarted): listen again where it was. */
  private async reviveProxy(sessionId: string): Promise<void> {
    if (this.proxies.has(sessionId)) return
    const proxy = this.taskFile(sessionId)?.proxy
    if (proxy && this.filteredEgress()) await this.startProxy(sessionId, proxy).catch(() => undefined)
  }

  private async closeProxy(sessionId: string): Promise<void> {
    const proxy = this.proxies.get(sessionId)
    this.proxies.delete(sessionId)
    await (await proxy?.catch(() => undefined))?.close()
  }

  /** Stops listening for every session (the server is going down). */
  async closeProxies(): Promise<void> {
    await Promise.all([...this.proxies.keys()].map((sessionId) => this.closeProxy(sessionId)))
  }

  async describe(taskArn: string): Promise<TaskState | undefined> {
    const sessionId = this.sessionIdOf(taskArn)
    if (!sessionId || !existsSync(join(this.sessionDir(sessionId), 'task.json'))) return undefined
    const exit = (await this.recordedExit(sessionId)) ?? (await this.inspect(sessionId))
    if (exit === 'running') {
      await this.reviveProxy(sessionId)
      return {taskArn, lastStatus: 'RUNNING', desiredStatus: 'RUNNING'}
    }
    const stopReason = readText(join(this.sessionDir(sessionId), 'stop-reason'))
    if (stopReason !== undefined) {
      return {taskArn, lastStatus: 'STOPPED', desiredStatus: 'STOPPED', stopCode: 'UserInitiated', stoppedReason: stopReason, ...(exit ? {exitCode: exit.exitCode} : {})}
    }
    if (!exit) {
      return {taskArn, lastStatus: 'STOPPED', desiredStatus: 'STOPPED', stopCode: 'EssentialContainerExited', stoppedReason: 'The workspace container was removed from outside DevFlow.', exitCode: 137}
    }
    const why = exit.oomKilled ? 'ran out of memory' : exit.error ? `failed: ${exit.error}` : `exited with code ${exit.exitCode}`
    return {taskArn, lastStatus: 'STOPPED', desiredStatus: 'STOPPED', stopCode: 'EssentialContainerExited', stoppedReason: `The workspace container ${why}.`, exitCode: exit.exitCode}
  }

  async stop(taskArn: string, reason: string): Promise<void> {
    const sessionId = this.sessionIdOf(taskArn)
    if (!sessionId || !existsSync(join(this.sessionDir(sessionId), 'task.json'))) return
    if ((await this.recordedExit(sessionId)) !== undefined) return
    const stopFile = join(this.sessionDir(sessionId), 'stop-reason')
    if (!existsSync(stopFile)) writeFileSync(stopFile, reason)
    await execa(this.docker, ['stop', '--time', String(Math.ceil(this.stopGraceMs / 1000)), containerName(sessionId)], {reject: false, timeout: this.stopGraceMs + 30_000})
    await this.inspect(sessionId)
  }

  async ping(): Promise<void> {
    if (!(await dockerAnswers(this.docker))) {
      throw unavailable('DOCKER_UNAVAILABLE', 'The Docker engine does not answer.', 'Start Docker, or run `devflow local down && devflow local up --runtime process`.')
    }
  }

  async editorAccess(taskArn: string): Promise<EditorAccess> {
    const sessionId = this.sessionIdOf(taskArn)
    const task = sessionId ? this.taskFile(sessionId) : undefined
    if (task?.editorHost && task.editorHost !== '127.0.0.1') return {kind: 'url', url: `http://${task.editorHost}:${task.editorPort}/`, port: task.editorPort}
    return localEditorAccess(task?.editorPort)
  }

  /** Where the session's editor listens. */
  editorPort(taskArn: string): number | undefined {
    const sessionId = this.sessionIdOf(taskArn)
    return sessionId ? this.taskFile(sessionId)?.editorPort : undefined
  }

  private taskFile(sessionId: string): TaskFile | undefined {
    const text = readText(join(this.sessionDir(sessionId), 'task.json'))
    return text ? (JSON.parse(text) as TaskFile) : undefined
  }

  private async recordedExit(sessionId: string): Promise<RecordedExit | undefined> {
    const text = readText(join(this.sessionDir(sessionId), 'exit.json'))
    return text ? (JSON.parse(text) as RecordedExit) : undefined
  }

  /** The container's state; an ended container's exit is recorded and the container removed. */
  private async inspect(sessionId: string): Promise<RecordedExit | 'running' | undefined> {
    const name = containerName(sessionId)
    const result = await execa(this.docker, ['inspect', '--format', '{{json .State}}', name], {reject: false, timeout: 10_000})
    if (result.exitCode !== 0) {
      if (/no such (object|container)/i.test(String(result.stderr))) return undefined
      throw unavailable('DOCKER_FAILED', `docker inspect ${name} failed: ${String(result.stderr).trim()}`, 'Check that the Docker engine runs (`docker info`).')
    }
    const state = JSON.parse(String(result.stdout)) as ContainerState
    if (state.Running) return 'running'
    const exit: RecordedExit = {exitCode: state.ExitCode, error: state.Error, oomKilled: state.OOMKilled}
    writeFileSync(join(this.sessionDir(sessionId), 'exit.json'), JSON.stringify(exit))
    await this.closeProxy(sessionId)
    await execa(this.docker, ['rm', '--force', name], {reject: false, timeout: 30_000})
    rmSync(join(this.sessionDir(sessionId), 'container.env'), {force: true})
    return exit
  }

  /** The ARN a session's task has (or will have): known before it runs. */
  taskArnOf(sessionId: string): string {
    return `${DOCKER_TASK_PREFIX}${sessionId}`
  }

  private sessionIdOf(taskArn: string): string | undefined {
    return taskArn.startsWith(DOCKER_TASK_PREFIX) ? taskArn.slice(DOCKER_TASK_PREFIX.length) : undefined
  }
}

/** Both spellings: curl reads only the lower-case http_proxy, other tools the upper-case ones. */
function proxyEnvironment(url: string): Record<string, string> {
  return {
    HTTP_PROXY: url,
    HTTPS_PROXY: url,
    http_proxy: url,
    https_proxy: url,
    NO_PROXY: WORKSPACE_NO_PROXY,
    no_proxy: WORKSPACE_NO_PROXY,
    DEVFLOW_API_URL: `http://${WORKSPACE_API_HOST}`,
  }
}

function containerName(sessionId: string): string {
  return `devflow-${sessionId}`
}

function readText(file: string): string | undefined {
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined
}
