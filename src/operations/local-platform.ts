/**
 * `devflow local up|status|down`: the local platform's server as a background process.
 *
 * `<data dir>/server.pid` is written by `up` as soon as the server process exists, so a second `up`
 * finds it even while the first is still starting; `<data dir>/server.json` is written by the server
 * once it listens. The local token lives in `<data dir>/token`, readable by the owner only.
 */
import {spawn} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {createServer} from 'node:net'
import {extname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {dockerAnswers, newestWorkspaceImage} from '../adapters/local/docker-runtime.js'
import {HttpSessionApi} from '../adapters/http/api-client.js'
import {bearerAuthorizer} from '../adapters/http/authorizers.js'
import {conflict, DevflowError, invalidInput, isDevflowError, timedOut, unavailable} from '../core/errors.js'
import {isSessionTerminal} from '../core/state-machine.js'
import {LOCAL_HOST, LOCAL_STAGE, LocalPaths} from '../adapters/local/paths.js'
import {claudeApiKey} from '../adapters/local/secret-file.js'
// A zombie counts as exited: the server's parent (`local up`) is gone, and PID 1 may not reap it.
import {isAlive, stopRecordedWorkspaces} from '../adapters/local/process-runtime.js'
import type {ConfigFile} from '../cli/config.js'
import {consoleLoginLink} from './console-link.js'

/** How sessions run: host processes, or containers of a workspace image. */
export type LocalRuntimeChoice = {readonly kind: 'process'} | {readonly kind: 'docker'; readonly image: string}

export interface ServerState {
  readonly pid: number
  readonly port: number
  readonly url: string
  readonly dataDir: string
  readonly runtime: 'process' | 'docker'
  readonly image?: string
  /** `local up --warm N`: the warm pool's size. */
  readonly warm?: number
  readonly startedAt: string
}

export interface UpResult {
  /** false when a server was already running (nothing was started). */
  readonly started: boolean
  readonly url: string
  readonly port: number
  readonly pid: number
  readonly dataDir: string
  readonly tokenFile: string
  readonly logFile: string
  readonly runtime: 'process' | 'docker'
  readonly image?: string
  /** The warm pool's size, when the server keeps one. */
  readonly warm?: number
}

export interface StatusResult {
  readonly running: boolean
  readonly dataDir: string
  readonly url?: string
  readonly pid?: number
  readonly startedAt?: string
  readonly runtime?: 'process' | 'docker'
  readonly image?: string
  readonly health?: string
  readonly sessions?: {readonly active: number; readonly total: number}
}

export interface DownResult {
  /** false when no server was running. */
  readonly wasRunning: boolean
  readonly dataDir: string
  readonly stoppedSessions: string[]
}

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T
  } catch {
    // Missing or half-written: the caller treats it as not there (yet).
    return undefined
  }
}

function pidFile(paths: LocalPaths): string {
  return join(paths.dataDir, 'server.pid')
}

/** The server's pid when one is running, clearing a stale pid file. */
function runningPid(paths: LocalPaths): number | undefined {
  const text = existsSync(pidFile(paths)) ? readFileSync(pidFile(paths), 'utf8').trim() : ''
  const pid = Number(text)
  if (text !== '' && Number.isInteger(pid) && pid > 0 && isAlive(pid)) return pid
  rmSync(pidFile(paths), {force: true})
  rmSync(paths.server, {force: true})
  return undefined
}

async function assertPortFree(port: number): Promise<void> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? conflict('PORT_IN_USE', `Port ${port} on ${LOCAL_HOST} is already in use.`, `Stop what listens there, or start on another port: devflow local up --port ${port + 1}.`, {cause: error})
          : unavailable('CANNOT_LISTEN', `Cannot listen on ${LOCAL_HOST}:${port} (${error.code}).`, 'Use a port between 1024 and 65535: devflow local up --port 8787.', {cause: error}),
      ),
    )
    server.listen(port, LOCAL_HOST, () => server.close(() => resolve()))
  })
}

/**
 * The data dir, owner-only (0700), even when it already existed with wider rights; the database
 * and the log in it too (0600). The server runs with umask 077 for what it creates later.
 */
export function ensurePrivateDataDir(paths: LocalPaths): void {
  mkdirSync(paths.dataDir, {recursive: true, mode: 0o700})
  chmodSync(paths.dataDir, 0o700)
  for (const file of [paths.database, `${paths.database}-wal`, `${paths.database}-shm`, paths.log, paths.secrets]) {
    if (existsSync(file)) chmodSync(file, 0o600)
  }
}

/** The local API token, created on first use with owner-only permissions. */
export function ensureToken(paths: LocalPaths): string {
  ensurePrivateDataDir(paths)
  if (!existsSync(paths.token)) writeFileSync(paths.token, `${randomBytes(32).toString('base64url')}\n`, {mode: 0o600})
  chmodSync(paths.token, 0o600)
  return readFileSync(paths.token, 'utf8').trim()
}

