/**
 * A workspace for running container/ai-workflow.sh on the host, as the bats tests do, from mocha:
 * a bare git remote with one commit on main, its clone as REPO_DIR, and the fake DevFlow agent API
 * (container/test/fixtures/fake-api.py: prompts are files in its queue, every request is a line in
 * requests.jsonl).
 */
import {execFileSync, spawn, type ChildProcess} from 'node:child_process'
import {existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {ROOT} from './cli.js'

export const CONTAINER_DIR = join(ROOT, 'container')

export interface AgentRequest {
  readonly method: string
  readonly path: string
  readonly auth: string | null
  readonly body: {
    readonly status?: string
    readonly summary?: string
    readonly branch?: string
    readonly commit?: string
    readonly turns?: number
    readonly costUsd?: number
    readonly error?: {readonly code: string; readonly message: string}
    readonly events?: ReadonlyArray<{readonly type: string; readonly text?: string; readonly data?: Record<string, unknown>}>
  } | null
}

export interface AgentRun {
  readonly exitCode: number | null
  readonly stderr: string
  readonly durationMs: number
}

export function git(args: string[], cwd?: string): string {
  return execFileSync('git', args, {cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']}).trim()
}

export class AgentWorkspace {
  readonly sessionId = 's-realclaude0123456789'
  readonly token = 'session-token'
  private api?: ChildProcess
  private apiUrl = ''
  private seq = 0

  private constructor(readonly root: string) {}

  static async create(): Promise<AgentWorkspace> {
    const workspace = new AgentWorkspace(await mkdtemp(join(tmpdir(), 'devflow-agent-')))
    await workspace.init()
    return workspace
  }

  get remote(): string {
    return join(this.root, 'remote.git')
  }

  get repoDir(): string {
    return join(this.root, 'workspace', 'demo')
  }

  get stateDir(): string {
    return join(this.root, 'state')
  }

  get home(): string {
    return join(this.root, 'home')
  }

  private get apiState(): string {
    return join(this.root, 'api')
  }

  private async init(): Promise<void> {
    mkdirSync(this.home)
    git(['init', '--quiet', '--bare', '--initial-branch=main', this.remote])
    const seed = join(this.root, 'seed')
    git(['init', '--quiet', '--initial-branch=main', seed])
    writeFileSync(join(seed, 'README.md'), '# demo\n')
    git(['add', 'README.md'], seed)
    git(['-c', 'user.name=Seed', '-c', 'user.email=seed@example.com', 'commit', '--quiet', '-m', 'initial commit'], seed)
    git(['push', '--quiet', this.remote, 'main'], seed)
    mkdirSync(join(this.root, 'workspace'))
    git(['clone', '--quiet', '--branch', 'main', this.remote, this.repoDir])
    mkdirSync(this.apiState)
    this.api = spawn('python3', [join(CONTAINER_DIR, 'test', 'fixtures', 'fake-api.py'), this.apiState], {
      env: {...process.env, FAKE_API_TOKEN: this.token},
      stdio: 'ignore',
    })
    const portFile = join(this.apiState, 'port')
    for (let i = 0; i < 200 && !existsSync(portFile); i++) await new Promise((resolve) => setTimeout(resolve, 50))
    if (!existsSync(portFile)) throw new Error('the fake DevFlow API did not start')
    this.apiUrl = `http://127.0.0.1:${readFileSync(portFile, 'utf8').trim()}/prod`
  }

  /** Queues a prompt for the agent to claim; returns its id. */
  queuePrompt(text: string): string {
    this.seq += 1
    const id = `p-realclaude${String(this.seq).padStart(8, '0')}`
    const prompt = {id, sessionId: this.sessionId, seq: this.seq, text, status: 'QUEUED', pr: 'none', attempt: 1, createdAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T00:00:00Z'}
    writeFileSync(join(this.apiState, 'queue', `${String(this.seq).padStart(4, '0')}-${id}.json`), JSON.stringify(prompt))
    return id
  }

  /** Whether a queued prompt is still waiting (never claimed). */
  isQueued(id: string): boolean {
    return readdirSync(join(this.apiState, 'queue')).some((name) => name.endsWith(`-${id}.json`))
  }

  requests(): AgentRequest[] {
    const file = join(this.apiState, 'requests.jsonl')
    if (!existsSync(file)) return []
    return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as AgentRequest)
  }

  results(promptId: string): NonNullable<AgentRequest['body']>[] {
    return this.requests()
      .filter((r) => r.method === 'POST' && r.path.endsWith(`/prompts/${promptId}/result`))
      .map((r) => r.body ?? {})
  }

  events(promptId: string): NonNullable<AgentRequest['body']>['events'] & object {
    return this.requests()
      .filter((r) => r.method === 'POST' && r.path.endsWith(`/prompts/${promptId}/events`))
      .flatMap((r) => r.body?.events ?? [])
  }

  /** The raw stream-json Claude Code printed for a prompt. */
  stream(promptId: string): Array<Record<string, unknown>> {
    const file = join(this.stateDir, 'prompts', promptId, 'stream.jsonl')
    return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>)
  }

  /** The environment the control plane gives the agent, with short timings. */
  environment(extra: Record<string, string> = {}): Record<string, string> {
    return {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: this.home,
      SESSION_ID: this.sessionId,
      REPO: 'acme/demo',
      BRANCH: 'main',
      REPO_URL: this.remote,
      DEVFLOW_API_URL: this.apiUrl,
      DEVFLOW_SESSION_TOKEN: this.token,
      WORKSPACE_DIR: join(this.root, 'workspace'),
      REPO_DIR: this.repoDir,
      STATE_DIR: this.stateDir,
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_AUTHOR_NAME: 'Ada Lovelace',
      GIT_AUTHOR_EMAIL: 'ada@example.com',
      POLL_WAIT_SECONDS: '0',
      EVENT_FLUSH_INTERVAL_SECONDS: '0.2',
      HEARTBEAT_INTERVAL_SECONDS: '5',
      BACKOFF_INITIAL_MS: '50',
      BACKOFF_MAX_MS: '200',
      API_CONNECT_TIMEOUT_SECONDS: '1',
      DISABLE_AUTOUPDATER: '1',
      // The CLI's telemetry and update checks would leave the machine: tests talk to loopback only.
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
      ...extra,
    }
  }

  /**
   * Runs ai-workflow.sh until it exits (MAX_ITERATIONS polls); `onStarted` may signal it meanwhile.
   */
  async runAgent(env: Record<string, string>, onStarted?: (child: ChildProcess) => void | Promise<void>): Promise<AgentRun> {
    const started = Date.now()
    const child = spawn(join(CONTAINER_DIR, 'ai-workflow.sh'), [], {env: this.environment(env), stdio: ['ignore', 'ignore', 'pipe']})
    let stderr = ''
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')))
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
    await onStarted?.(child)
    const exitCode = await exited
    return {exitCode, stderr, durationMs: Date.now() - started}
  }

  async close(): Promise<void> {
    this.api?.kill()
    await rm(this.root, {recursive: true, force: true})
  }
}
