/**
 * Runs the built CLI (bin/run.js over dist/, with the generated manifest) as a real child process,
 * with its own temporary HOME and XDG_CONFIG_HOME so no test touches the developer's settings.
 * global-setup.ts rebuilds dist/ first whenever a source file is newer than the last build.
 */
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

import {execa} from 'execa'

export const ROOT = resolve(fileURLToPath(import.meta.url), '..', '..', '..')
export const CLI = join(ROOT, 'bin', 'run.js')

export interface CliResult {
  readonly exitCode: number
  readonly stdout: string
  readonly stderr: string
  /** stdout parsed as JSON (throws when it is not exactly one JSON document). */
  json<T = Record<string, unknown>>(): T
}

export interface CliOptions {
  readonly env?: Record<string, string | undefined>
  readonly input?: string
  readonly cwd?: string
  readonly timeout?: number
}

/** A temporary home for CLI processes; `cleanup()` removes it. */
export class CliSandbox {
  private constructor(readonly home: string) {}

  static async create(): Promise<CliSandbox> {
    return new CliSandbox(await mkdtemp(join(tmpdir(), 'devflow-cli-')))
  }

  get configHome(): string {
    return join(this.home, '.config')
  }

  get configFile(): string {
    return join(this.configHome, 'devflow', 'config.json')
  }

  async run(args: string[], options: CliOptions = {}): Promise<CliResult> {
    const result = await execa('node', [CLI, ...args], {
      cwd: options.cwd ?? this.home,
      input: options.input ?? '',
      reject: false,
      stripFinalNewline: false,
      timeout: options.timeout ?? 60_000,
      extendEnv: false,
      env: {
        PATH: process.env.PATH,
        HOME: this.home,
        XDG_CONFIG_HOME: this.configHome,
        LANG: 'C.UTF-8',
        NO_COLOR: '1',
        // Nothing ambient may leak in: no real AWS profile or region.
        AWS_CONFIG_FILE: join(this.home, 'aws-config'),
        AWS_SHARED_CREDENTIALS_FILE: join(this.home, 'aws-credentials'),
        AWS_EC2_METADATA_DISABLED: 'true',
        ...options.env,
      },
    })
    const stdout = String(result.stdout)
    return {
      exitCode: result.exitCode ?? 1,
      stdout,
      stderr: String(result.stderr),
      json<T>() {
        return JSON.parse(stdout) as T
      },
    }
  }

  async cleanup(): Promise<void> {
    await rm(this.home, {recursive: true, force: true})
  }
}