/** The server's entry module, src/composition/local-server-main (.js when built, .ts under the dev loader). */
function serverMain(): string {
  const self = fileURLToPath(import.meta.url)
  return join(self, '..', '..', 'composition', `local-server-main${extname(self)}`)
}

export type RuntimeRequest = 'auto' | 'process' | 'docker'

/**
 * auto: Docker when an engine answers and a workspace image exists, else host processes. An
 * explicit `docker` that cannot work is an error rather than a silent fallback.
 */
export async function chooseRuntime(requested: RuntimeRequest, image: string | undefined): Promise<LocalRuntimeChoice> {
  if (requested === 'process') return {kind: 'process'}
  if (!(await dockerAnswers())) {
    if (requested === 'docker') {
      throw unavailable('DOCKER_UNAVAILABLE', 'The Docker engine does not answer, so sessions cannot run as containers.', 'Start Docker, or run `devflow local up --runtime process`.')
    }
    return {kind: 'process'}
  }
  const chosen = image ?? (await newestWorkspaceImage())
  if (!chosen) {
    if (requested === 'docker') {
      throw invalidInput('WORKSPACE_IMAGE_MISSING', 'No devflow-workspace image exists in the local Docker engine.', 'Build one with `devflow image build`, or pass --image.')
    }
    return {kind: 'process'}
  }
  return {kind: 'docker', image: chosen}
}

export async function localUp(options: {
  dataDir: string
  port: number
  env: NodeJS.ProcessEnv
  runtime: RuntimeRequest
  image?: string
  startTimeoutMs?: number
  /** Workspace processes to keep ready (the process runtime); none when 0 or unset. */
  warm?: number
}): Promise<UpResult> {
  const paths = new LocalPaths(options.dataDir)
  const existing = runningPid(paths)
  if (existing !== undefined) {
    const state = await waitForState(paths, existing, options.startTimeoutMs ?? 20_000)
    return describeUp(paths, state, false)
  }
  await assertPortFree(options.port)
  const runtime = await chooseRuntime(options.runtime, options.image)
  if (options.warm && runtime.kind === 'docker') {
    throw invalidInput('WARM_NEEDS_PROCESS_RUNTIME', 'The local warm pool keeps host processes; the Docker runtime mounts a repository when a container starts.', 'Run `devflow local up --runtime process --warm N`, or drop --warm.')
  }
  const runtimeArgs = [...(runtime.kind === 'docker' ? ['--runtime', 'docker', '--image', runtime.image] : ['--runtime', 'process']), ...(options.warm ? ['--warm', String(options.warm)] : [])]
  ensureToken(paths)
  rmSync(paths.server, {force: true})
  const log = openSync(paths.log, 'a', 0o600)
  let pid: number
  try {
    const child = spawn(process.execPath, [...process.execArgv, serverMain(), '--data-dir', paths.dataDir, '--port', String(options.port), ...runtimeArgs], {
      cwd: paths.dataDir,
      detached: true,
      stdio: ['ignore', log, log],
      env: options.env,
    })
    pid = await new Promise<number>((resolve, reject) => {
      child.once('error', reject)
      child.once('spawn', () => resolve(child.pid as number))
    })
    child.unref()
  } finally {
    closeSync(log)
  }
  writeFileSync(pidFile(paths), String(pid), {mode: 0o600})
  const state = await waitForState(paths, pid, options.startTimeoutMs ?? 20_000)
  return describeUp(paths, state, true)
}

function describeUp(paths: LocalPaths, state: ServerState, started: boolean): UpResult {
  return {started, url: state.url, port: state.port, pid: state.pid, dataDir: paths.dataDir, tokenFile: paths.token, logFile: paths.log, runtime: state.runtime, ...(state.image ? {image: state.image} : {}), ...(state.warm ? {warm: state.warm} : {})}
}

/** Waits for the server to listen; a server that dies instead explains why from its log. */
async function waitForState(paths: LocalPaths, pid: number, timeoutMs: number): Promise<ServerState> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const state = readJson<ServerState>(paths.server)
    if (state?.pid === pid) return state
    if (!isAlive(pid)) {
      rmSync(pidFile(paths), {force: true})
      throw serverFailure(paths)
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw timedOut('LOCAL_SERVER_SLOW', `The local server (pid ${pid}) did not start listening within ${Math.round(timeoutMs / 1000)}s.`, `See ${paths.log}, then run \`devflow local down\` and try again.`)
}

