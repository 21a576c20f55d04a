/**
 * An SSM port forward to a port inside an ECS task, as `aws ssm start-session --document-name
 * AWS-StartPortForwardingSession --target ecs:<cluster>_<taskId>_<runtimeId>` does it: ECS
 * DescribeTasks gives the container's runtime id, SSM StartSession opens the session, and
 * `session-manager-plugin` (AWS's own binary) carries the traffic, started with the same arguments
 * the AWS CLI passes it.
 */
import {spawn} from 'node:child_process'
import {access, constants} from 'node:fs/promises'
import {delimiter, join} from 'node:path'

import {DescribeTasksCommand, ECSClient} from '@aws-sdk/client-ecs'
import {SSMClient, StartSessionCommand, type StartSessionCommandInput} from '@aws-sdk/client-ssm'

import {conflict, invalidInput, remoteFailure} from '../../core/errors.js'
import {type AwsEnvironment, awsClientConfig, requireRegion} from './environment.js'
import {toDevflowError} from './sdk-errors.js'

export const SESSION_MANAGER_PLUGIN = 'session-manager-plugin'
export const PLUGIN_INSTALL_URL = 'https://docs.aws.amazon.com/systems-manager/latest/userguide/session-manager-working-with-install-plugin.html'
const PORT_FORWARD_DOCUMENT = 'AWS-StartPortForwardingSession'

export interface TaskContainer {
  readonly cluster: string
  readonly taskArn: string
  readonly taskId: string
  readonly container: string
}

export interface PortForwardSession {
  /** The plugin's command line, in the AWS CLI's order. */
  readonly pluginArgs: string[]
  readonly sessionId: string
}

/** The plugin's path on PATH, or a clear error with the install instructions. */
export async function findSessionManagerPlugin(path = process.env.PATH ?? ''): Promise<string> {
  for (const directory of path.split(delimiter).filter(Boolean)) {
    const candidate = join(directory, SESSION_MANAGER_PLUGIN)
    try {
      await access(candidate, constants.X_OK)
      return candidate
    } catch {
      // not in this directory
    }
  }
  throw invalidInput(
    'SSM_PLUGIN_MISSING',
    `${SESSION_MANAGER_PLUGIN} is not installed (it is not on PATH); \`devflow session open\` needs it to forward the editor's port.`,
    `Install AWS's Session Manager plugin (${PLUGIN_INSTALL_URL}), check it with \`${SESSION_MANAGER_PLUGIN} --version\`, then run the command again.`,
  )
}

/** Opens the SSM session that forwards `localPort` to `remotePort` in the task's container. */
export async function startPortForwardSession(env: AwsEnvironment, target: TaskContainer, remotePort: number, localPort: number): Promise<PortForwardSession> {
  const region = requireRegion(env)
  const config = {...(await awsClientConfig(env, {maxAttempts: 2})), region}
  const runtimeId = await containerRuntimeId(config, target)
  const request: StartSessionCommandInput = {
    Target: `ecs:${target.cluster}_${target.taskId}_${runtimeId}`,
    DocumentName: PORT_FORWARD_DOCUMENT,
    Parameters: {portNumber: [String(remotePort)], localPortNumber: [String(localPort)]},
  }
  const ssm = new SSMClient(config)
  try {
    const response = await ssm.send(new StartSessionCommand(request))
    if (!response.SessionId || !response.StreamUrl || !response.TokenValue) {
      throw remoteFailure('SSM_BAD_RESPONSE', 'SSM StartSession answered without a session.', 'Try again; check that ECS Exec is enabled for the workspace task.')
    }
    const session = {SessionId: response.SessionId, TokenValue: response.TokenValue, StreamUrl: response.StreamUrl}
    return {
      sessionId: response.SessionId,
      pluginArgs: [JSON.stringify(session), region, 'StartSession', env.profile ?? '', JSON.stringify(request), ssmEndpoint(region)],
    }
  } catch (error) {
    throw toDevflowError(error, 'SSM StartSession') ?? error
  } finally {
    ssm.destroy()
  }
}

/** Runs the plugin in the foreground with the terminal attached; resolves with its exit code. */
export function runSessionManagerPlugin(pluginPath: string, args: readonly string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(pluginPath, args, {stdio: ['inherit', 'inherit', 'inherit']})
    const forward = (signal: NodeJS.Signals) => () => child.kill(signal)
    const onInt = forward('SIGINT')
    const onTerm = forward('SIGTERM')
    process.on('SIGINT', onInt).on('SIGTERM', onTerm)
    const done = () => process.off('SIGINT', onInt).off('SIGTERM', onTerm)
    child.on('error', (error) => {
      done()
      reject(error)
    })
    child.on('exit', (code, signal) => {
      done()
      resolve(code ?? (signal === 'SIGINT' ? 0 : 1))
    })
  })
}

function ssmEndpoint(region: string): string {
  return process.env.AWS_ENDPOINT_URL_SSM || process.env.AWS_ENDPOINT_URL || `https://ssm.${region}.amazonaws.com`
}

async function containerRuntimeId(config: Awaited<ReturnType<typeof awsClientConfig>>, target: TaskContainer): Promise<string> {
  const ecs = new ECSClient(config)
  try {
    const out = await ecs.send(new DescribeTasksCommand({cluster: target.cluster, tasks: [target.taskArn]}))
    const task = out.tasks?.[0]
    if (!task) throw conflict('TASK_NOT_FOUND', `The workspace task ${target.taskId} no longer exists.`, 'Check the session with `devflow session status <id>`; start a new one if it ended.')
    const runtimeId = task.containers?.find((c) => c.name === target.container)?.runtimeId
    if (!runtimeId) {
      throw conflict(
        'EDITOR_NOT_REACHABLE',
        `ECS reports no runtime id for the ${target.container} container of task ${target.taskId}, so no port can be forwarded to it yet.`,
        'Wait until the session is RUNNING (`devflow session status <id> --watch`) and try again.',
      )
    }
    return runtimeId
  } catch (error) {
    throw toDevflowError(error, 'ECS DescribeTasks') ?? error
  } finally {
    ecs.destroy()
  }
}

/** The whole forward, in the order that fails early: the plugin on PATH, then the SSM session. */
export async function forwardTaskPort(env: AwsEnvironment, target: TaskContainer, remotePort: number, localPort: number): Promise<{ssmSessionId: string; run(): Promise<number>}> {
  const plugin = await findSessionManagerPlugin()
  const session = await startPortForwardSession(env, target, remotePort, localPort)
  return {ssmSessionId: session.sessionId, run: () => runSessionManagerPlugin(plugin, session.pluginArgs)}
}
