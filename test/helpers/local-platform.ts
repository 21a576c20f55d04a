/**
 * The local platform (`devflow local up`) as a real process, for the e2e and browser suites that
 * drive it. `LocalPlatform.create(options)` makes what they all need before `local up`:
 * - a CliSandbox (its own HOME, so the data dir is `dataDir`),
 * - a temp dir `dir` with a `bin/` first on PATH holding the stub `claude`
 *   (container/test/fixtures/claude, or the one `claude` names) and, unless `fakeDocker: false`, the fake `docker`
 *   (test/unit/adapters/local/fixtures/fake-docker) with its engine down (state in `dir/docker`),
 *   and with `failingGh` a `gh` that exits 1,
 * - `env`: PATH, ANTHROPIC_API_KEY, DEVFLOW_POLL_INTERVAL_MS, POLL_WAIT_SECONDS (2 s, so stops are
 *   quick), CODE_SERVER_BIN (a path that does not exist), GITHUB_TOKEN '' (no real `gh` login),
 *   FAKE_DOCKER_STATE, plus `options.env` (given `dir` when it is a function); it stays mutable,
 * - a free port `port` (`url` is `http://127.0.0.1:PORT/`).
 * `up(flags)` runs `local up --port PORT --json ...flags` and returns its result (a suite that
 * asserts on `local up` calls it itself); `startLocalPlatform(options)` creates and ups in one go
 * and throws when `local up` fails. `call(method, path, body)` is one request to the API with the
 * data dir's token; `stop()` runs `local down` and removes the sandbox and `dir`.
 */
