/**
 * `devflow doctor`: each check says PASS, WARN or FAIL with a hint. A FAIL carries the exit code
 * the command ends with (the first failure's); WARNs are for tools only some commands need.
 */
import {execa} from 'execa'

import {type AwsEnvironment} from '../adapters/aws/environment.js'
import {getCallerIdentity} from '../adapters/aws/identity.js'
import {type DevflowError, ExitCode, isDevflowError} from '../core/errors.js'
import {ConfigFile, configPath} from '../cli/config.js'

export type CheckStatus = 'PASS' | 'WARN' | 'FAIL'

export interface CheckResult {
  readonly name: string
  readonly status: CheckStatus
  readonly message: string
  readonly hint?: string
  readonly code?: string
  readonly details?: Record<string, unknown>
  /** For a FAIL: the exit code it stands for. */
  readonly exitCode?: number
}

export interface DoctorReport {
  readonly ok: boolean
  readonly checks: CheckResult[]
  /** The exit code: 0, or the first failed check's. */
  readonly exitCode: number
}

const MIN_NODE = [20, 19, 0]

export function checkNode(version = process.versions.node): CheckResult {
  const parts = version.split('.').map(Number)
  const ok = parts[0] > MIN_NODE[0] || (parts[0] === MIN_NODE[0] && parts[1] >= MIN_NODE[1])
  if (ok && parts[0] < 22) {
    return {name: 'node', status: 'WARN', message: `Node.js ${version} works; AWS SDK releases after January 2027 need Node.js 22.`, hint: 'Plan an upgrade to Node.js 22 LTS.', code: 'NODE_UPGRADE_SOON'}
  }
  return ok
    ? {name: 'node', status: 'PASS', message: `Node.js ${version}`}
    : {name: 'node', status: 'FAIL', message: `Node.js ${version} is older than ${MIN_NODE.join('.')}.`, hint: 'Install Node.js 20.19 or newer (https://nodejs.org).', code: 'NODE_TOO_OLD', exitCode: ExitCode.UNEXPECTED}
}

export async function checkConfig(path = configPath()): Promise<{result: CheckResult; config?: ConfigFile}> {
  try {
    const config = await ConfigFile.load(path)
    return {
      result: {name: 'config', status: 'PASS', message: config.exists ? `Config file ${path} is valid.` : `No config file yet (${path}); defaults apply.`},
      config,
    }
  } catch (error) {
    const e = error as DevflowError
    return {result: {name: 'config', status: 'FAIL', message: e.message, hint: e.hint, code: e.code, exitCode: e.exitCode}}
  }
}

export async function checkAwsIdentity(env: AwsEnvironment): Promise<CheckResult> {
  try {
    const identity = await getCallerIdentity(env)
    return {
      name: 'aws-credentials',
      status: 'PASS',
      message: `Signed in to account ${identity.account} as ${identity.arn}.`,
      details: {account: identity.account, arn: identity.arn, userId: identity.userId},
    }
  } catch (error) {
    if (!isDevflowError(error)) throw error
    return {name: 'aws-credentials', status: 'FAIL', message: error.message, hint: error.hint, code: error.code, exitCode: error.exitCode}
  }
}

export async function checkDocker(): Promise<CheckResult> {
  try {
    const {stdout} = await execa('docker', ['version', '--format', '{{.Server.Version}}'], {timeout: 8000})
    return {name: 'docker', status: 'PASS', message: `Docker engine ${stdout.trim()} is reachable.`}
  } catch (error) {
    const missing = (error as {code?: string}).code === 'ENOENT'
    return {
      name: 'docker',
      status: 'WARN',
      message: missing ? 'The docker command is not installed.' : 'No Docker engine answers.',
      hint: 'Only `devflow image build` needs Docker: install Docker and start its engine before building the workspace image.',
      code: missing ? 'DOCKER_MISSING' : 'DOCKER_ENGINE_DOWN',
    }
  }
}

export async function checkSessionManagerPlugin(): Promise<CheckResult> {
  try {
    const {stdout} = await execa('session-manager-plugin', ['--version'], {timeout: 8000})
    return {name: 'session-manager-plugin', status: 'PASS', message: `session-manager-plugin ${stdout.trim()}`}
  } catch {
    return {
      name: 'session-manager-plugin',
      status: 'WARN',
      message: 'session-manager-plugin is not on PATH.',
      hint: 'Only `devflow session open` needs it: https://docs.aws.amazon.com/systems-manager/latest/userguide/session-manager-working-with-install-plugin.html',
      code: 'SSM_PLUGIN_MISSING',
    }
  }
}

export function summarise(checks: CheckResult[]): DoctorReport {
  const failed = checks.find((c) => c.status === 'FAIL')
  return {ok: !failed, checks, exitCode: failed ? (failed.exitCode ?? ExitCode.UNEXPECTED) : ExitCode.OK}
}

/** @param github the stage's `devflow github status`, for a deployed stage (its check only warns) */
export async function runDoctor(env: AwsEnvironment, path = configPath(), github?: () => Promise<CheckResult>): Promise<DoctorReport> {
  const [config, identity, docker, plugin, webhooks] = await Promise.all([checkConfig(path), checkAwsIdentity(env), checkDocker(), checkSessionManagerPlugin(), github ? checkGithub(github) : undefined])
  return summarise([checkNode(), identity, docker, plugin, config.result, ...(webhooks ? [webhooks] : [])])
}

async function checkGithub(github: () => Promise<CheckResult>): Promise<CheckResult> {
  try {
    return await github()
  } catch (error) {
    if (!isDevflowError(error)) throw error
    return {name: 'github-webhooks', status: 'WARN', message: error.message, hint: error.hint, code: error.code}
  }
}
