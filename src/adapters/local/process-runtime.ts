/**
 * The host-process runtime of `devflow local`: each session is `container/entrypoint.sh` (the very
 * script the workspace image runs) started in a directory of its own under the data dir, detached
 * in its own process group so that stopping it reaches every child (the agent, git, code-server).
 *
 * Everything describe() needs is kept in files, so the server can restart meanwhile:
 *   <dataDir>/sessions/<id>/task.json      pid (= process group id), start time, and the kernel's
 *                                          start time of that pid (so a reused pid is never signalled)
 *   <dataDir>/sessions/<id>/exit-code      written by the wrapper shell when the entrypoint ends
 *   <dataDir>/sessions/<id>/stop-reason    written by stop() before it signals the group
 *   <dataDir>/sessions/<id>/output.log     the entrypoint's stdout and stderr
 *   <dataDir>/sessions/<id>/bootstrap-nonce the task's one-use bootstrap proof (0600; the entrypoint
 *                                          reads and deletes it): never in the environment
 */
import {spawn} from 'node:child_process'
import {chmodSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import {constants} from 'node:os'
import {createServer, type AddressInfo} from 'node:net'
import {join} from 'node:path'

import {internalError, unavailable} from '../../core/errors.js'
import type {CapacityProvider} from '../../core/models.js'
import type {TaskRuntime, TaskSpec, TaskState} from '../../core/ports.js'
import type {EditorAccess} from '../../core/session-api.js'

export const PROCESS_TASK_PREFIX = 'local-process:'

/**
 * Runs the command, then records its exit status. The TERM/INT trap keeps this shell alive until
 * the entrypoint has finished its own cleanup (a trap, unlike an ignored signal, is not inherited).
 */
const WRAPPER = 'trap "true" TERM INT; "$@"; echo $? > "$DEVFLOW_EXIT_FILE"'

export interface ProcessRuntimeOptions {
  /** The data directory of the local platform. */
  readonly dataDir: string
  /** Absolute path of container/entrypoint.sh. */
  readonly entrypoint: string
  /**
   * The rest of a workspace's environment (PATH, HOME, ANTHROPIC_API_KEY, REPO_URL, ...), read at
   * each start so that a key set after `local up` reaches the next session.
   */
  readonly environment: (spec: TaskSpec) => Readonly<Record<string, string | undefined>>
  /** How long stop() waits after TERM before it sends KILL. */
  readonly stopGraceMs?: number
  /** Whether code-server is installed on this machine to serve the editor (the image always has it). */
  readonly codeServerInstalled?: () => boolean
}

/** A local session whose editor cannot run: prompts still work. */
export const NO_LOCAL_EDITOR: EditorAccess = {
  kind: 'unavailable',
  reason: 'code-server is not installed on this machine, so the session has no editor (prompts still work).',
  hint: 'Install code-server (https://coder.com/docs/code-server/install), then start a new session.',
}

/** The editor of a local session on its own port of 127.0.0.1. */
export function localEditorAccess(port: number | undefined): EditorAccess {
  return port === undefined ? NO_LOCAL_EDITOR : {kind: 'url', url: `http://127.0.0.1:${port}/`, port}
}

interface TaskFile {
  readonly pid: number
  readonly startedAt: string
  /** The port code-server binds on 127.0.0.1 when it is installed. */
  readonly editorPort: number
  /** Linux: field 22 of /proc/<pid>/stat (clock ticks after boot) when the process was started. */
  readonly procStart?: string
}

/** Linux: when the process with this pid started (ticks after boot); undefined without procfs or process. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]
  } catch {
    return undefined
  }
}

/** The task's own process still runs under its pid (not another process that got the pid since). */
function isTaskAlive(task: TaskFile): boolean {
  if (!isAlive(task.pid)) return false
  if (task.procStart === undefined) return true
  const now = processStartTime(task.pid)
  return now === undefined || now === task.procStart
}

/** TERM to the task's process group, KILL after the grace period; a pid now someone else's is left alone. */
async function stopTaskGroup(dir: string, reason: string, graceMs: number): Promise<boolean> {
  const taskText = readText(join(dir, 'task.json'))
  if (!taskText) return false
  const task = JSON.parse(taskText) as TaskFile
  if (!isTaskAlive(task)) return false
  if (!existsSync(join(dir, 'stop-reason'))) writeFileSync(join(dir, 'stop-reason'), reason)
  signalGroup(task.pid, 'SIGTERM')
  const deadline = Date.now() + graceMs
  while (isTaskAlive(task) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100))
  if (!isReused(task)) signalGroup(task.pid, 'SIGKILL')
  return true
}

