/**
 * `devflow doctor`: each check says PASS, WARN or FAIL with a hint. A FAIL carries the exit code
 * the command ends with (the first failure's); WARNs are for tools only some commands need.
 */
import type {CallerIdentity} from '../adapters/aws/identity.js'
import {ToolMissingError} from '../adapters/host/tool-version.js'
import {type DevflowError, ExitCode, isDevflowError} from '../core/errors.js'
import type {ConfigFile} from '../cli/config.js'
import type {WarmPoolStatus} from '../core/warm-pool.js'

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

/** What doctor looks at, injected by the command. */
export interface DoctorProbes {
  readonly nodeVersion: string
  readonly configPath: string
  readonly loadConfig: (path: string) => Promise<ConfigFile>
  /** STS GetCallerIdentity; rejects with a DevflowError when the credentials do not work. */
  readonly callerIdentity: () => Promise<CallerIdentity>
  /** Each rejects with a ToolMissingError when the tool is not installed. */
  readonly dockerEngineVersion: () => Promise<string>
  readonly sessionManagerPluginVersion: () => Promise<string>
  /** `devflow github status` as a check (operations/github-status.ts), for a deployed stage; it only warns. */
  readonly githubWebhooks?: () => Promise<CheckResult>
  /** The stage's egress policy as a check (operations/egress-check.ts), when the stage has one. */
  readonly egress?: () => CheckResult
  /** The deployed stage's `GET /health` warm pool (its size, hits and misses); undefined when it keeps none. */
  readonly warmPool?: () => Promise<WarmPoolStatus | undefined>
}

const MIN_NODE = [20, 19, 0]

export function checkNode(version: string): CheckResult {
  const parts = version.split('.').map(Number)
  const ok = parts[0] > MIN_NODE[0] || (parts[0] === MIN_NODE[0] && parts[1] >= MIN_NODE[1])
  if (ok && parts[0] < 22) {
    return {name: 'node', status: 'WARN', message: `Node.js ${version} works; AWS SDK releases after January 2027 need Node.js 22.`, hint: 'Plan an upgrade to Node.js 22 LTS.', code: 'NODE_UPGRADE_SOON'}
  }
  return ok
    ? {name: 'node', status: 'PASS', message: `Node.js ${version}`}
    : {name: 'node', status: 'FAIL', message: `Node.js ${version} is older than ${MIN_NODE.join('.')}.`, hint: 'Install Node.js 20.19 or newer (https://nodejs.org).', code: 'NODE_TOO_OLD', exitCode: ExitCode.UNEXPECTED}
}

export async function checkConfig(path: string, load: DoctorProbes['loadConfig']): Promise<{result: CheckResult; config?: ConfigFile}> {
  try {
    const config = await load(path)
    return {
      result: {name: 'config', status: 'PASS', message: config.exists ? `Config file ${path} is valid.` : `No config file yet (${path}); defaults apply.`},
      config,
    }
  } catch (error) {
    const e = error as DevflowError
    return {result: {name: 'config', status: 'FAIL', message: e.message, hint: e.hint, code: e.code, exitCode: e.exitCode}}
  }
}

export async function checkAwsIdentity(callerIdentity: DoctorProbes['callerIdentity']): Promise<CheckResult> {
  try {
    const identity = await callerIdentity()
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

export async function checkDocker(engineVersion: DoctorProbes['dockerEngineVersion']): Promise<CheckResult> {
  try {
    return {name: 'docker', status: 'PASS', message: `Docker engine ${await engineVersion()} is reachable.`}
  } catch (error) {
    const missing = error instanceof ToolMissingError
    return {
      name: 'docker',
      status: 'WARN',
      message: missing ? 'The docker command is not installed.' : 'No Docker engine answers.',
      hint: 'Only `devflow image build` needs Docker: install Docker and start its engine before building the workspace image.',
      code: missing ? 'DOCKER_MISSING' : 'DOCKER_ENGINE_DOWN',
    }
  }
}

export async function checkSessionManagerPlugin(pluginVersion: DoctorProbes['sessionManagerPluginVersion']): Promise<CheckResult> {
  try {
    return {name: 'session-manager-plugin', status: 'PASS', message: `session-manager-plugin ${await pluginVersion()}`}
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

export async function runDoctor(probes: DoctorProbes): Promise<DoctorReport> {
  const [config, identity, docker, plugin, webhooks] = await Promise.all([
    checkConfig(probes.configPath, probes.loadConfig),
    checkAwsIdentity(probes.callerIdentity),
    checkDocker(probes.dockerEngineVersion),
    checkSessionManagerPlugin(probes.sessionManagerPluginVersion),
    probes.githubWebhooks ? checkGithub(probes.githubWebhooks) : undefined,
  ])
  const warm = probes.warmPool ? await checkWarmPool(probes.warmPool) : undefined
  const egress = probes.egress ? checkEgress(probes.egress) : undefined
  return summarise([checkNode(probes.nodeVersion), identity, docker, plugin, config.result, ...(webhooks ? [webhooks] : []), ...(warm ? [warm] : []), ...(egress ? [egress] : [])])
}

function checkEgress(egress: () => CheckResult): CheckResult {
  try {
    return egress()
  } catch (error) {
    if (!isDevflowError(error)) throw error
    return {name: 'egress', status: 'FAIL', message: error.message, hint: error.hint, code: error.code, exitCode: error.exitCode}
  }
}

/** The warm pool's size against its target, and how often starts found a warm task; it only warns. */
export async function checkWarmPool(read: () => Promise<WarmPoolStatus | undefined>): Promise<CheckResult | undefined> {
  let pool: WarmPoolStatus | undefined
  try {
    pool = await read()
  } catch (error) {
    if (!isDevflowError(error)) throw error
    return {name: 'warm-pool', status: 'WARN', message: `Could not read the warm pool: ${error.message}`, hint: error.hint, code: error.code}
  }
  if (!pool) return undefined
  const starts = pool.hits + pool.misses
  const rate = starts === 0 ? 'no starts yet' : `${Math.round((pool.hits / starts) * 100)}% hit rate`
  const message = `${pool.warm} of ${pool.target} warm (${pool.starting} starting) at ${pool.cpu} CPU / ${pool.memory} MiB; ${pool.hits} hits, ${pool.misses} misses (${rate})`
  const details = {...pool}
  if (pool.target > 0 && pool.warm + pool.starting === 0) {
    return {name: 'warm-pool', status: 'WARN', message, hint: 'The keeper runs no warm task: see the reaper\'s log (AWS) or server.log (local).', code: 'WARM_POOL_EMPTY', details}
  }
  return {name: 'warm-pool', status: 'PASS', message, details}
}

async function checkGithub(github: () => Promise<CheckResult>): Promise<CheckResult> {
  try {
    return await github()
  } catch (error) {
    if (!isDevflowError(error)) throw error
    return {name: 'github-webhooks', status: 'WARN', message: error.message, hint: error.hint, code: error.code}
  }
}
