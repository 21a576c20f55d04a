/**
 * The one base command: global flags, settings resolution, output and the error boundary.
 *
 * A command's `run()` returns the data that `--json` prints; it renders human output only when
 * `!this.jsonEnabled()`. Every error, whatever its origin, ends in `catch()` below, which prints
 * `Error: ... / Try this: ...` on stderr (or the JSON error document on stdout under `--json`) and
 * sets the exit code from the table in src/core/errors.ts.
 */
import {Command, Errors, Flags, Interfaces} from '@oclif/core'

import {DevflowError, ExitCode, internalError, invalidInput, isDevflowError} from '../core/errors.js'
import type {AwsEnvironment} from '../adapters/aws/environment.js'
import {toDevflowError as awsToDevflowError} from '../adapters/aws/sdk-errors.js'
import {ConfigFile, configPath, resolveSettings, type ResolvedSetting} from './config.js'
import {Terminal, writeJson} from './output.js'

export type GlobalFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof BaseCommand)['baseFlags'] & T['flags']>
export type CommandArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>

export abstract class BaseCommand<T extends typeof Command> extends Command {
  static enableJsonFlag = true

  static baseFlags = {
    profile: Flags.string({description: 'AWS profile to use [env: DEVFLOW_PROFILE]', helpGroup: 'GLOBAL'}),
    region: Flags.string({description: 'AWS region [env: DEVFLOW_REGION]', helpGroup: 'GLOBAL'}),
    stage: Flags.string({description: 'deployment stage, e.g. dev, prod, local [env: DEVFLOW_STAGE]', helpGroup: 'GLOBAL'}),
    endpoint: Flags.string({description: 'DevFlow API URL [env: DEVFLOW_ENDPOINT]', helpGroup: 'GLOBAL'}),
    admin: Flags.boolean({description: 'call ECS and DynamoDB directly with your AWS credentials (operators)', helpGroup: 'GLOBAL'}),
    yes: Flags.boolean({char: 'y', description: 'answer yes to confirmations (required when not interactive)', helpGroup: 'GLOBAL'}),
  }

  protected flags!: GlobalFlags<T>
  protected args!: CommandArgs<T>
  protected terminal!: Terminal
  private loadedConfig?: ConfigFile
  private resolved?: Record<string, ResolvedSetting>

  public override async init(): Promise<void> {
    await super.init()
    this.terminal = new Terminal({json: this.jsonEnabled()})
    const {flags, args} = await this.parse({
      flags: this.ctor.flags,
      baseFlags: (this.ctor as typeof BaseCommand).baseFlags,
      enableJsonFlag: this.ctor.enableJsonFlag,
      args: this.ctor.args,
      strict: this.ctor.strict,
    })
    this.flags = flags as GlobalFlags<T>
    this.args = args as CommandArgs<T>
  }

  /** The config file, loaded once per command. */
  protected async configFile(): Promise<ConfigFile> {
    this.loadedConfig ??= await ConfigFile.load(configPath(process.env))
    return this.loadedConfig
  }

  /** Every setting with its value and where it came from. */
  protected async settings(): Promise<Record<string, ResolvedSetting>> {
    if (!this.resolved) {
      const config = await this.configFile()
      const {profile, region, stage, endpoint} = this.flags as {profile?: string; region?: string; stage?: string; endpoint?: string}
      this.resolved = resolveSettings(config, {profile, region, stage, endpoint}, process.env)
    }
    return this.resolved
  }

  protected async setting(key: string): Promise<string | undefined> {
    return (await this.settings())[key]?.value
  }

  protected async stage(): Promise<string> {
    return (await this.setting('stage')) ?? 'dev'
  }

  /** Region, profile and endpoint for the AWS adapters (AWS_ENDPOINT_URL is honoured by the SDK). */
  protected async awsEnvironment(): Promise<AwsEnvironment> {
    return {region: await this.setting('region'), profile: await this.setting('profile')}
  }

  /** Whether the command may ask the user anything: never under --json or without a TTY on stdin. */
  protected canPrompt(): boolean {
    return !this.jsonEnabled() && Boolean(process.stdin.isTTY) && process.env.CI !== 'true'
  }

  /** Asks for a yes/no confirmation, or requires --yes when it cannot ask. */
  protected async confirm(question: string, hintWhenNotInteractive: string): Promise<boolean> {
    if ((this.flags as {yes?: boolean}).yes) return true
    if (!this.canPrompt()) {
      throw invalidInput('CONFIRMATION_REQUIRED', `${question} needs a confirmation, and this is not an interactive terminal.`, hintWhenNotInteractive)
    }
    const {confirm} = await import('@inquirer/prompts')
    return confirm({message: question, default: false}, {output: process.stderr})
  }

  /** Under --json: one document on stdout, compact unless stdout is a terminal. */
  public override logJson(json: unknown): void {
    writeJson(json)
  }

  protected override async catch(error: Error & {exitCode?: number}): Promise<void> {
    if (error instanceof Errors.ExitError) throw error
    const devflowError = toDevflowError(error)
    process.exitCode = devflowError.exitCode
    this.terminal?.stopProgress()
    if (this.jsonEnabled()) {
      writeJson(devflowError.toJSON())
    } else {
      process.stderr.write(`${formatError(devflowError)}\n`)
      if (process.env.DEVFLOW_DEBUG && error.stack) process.stderr.write(`${error.stack}\n`)
    }
  }
}

export function formatError(error: DevflowError): string {
  return `Error: ${error.message}\nTry this: ${error.hint}`
}

/** Any thrown value -> a DevflowError, at the CLI's boundary: what an adapter did not translate, and oclif's usage errors. */
export function toDevflowError(error: unknown): DevflowError {
  if (isDevflowError(error)) return error
  const awsError = awsToDevflowError(error)
  if (awsError) return awsError
  if (error instanceof Errors.CLIError) {
    const message = error.message
      .replace(/\s*See more help with --help\s*$/, '')
      .split('\n')
      .map((line) => line.trim())
      .filter(Boolean)
      .join(' ')
    return invalidInput('USAGE', message, 'Run the command with --help to see its arguments and flags.', {cause: error})
  }
  const message = error instanceof Error ? error.message : String(error)
  return internalError('UNEXPECTED', `Unexpected error: ${message}`, 'Run again with DEVFLOW_DEBUG=1 for the stack trace, and report it if it persists.', {
    cause: error,
  })
}

export {ExitCode}