/** Another process runs under the task's pid now: its group is not the task's. */
function isReused(task: TaskFile): boolean {
  if (task.procStart === undefined || !isAlive(task.pid)) return false
  const now = processStartTime(task.pid)
  return now !== undefined && now !== task.procStart
}

/**
 * Stops every workspace process recorded under the data dir that still runs (`local down` when
 * the server is gone and cannot stop its sessions itself). Returns the ids of the sessions stopped.
 */
export async function stopRecordedWorkspaces(dataDir: string, reason: string, graceMs = 15_000): Promise<string[]> {
  const root = join(dataDir, 'sessions')
  const ids = existsSync(root) ? readdirSync(root) : []
  const stopped = await Promise.all(ids.map(async (id) => ((await stopTaskGroup(join(root, id), reason, graceMs)) ? id : undefined)))
  return stopped.filter((id): id is string => id !== undefined)
}

/** A port that is free right now, for the session's editor. */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

/**
 * Whether the wrapper shell (the task's "PID 1") still runs: the task lives exactly as long. A
 * zombie counts as ended: after a server restart nothing may be reaping the old wrappers.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false
  }
  return !isZombie(pid)
}

/** Linux: the state letter after the command in /proc/<pid>/stat. Elsewhere: assume not. */
function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z'
  } catch {
    // No procfs (macOS) or the process is gone: kill(0) already answered.
    return false
  }
}

/**
 * A resumed session runs a new task in the same session directory: what describe() reads of the
 * last task goes, and its workspace and agent state are moved to `runs/<time>/` (the new task
 * starts from a fresh clone at the checkpoint, as a new Fargate task would).
 */
export function retirePreviousRun(dir: string, ...workDirs: string[]): void {
  for (const name of ['stop-reason', 'exit-code', 'exit.json']) rmSync(join(dir, name), {force: true})
  const present = workDirs.filter((name) => existsSync(join(dir, name)))
  if (present.length === 0) return
  const archive = join(dir, 'runs', new Date().toISOString().replace(/[:.]/g, '-'))
  mkdirSync(archive, {recursive: true})
  for (const name of present) renameSync(join(dir, name), join(archive, name))
}

/** The nonce in a file only the user can read, created exclusively so that no link is followed. */
export function writeBootstrapNonce(dir: string, nonce: string, mode = 0o600): string {
  const file = join(dir, 'bootstrap-nonce')
  rmSync(file, {force: true})
  writeFileSync(file, nonce, {mode, flag: 'wx'})
  chmodSync(file, mode) // the local server runs with umask 077, which a wider mode must not lose
  return file
}

function signalGroup(processGroup: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-processGroup, signal)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error
  }
}

function readText(file: string): string | undefined {
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined
}

/** Names the signal behind a shell exit status above 128 (143 -> SIGTERM). */
function describeExit(code: number): string {
  if (code > 128) {
    const signal = Object.entries(constants.signals).find(([, number]) => number === code - 128)?.[0]
    return `exited with code ${code}${signal ? ` (killed by ${signal})` : ''}`
  }
  return `exited with code ${code}`
}

export class ProcessRuntime implements TaskRuntime {
  private readonly stopGraceMs: number

  constructor(private readonly options: ProcessRuntimeOptions) {
    this.stopGraceMs = options.stopGraceMs ?? 15_000
  }

  sessionDir(sessionId: string): string {
    return join(this.options.dataDir, 'sessions', sessionId)
  }