function serverFailure(paths: LocalPaths): DevflowError {
  const lines = existsSync(paths.log) ? readFileSync(paths.log, 'utf8').trim().split('\n') : []
  const reported = readJsonLine(lines.at(-1))
  if (reported?.error) {
    const {code, message, hint} = reported.error
    const make = code === 'PORT_IN_USE' ? conflict : unavailable
    return make(code, message, hint || `See ${paths.log}.`)
  }
  return unavailable('LOCAL_SERVER_FAILED', `The local server exited while starting: ${lines.slice(-3).join(' ') || 'no output'}`, `See ${paths.log}.`)
}

function readJsonLine(line: string | undefined): {error?: {code: string; message: string; hint?: string}} | undefined {
  try {
    return line ? (JSON.parse(line) as {error?: {code: string; message: string; hint?: string}}) : undefined
  } catch {
    // Not the server's error line: the caller falls back to the raw log.
    return undefined
  }
}

export async function localStatus(dataDir: string): Promise<StatusResult> {
  const paths = new LocalPaths(dataDir)
  const pid = runningPid(paths)
  const state = pid === undefined ? undefined : readJson<ServerState>(paths.server)
  if (pid === undefined || !state) return {running: pid !== undefined, dataDir: paths.dataDir, ...(pid === undefined ? {} : {pid})}
  const api = new HttpSessionApi({endpoint: state.url, authorizer: bearerAuthorizer(readFileSync(paths.token, 'utf8').trim()), timeoutMs: 5000})
  let health = 'unreachable'
  let sessions: StatusResult['sessions']
  try {
    health = (await api.health()).status
    const {items} = await api.list({userId: 'self'}, {limit: 100})
    sessions = {active: items.filter((s) => !isSessionTerminal(s.status)).length, total: items.length}
  } catch {
    // Reported as health "unreachable": the process exists but does not answer.
  }
  return {running: true, dataDir: paths.dataDir, url: state.url, pid: state.pid, startedAt: state.startedAt, runtime: state.runtime, ...(state.image ? {image: state.image} : {}), health, ...(sessions ? {sessions} : {})}
}

/** Stops the server, which stops every session first; waits for it to exit. */
export async function localDown(dataDir: string, timeoutMs = 60_000): Promise<DownResult> {
  const paths = new LocalPaths(dataDir)
  const pid = runningPid(paths)
  if (pid === undefined) {
    // A server that crashed left its workspaces running: stop the ones recorded in the data dir.
    const orphans = await stopRecordedWorkspaces(paths.dataDir, 'Stopped by `devflow local down`: the local server was not running.')
    return {wasRunning: false, dataDir: paths.dataDir, stoppedSessions: orphans}
  }
  const shutdownFile = join(paths.dataDir, 'last-shutdown.json')
  rmSync(shutdownFile, {force: true})
  process.kill(pid, 'SIGTERM')
  const deadline = Date.now() + timeoutMs
  while (isAlive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100))
  if (isAlive(pid)) {
    throw timedOut('LOCAL_SERVER_STOP_SLOW', `The local server (pid ${pid}) is still stopping its sessions after ${Math.round(timeoutMs / 1000)}s.`, `Run \`devflow local down\` again, or see ${paths.log}.`)
  }
  rmSync(pidFile(paths), {force: true})
  rmSync(paths.server, {force: true})
  const report = readJson<{stoppedSessions: string[]}>(shutdownFile)
  return {wasRunning: true, dataDir: paths.dataDir, stoppedSessions: report?.stoppedSessions ?? []}
}

export interface LocalStageStarted {
  readonly up: UpResult & {readonly stage: string; readonly consoleLoginUrl?: string}
  readonly claudeApiKeySet: boolean
  /** Why the running server gave no console sign-in link (an older one has no console); it runs anyway. */
  readonly consoleLinkProblem?: string
}

/**
 * `local up` for the CLI: starts (or finds) the server and writes the `local` stage into the
 * config, so `--stage local` reaches it; asks the server for a console sign-in link and says
 * whether prompts will find a Claude API key.
 */
export async function startLocalStage(config: ConfigFile, options: Parameters<typeof localUp>[0]): Promise<LocalStageStarted> {
  const result = await localUp(options)
  config.setStageData(LOCAL_STAGE, 'deployment', {apiUrl: result.url})
  config.setStageData(LOCAL_STAGE, 'local', {tokenFile: result.tokenFile, dataDir: result.dataDir})
  await config.save()
  const claudeApiKeySet = Boolean(claudeApiKey(result.dataDir, options.env))
  // The console link is a convenience: a server that cannot give one still runs.
  try {
    const link = await consoleLoginLink(result.dataDir)
    return {up: {...result, stage: LOCAL_STAGE, consoleLoginUrl: link.url}, claudeApiKeySet}
  } catch (error) {
    if (!isDevflowError(error)) throw error
    return {up: {...result, stage: LOCAL_STAGE}, claudeApiKeySet, consoleLinkProblem: `${error.message} ${error.hint}`}
  }
}
