/**
 * The Docker runtime of `devflow local`: each session is a container of the workspace image (the
 * one ECS runs, as `devflow image build` leaves it: devflow-workspace:<tag>), driven through the
 * `docker` CLI.
 *
 * The container shares the host's network (`--network host`), so the agent reaches the local API on
 * 127.0.0.1 and code-server listens on a port of its own on 127.0.0.1, exactly as with host
 * processes. A repository on this machine is mounted at the same path so REPO_URL stays valid.
 * The environment goes through an owner-only env file, never the command line; the one-use
 * bootstrap nonce is a 0600 file mounted read-only, never in the environment. When a container
 * ends, its state is copied to the session dir and the container removed.
 */
import {existsSync, mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {execa} from 'execa'

import {unavailable} from '../../core/errors.js'
import type {CapacityProvider} from '../../core/models.js'
import type {TaskRuntime, TaskSpec, TaskState} from '../../core/ports.js'
import {LOCAL_IMAGE_NAME} from '../../core/deployment.js'
import type {EditorAccess} from '../../core/session-api.js'
import {freePort, localEditorAccess, retirePreviousRun, writeBootstrapNonce} from './process-runtime.js'

export const DOCKER_TASK_PREFIX = 'local-docker:'
/** Where the container finds its bootstrap nonce (a read-only mount of the session dir's file). */
export const CONTAINER_NONCE_PATH = '/run/devflow/bootstrap-nonce'

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

  constructor(private readonly options: DockerRuntimeOptions) {
    this.docker = options.docker ?? 'docker'
    this.stopGraceMs = options.stopGraceMs ?? 15_000
  }

  sessionDir(sessionId: string): string {
    return join(this.options.dataDir, 'sessions', sessionId)
  }

  async run(spec: TaskSpec): Promise<{taskArn: string; capacity: CapacityProvider}> {
    const dir = this.sessionDir(spec.sessionId)
    mkdirSync(dir, {recursive: true})
    retirePreviousRun(dir)
    const editorPort = await freePort()
    const environment: Record<string, string | undefined> = {
      ...this.options.environment(spec),
      ...spec.environment,
      EDITOR_BIND_ADDR: `127.0.0.1:${editorPort}`,
      STOP_TIMEOUT_SECONDS: String(Math.max(1, Math.floor(this.stopGraceMs / 1000) - 3)),
    }
    const nonceFile = writeBootstrapNonce(dir, spec.bootstrapNonce)
    environment.DEVFLOW_BOOTSTRAP_FILE = CONTAINER_NONCE_PATH
    const envFile = join(dir, 'container.env')
    const lines = Object.entries(environment).filter((entry): entry is [string, string] => entry[1] !== undefined && !entry[1].includes('\n'))
    writeFileSync(envFile, lines.map(([key, value]) => `${key}=${value}`).join('\n') + '\n', {mode: 0o600})
    const mounts = [...this.options.mounts(spec).flatMap((path) => ['--volume', `${path}:${path}`]), '--volume', `${nonceFile}:${CONTAINER_NONCE_PATH}:ro`]
    const result = await execa(
      this.docker,
      ['run', '--detach', '--name', containerName(spec.sessionId), '--label', `devflow.session=${spec.sessionId}`, '--network', 'host', '--env-file', envFile, ...mounts, this.options.image],
      {reject: false, timeout: 120_000},
    )
    if (result.exitCode !== 0) {
      throw unavailable('WORKSPACE_START_FAILED', `Docker could not start the workspace container: ${String(result.stderr).trim() || `exit ${result.exitCode}`}`, `Check \`docker info\` and that the image ${this.options.image} exists (devflow image build), or run \`devflow local up --runtime process\`.`)
    }
    writeFileSync(join(dir, 'task.json'), JSON.stringify({container: containerName(spec.sessionId), editorPort, startedAt: new Date().toISOString()}))
    return {taskArn: `${DOCKER_TASK_PREFIX}${spec.sessionId}`, capacity: 'FARGATE'}
  }

  async describe(taskArn: string): Promise<TaskState | undefined> {
    const sessionId = this.sessionIdOf(taskArn)
    if (!sessionId || !existsSync(join(this.sessionDir(sessionId), 'task.json'))) return undefined
    const exit = (await this.recordedExit(sessionId)) ?? (await this.inspect(sessionId))
    if (exit === 'running') return {taskArn, lastStatus: 'RUNNING', desiredStatus: 'RUNNING'}
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
    return localEditorAccess(this.editorPort(taskArn))
  }

  /** Where the session's editor listens. */
  editorPort(taskArn: string): number | undefined {
    const sessionId = this.sessionIdOf(taskArn)
    const text = sessionId && readText(join(this.sessionDir(sessionId), 'task.json'))
    return text ? (JSON.parse(text) as {editorPort: number}).editorPort : undefined
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

function containerName(sessionId: string): string {
  return `devflow-${sessionId}`
}

function readText(file: string): string | undefined {
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined
}