  async run(spec: TaskSpec): Promise<{taskArn: string; capacity: CapacityProvider}> {
    if (!existsSync(this.options.entrypoint)) {
      throw internalError('ENTRYPOINT_MISSING', `The workspace script ${this.options.entrypoint} is missing.`, 'Reinstall devflow: the package ships container/entrypoint.sh.')
    }
    const dir = this.sessionDir(spec.sessionId)
    const workspace = join(dir, 'workspace')
    const state = join(dir, 'state')
    retirePreviousRun(dir, 'workspace', 'state')
    mkdirSync(workspace, {recursive: true})
    mkdirSync(state, {recursive: true})
    const editorPort = await freePort()
    const nonceFile = writeBootstrapNonce(dir, spec.bootstrapNonce)
    const log = openSync(join(dir, 'output.log'), 'a')
    try {
      const child = spawn('/bin/sh', ['-c', WRAPPER, 'devflow-workspace', this.options.entrypoint], {
        cwd: workspace,
        detached: true,
        stdio: ['ignore', log, log],
        env: {
          ...this.options.environment(spec),
          ...spec.environment,
          WORKSPACE_DIR: workspace,
          STATE_DIR: state,
          // The editor of each session on its own port, with its own config (never the user's).
          EDITOR_BIND_ADDR: `127.0.0.1:${editorPort}`,
          CODE_SERVER_CONFIG: join(dir, 'code-server.yaml'),
          // Inside the stop grace period below, so the agent can push before it is killed.
          STOP_TIMEOUT_SECONDS: String(Math.max(1, Math.floor(this.stopGraceMs / 1000) - 3)),
          DEVFLOW_EXIT_FILE: join(dir, 'exit-code'),
          DEVFLOW_BOOTSTRAP_FILE: nonceFile,
        },
      })
      const pid = await new Promise<number>((resolve, reject) => {
        child.once('error', reject)
        child.once('spawn', () => resolve(child.pid as number))
      })
      child.unref()
      const procStart = processStartTime(pid)
      const task: TaskFile = {pid, startedAt: new Date().toISOString(), editorPort, ...(procStart ? {procStart} : {})}
      writeFileSync(join(dir, 'task.json'), JSON.stringify(task))
      return {taskArn: `${PROCESS_TASK_PREFIX}${spec.sessionId}`, capacity: 'FARGATE'}
    } catch (error) {
      throw unavailable('WORKSPACE_START_FAILED', `Could not start the workspace process: ${(error as Error).message}`, 'Check that /bin/sh exists and the data directory is writable.', {
        cause: error,
      })
    } finally {
      closeSync(log)
    }
  }

  async describe(taskArn: string): Promise<TaskState | undefined> {
    const sessionId = this.sessionIdOf(taskArn)
    if (!sessionId) return undefined
    const dir = this.sessionDir(sessionId)
    const taskText = readText(join(dir, 'task.json'))
    if (!taskText) return undefined
    const task = JSON.parse(taskText) as TaskFile
    if (isTaskAlive(task)) return {taskArn, lastStatus: 'RUNNING', desiredStatus: 'RUNNING'}
    // Like a container's end: whatever the entrypoint left running in its group goes with it.
    if (!isReused(task)) signalGroup(task.pid, 'SIGKILL')

    const stopReason = readText(join(dir, 'stop-reason'))
    const exitText = readText(join(dir, 'exit-code'))
    const exitCode = exitText === undefined || exitText === '' ? undefined : Number(exitText)
    if (stopReason !== undefined) {
      return {taskArn, lastStatus: 'STOPPED', desiredStatus: 'STOPPED', stopCode: 'UserInitiated', stoppedReason: stopReason, exitCode}
    }
    const how = exitCode === undefined ? 'was killed before it could record an exit code' : describeExit(exitCode)
    return {
      taskArn,
      lastStatus: 'STOPPED',
      desiredStatus: 'STOPPED',
      stopCode: 'EssentialContainerExited',
      stoppedReason: `The workspace process ${how}; see ${join(dir, 'output.log')}`,
      exitCode: exitCode ?? 137,
    }
  }

  async stop(taskArn: string, reason: string): Promise<void> {
    const sessionId = this.sessionIdOf(taskArn)
    if (!sessionId) return
    await stopTaskGroup(this.sessionDir(sessionId), reason, this.stopGraceMs)
  }

  async ping(): Promise<void> {
    if (!existsSync(this.options.entrypoint)) {
      throw unavailable('ENTRYPOINT_MISSING', `The workspace script ${this.options.entrypoint} is missing.`, 'Reinstall devflow: the package ships container/entrypoint.sh.')
    }
  }

  async editorAccess(taskArn: string): Promise<EditorAccess> {
    return (this.options.codeServerInstalled?.() ?? true) ? localEditorAccess(this.editorPort(taskArn)) : NO_LOCAL_EDITOR
  }

  /** Where the session's editor listens, when its task runs. */
  editorPort(taskArn: string): number | undefined {
    const sessionId = this.sessionIdOf(taskArn)
    const text = sessionId && readText(join(this.sessionDir(sessionId), 'task.json'))
    return text ? (JSON.parse(text) as TaskFile).editorPort : undefined
  }

  /** The ARN a session's task has (or will have): known before it runs. */
  taskArnOf(sessionId: string): string {
    return `${PROCESS_TASK_PREFIX}${sessionId}`
  }

  private sessionIdOf(taskArn: string): string | undefined {
    return taskArn.startsWith(PROCESS_TASK_PREFIX) ? taskArn.slice(PROCESS_TASK_PREFIX.length) : undefined
  }
}
