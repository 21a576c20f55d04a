/**
 * TaskRuntime on ECS Fargate. The runtime talks to ECS through `EcsApi`, the four calls it makes,
 * so that faults moto cannot produce (Spot capacity, throttling) can be injected around the real
 * client in tests.
 */
import {
  DescribeClustersCommand,
  type DescribeClustersCommandInput,
  type DescribeClustersCommandOutput,
  DescribeTasksCommand,
  type DescribeTasksCommandInput,
  type DescribeTasksCommandOutput,
  type ECSClient,
  RunTaskCommand,
  type RunTaskCommandInput,
  type RunTaskCommandOutput,
  StopTaskCommand,
  type StopTaskCommandInput,
  type StopTaskCommandOutput,
  TagResourceCommand,
  type TagResourceCommandInput,
  type Task,
} from '@aws-sdk/client-ecs'

import {remoteFailure, unavailable} from '../../core/errors.js'
import type {CapacityProvider} from '../../core/models.js'
import {EDITOR_PORT, type Emulator, TASK_TAGS} from '../../core/deployment.js'
import type {TaskRuntime, TaskSpec, TaskState} from '../../core/ports.js'
import type {EditorAccess} from '../../core/session-api.js'
import {translate} from './dynamo-common.js'

export interface EcsApi {
  runTask(input: RunTaskCommandInput): Promise<RunTaskCommandOutput>
  describeTasks(input: DescribeTasksCommandInput): Promise<DescribeTasksCommandOutput>
  stopTask(input: StopTaskCommandInput): Promise<StopTaskCommandOutput>
  describeClusters(input: DescribeClustersCommandInput): Promise<DescribeClustersCommandOutput>
  /** The warm pool's hand-over (adopt); an EcsApi without it leaves a warm task's tags as they were. */
  tagResource?(input: TagResourceCommandInput): Promise<unknown>
}

export function ecsApi(client: ECSClient): EcsApi {
  return {
    runTask: (input) => client.send(new RunTaskCommand(input)),
    describeTasks: (input) => client.send(new DescribeTasksCommand(input)),
    stopTask: (input) => client.send(new StopTaskCommand(input)),
    describeClusters: (input) => client.send(new DescribeClustersCommand(input)),
    tagResource: (input) => client.send(new TagResourceCommand(input)),
  }
}

export interface EcsRuntimeConfig {
  readonly cluster: string
  readonly taskDefinition: string
  readonly containerName: string
  readonly subnets: readonly string[]
  readonly securityGroups: readonly string[]
  /** Public subnets without a NAT gateway need a public IP to reach GitHub. */
  readonly assignPublicIp?: boolean
  /**
   * moto: its RunTask fails on any capacity provider strategy, so every task is placed with the
   * FARGATE launch type and the session records the capacity it would have used.
   */
  readonly emulator?: Emulator
}

/** How ECS reports a placement that found no capacity (RunTask `failures[].reason`). */
const CAPACITY_REASONS = [/capacity is unavailable/i, /^RESOURCE:/]

export class EcsTaskRuntime implements TaskRuntime {
  constructor(
    private readonly ecs: EcsApi,
    private readonly config: EcsRuntimeConfig,
  ) {}

  /** Through an SSM port forward into the task (ECS Exec), to code-server's port. */
  async editorAccess(taskArn: string): Promise<EditorAccess> {
    return {kind: 'ssm', cluster: this.config.cluster, taskArn, taskId: taskArn.split('/').at(-1) ?? taskArn, container: this.config.containerName, port: EDITOR_PORT}
  }

  async run(spec: TaskSpec): Promise<{taskArn: string; capacity: CapacityProvider}> {
    const placement: Partial<RunTaskCommandInput> =
      spec.capacity === 'FARGATE_SPOT' && this.config.emulator === undefined
        ? {capacityProviderStrategy: [{capacityProvider: 'FARGATE_SPOT', weight: 1}]}
        : {launchType: 'FARGATE'}
    let out: RunTaskCommandOutput
    try {
      out = await this.ecs.runTask({
        cluster: this.config.cluster,
        taskDefinition: taskDefinitionFamily(this.config.taskDefinition),
        count: 1,
        ...placement,
        startedBy: spec.sessionId,
        clientToken: `${spec.sessionId}-${spec.capacity}`,
        enableExecuteCommand: true,
        networkConfiguration: {
          awsvpcConfiguration: {
            subnets: [...this.config.subnets],
            securityGroups: [...this.config.securityGroups],
            assignPublicIp: this.config.assignPublicIp ? 'ENABLED' : 'DISABLED',
          },
        },
        // The one container gets the whole task: its hard limit follows the session's size.
        overrides: {
          cpu: String(spec.cpu),
          memory: String(spec.memory),
          containerOverrides: [
            {
              name: this.config.containerName,
              cpu: spec.cpu,
              memory: spec.memory,
              memoryReservation: spec.memory,
              environment: Object.entries(spec.environment).map(([name, value]) => ({name, value})),
            },
          ],
        },
        tags: [
          {key: TASK_TAGS.owner, value: tagValue(spec.owner)},
          {key: TASK_TAGS.session, value: spec.sessionId},
        ],
        // The stack's tags on the task definition (app, stage) land on the task too.
        propagateTags: 'TASK_DEFINITION',
      })
    } catch (error) {
      translate(error, 'ECS RunTask')
    }
    const task = out.tasks?.[0]
    if (task?.taskArn) return {taskArn: task.taskArn, capacity: spec.capacity}
    const reason = out.failures?.map((f) => f.reason ?? f.detail).filter(Boolean).join('; ') || 'ECS started no task'
    if (CAPACITY_REASONS.some((pattern) => pattern.test(reason))) {
      throw unavailable('CAPACITY_UNAVAILABLE', `${spec.capacity} has no capacity for the workspace: ${reason}.`, 'Try again in a few minutes, or start the session on FARGATE.')
    }
    throw remoteFailure('TASK_START_FAILED', `ECS did not start the workspace task: ${reason}.`, 'Check the cluster, the task definition and the subnets with `devflow doctor`, then try again.')
  }