import {execFileSync} from 'node:child_process'
import {mkdir, mkdtemp, readFile, rm, symlink, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {CliSandbox, type CliResult, ROOT} from './cli.js'
import {freePort} from './moto.js'

export interface LocalPlatformOptions {
  /** The temp dir's name prefix (default `devflow-local-`). */
  readonly prefix?: string
  /** Extra environment of every CLI process (over the defaults); a function gets `dir`. */
  readonly env?: Record<string, string> | ((dir: string) => Record<string, string> | Promise<Record<string, string>>)
  /** The `claude` linked into bin/ (default the stub, container/test/fixtures/claude). */
  readonly claude?: string
  /** The fake `docker` with its engine down on PATH (default true). */
  readonly fakeDocker?: boolean
  /** A `gh` on PATH that fails, so no GitHub CLI login of the machine is used (default false). */
  readonly failingGh?: boolean
  /** DEVFLOW_POLL_INTERVAL_MS (default 250). */
  readonly pollIntervalMs?: number
  /** The timeout of each CLI process (default 90 s). */
  readonly runTimeout?: number
}

export interface StartLocalPlatformOptions extends LocalPlatformOptions {
  /** Extra `local up` flags, e.g. ['--runtime', 'process', '--warm', '1']. */
  readonly upFlags?: string[]
}

export interface ApiAnswer<T = unknown> {
  readonly status: number
  readonly body: T
}

export class LocalPlatform {
  private constructor(
    readonly cli: CliSandbox,
    readonly dir: string,
    readonly port: number,
    readonly env: Record<string, string>,
    private readonly runTimeout: number,
  ) {}

  static async create(options: LocalPlatformOptions = {}): Promise<LocalPlatform> {
    const cli = await CliSandbox.create()
    const dir = await mkdtemp(join(tmpdir(), options.prefix ?? 'devflow-local-'))
    const bin = join(dir, 'bin')
    await mkdir(bin)
    await symlink(options.claude ?? join(ROOT, 'container', 'test', 'fixtures', 'claude'), join(bin, 'claude'))
    const fakeDocker = options.fakeDocker ?? true
    if (fakeDocker) {
      await symlink(join(ROOT, 'test', 'unit', 'adapters', 'local', 'fixtures', 'fake-docker'), join(bin, 'docker'))
      await mkdir(join(dir, 'docker'))
      await writeFile(join(dir, 'docker', 'engine-down'), '')
    }
    // No GitHub CLI token either: nothing may leave this machine.
    if (options.failingGh) await writeFile(join(bin, 'gh'), '#!/bin/sh\nexit 1\n', {mode: 0o755})
    const port = await freePort()
    const extra = typeof options.env === 'function' ? await options.env(dir) : (options.env ?? {})
    const env: Record<string, string> = {
      PATH: `${bin}:${process.env.PATH}`,
      ANTHROPIC_API_KEY: 'sk-ant-test',
      DEVFLOW_POLL_INTERVAL_MS: String(options.pollIntervalMs ?? 250),
      POLL_WAIT_SECONDS: '2',
      CODE_SERVER_BIN: join(dir, 'no-code-server'),
      GITHUB_TOKEN: '',
      ...(fakeDocker ? {FAKE_DOCKER_STATE: join(dir, 'docker')} : {}),
      ...extra,
    }
    return new LocalPlatform(cli, dir, port, env, options.runTimeout ?? 90_000)
  }

  get bin(): string {
    return join(this.dir, 'bin')
  }

  get dataDir(): string {
    return join(this.cli.home, '.local', 'share', 'devflow', 'local')
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/`
  }

  /** The CLI as a process with the platform's env (and `extra` over it). */
  run(args: string[], extra: Record<string, string> = {}): Promise<CliResult> {
    return this.cli.run(args, {env: {...this.env, ...extra}, timeout: this.runTimeout})
  }

  /** `local up --port PORT --json ...flags`. */
  up(flags: string[] = []): Promise<CliResult> {
    return this.run(['local', 'up', '--port', String(this.port), '--json', ...flags])
  }

  /** The API token `local up` wrote to the data dir. */
  async token(): Promise<string> {
    return (await readFile(join(this.dataDir, 'token'), 'utf8')).trim()
  }

  /** One request to the local API with the token; the body parsed as JSON when there is one. */
  async call<T = unknown>(method: string, path: string, body?: unknown): Promise<ApiAnswer<T>> {
    const response = await fetch(new URL(path.replace(/^\//, ''), this.url), {
      method,
      headers: {authorization: `Bearer ${await this.token()}`, ...(body === undefined ? {} : {'content-type': 'application/json'})},
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const text = await response.text()
    return {status: response.status, body: (text === '' ? undefined : JSON.parse(text)) as T}
  }

  /** `local down`, then the sandbox and `dir` removed. */
  async stop(): Promise<void> {
    await this.run(['local', 'down'])
    await this.cli.cleanup()
    await rm(this.dir, {recursive: true, force: true})
  }
}

/**
 * The options of a local platform whose sessions run the real Claude Code CLI `bin` against the
 * scripted Messages API at `anthropicUrl` (test/fakes/anthropic-messages-api.ts), with the CLI's
 * telemetry and update checks off: tests talk to loopback only.
 */
export function realClaude(bin: string, anthropicUrl: string): Pick<LocalPlatformOptions, 'claude' | 'env'> {
  return {
    claude: bin,
    env: {
      ANTHROPIC_API_KEY: 'sk-ant-local-test',
      ANTHROPIC_BASE_URL: anthropicUrl,
      EVENT_FLUSH_INTERVAL_SECONDS: '0.5',
      DISABLE_AUTOUPDATER: '1',
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    },
  }
}

/** `LocalPlatform.create(options)` then `up(options.upFlags)`; throws when `local up` fails. */
export async function startLocalPlatform(options: StartLocalPlatformOptions = {}): Promise<LocalPlatform> {
  const platform = await LocalPlatform.create(options)
  const up = await platform.up(options.upFlags)
  if (up.exitCode !== 0) {
    await platform.stop()
    throw new Error(`devflow local up exited ${up.exitCode}: ${up.stderr}`)
  }
  return platform
}

/** git, its output trimmed (throws on a non-zero exit). */
export function git(args: string[], cwd?: string): string {
  return execFileSync('git', args, {cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']}).trim()
}

/** A bare repository `dir/app.git` with one commit (README.md) on main, as a user's remote. */
export function bareRepository(dir: string): string {
  const bare = join(dir, 'app.git')
  const work = join(dir, 'app')
  git(['init', '--quiet', '--bare', '--initial-branch=main', bare])
  git(['clone', '--quiet', bare, work])
  execFileSync('sh', ['-c', 'echo "# app" > README.md'], {cwd: work})
  git(['add', 'README.md'], work)
  git(['-c', 'user.name=Dev', '-c', 'user.email=dev@example.com', 'commit', '--quiet', '-m', 'initial'], work)
  git(['push', '--quiet', 'origin', 'main'], work)
  return bare
}