  async describe(taskArn: string): Promise<TaskState | undefined> {
    let out: DescribeTasksCommandOutput
    try {
      out = await this.ecs.describeTasks({cluster: this.config.cluster, tasks: [taskArn]})
    } catch (error) {
      translate(error, 'ECS DescribeTasks')
    }
    const task = out.tasks?.[0]
    return task ? this.toState(task) : undefined
  }

  async stop(taskArn: string, reason: string): Promise<void> {
    try {
      await this.ecs.stopTask({cluster: this.config.cluster, task: taskArn, reason: reason.slice(0, 255)})
    } catch (error) {
      // A task ECS no longer knows is as stopped as it gets.
      const name = (error as {name?: string})?.name
      if (name === 'InvalidParameterException' || name === 'ResourceNotFoundException') return
      translate(error, 'ECS StopTask')
    }
  }

  /** A warm task now serves a session: the owner and session tags that scope developers' ECS access follow it. */
  async adopt(taskArn: string, session: {sessionId: string; owner: string}): Promise<void> {
    if (!this.ecs.tagResource) return
    try {
      await this.ecs.tagResource({
        resourceArn: taskArn,
        tags: [
          {key: TASK_TAGS.owner, value: tagValue(session.owner)},
          {key: TASK_TAGS.session, value: session.sessionId},
        ],
      })
    } catch (error) {
      translate(error, 'ECS TagResource')
    }
  }

  async ping(): Promise<void> {
    let out: DescribeClustersCommandOutput
    try {
      out = await this.ecs.describeClusters({clusters: [this.config.cluster]})
    } catch (error) {
      translate(error, 'ECS DescribeClusters')
    }
    const cluster = out.clusters?.[0]
    if (cluster?.status !== 'ACTIVE') {
      throw remoteFailure('CLUSTER_UNAVAILABLE', `The ECS cluster ${this.config.cluster} is not active.`, 'Redeploy with `devflow deploy`.')
    }
  }

  private toState(task: Task): TaskState {
    const container = task.containers?.find((c) => c.name === this.config.containerName)
    const privateIp = task.attachments?.flatMap((a) => a.details ?? []).find((d) => d.name === 'privateIPv4Address')?.value
    return {
      taskArn: task.taskArn ?? '',
      lastStatus: task.lastStatus ?? 'PROVISIONING',
      ...(task.desiredStatus ? {desiredStatus: task.desiredStatus} : {}),
      ...(task.stopCode ? {stopCode: task.stopCode} : {}),
      ...(task.stoppedReason ? {stoppedReason: task.stoppedReason} : {}),
      ...(container?.exitCode === undefined ? {} : {exitCode: container.exitCode}),
      ...(privateIp ? {privateIp} : {}),
      ...(task.startedAt ? {startedAt: task.startedAt.toISOString()} : {}),
      ...(task.stoppedAt ? {stoppedAt: task.stoppedAt.toISOString()} : {}),
    }
  }
}

/**
 * Runs go to the family, not a pinned revision: `devflow image push` registers a new revision with
 * the pushed digest, and new sessions must pick it up without a redeploy. ECS resolves a family to
 * its latest ACTIVE revision.
 */
export function taskDefinitionFamily(arnOrFamily: string): string {
  const fromArn = /:task-definition\/([^:/]+)(?::\d+)?$/.exec(arnOrFamily)
  if (fromArn) return fromArn[1]
  return arnOrFamily.replace(/:\d+$/, '')
}

/** ECS tag values allow letters, digits, spaces and `_ . : / = + - @`, up to 256 characters. */
export function tagValue(value: string): string {
  return value.replace(/[^\p{L}\p{Z}\p{N}_.:/=+\-@]/gu, '_').slice(0, 256)
}
