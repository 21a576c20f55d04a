/**
 * Points the workspace task definition family at a new image: DescribeTaskDefinition, then
 * RegisterTaskDefinition of the same family with the workspace container's image replaced. The
 * control plane starts tasks by family, so the next session runs the new image without a redeploy.
 */
import {
  DescribeTaskDefinitionCommand,
  ECSClient,
  type RegisterTaskDefinitionCommandInput,
  RegisterTaskDefinitionCommand,
  type Tag,
  type TaskDefinition,
} from '@aws-sdk/client-ecs'

import {notFound} from '../../core/errors.js'
import {type AwsEnvironment, awsClientConfig} from './environment.js'
import {toDevflowError} from './sdk-errors.js'

export interface TaskDefinitionRevision {
  readonly arn: string
  readonly family: string
  readonly revision: number
}

/** The fields RegisterTaskDefinition accepts, copied from a described revision. */
function registrationOf(definition: TaskDefinition, tags: Tag[] | undefined): RegisterTaskDefinitionCommandInput {
  return {
    family: definition.family,
    taskRoleArn: definition.taskRoleArn,
    executionRoleArn: definition.executionRoleArn,
    networkMode: definition.networkMode,
    containerDefinitions: definition.containerDefinitions,
    volumes: definition.volumes,
    placementConstraints: definition.placementConstraints,
    requiresCompatibilities: definition.requiresCompatibilities,
    cpu: definition.cpu,
    memory: definition.memory,
    pidMode: definition.pidMode,
    ipcMode: definition.ipcMode,
    proxyConfiguration: definition.proxyConfiguration,
    inferenceAccelerators: definition.inferenceAccelerators,
    ephemeralStorage: definition.ephemeralStorage,
    runtimePlatform: definition.runtimePlatform,
    tags: tags && tags.length > 0 ? tags : undefined,
  }
}

/** The task definition family `image push` points at a new image, over one ECS client. */
export class EcsTaskDefinitions {
  private constructor(private readonly client: ECSClient) {}

  static async open(env: AwsEnvironment): Promise<EcsTaskDefinitions> {
    return new EcsTaskDefinitions(new ECSClient(await awsClientConfig(env)))
  }

  async registerWithImage(taskDefinition: string, containerName: string, image: string): Promise<TaskDefinitionRevision> {
    try {
      const described = await this.client.send(new DescribeTaskDefinitionCommand({taskDefinition, include: ['TAGS']}))
      const definition = described.taskDefinition
      const containers = definition?.containerDefinitions ?? []
      if (!definition || !containers.some((c) => c.name === containerName)) {
        throw notFound(
          'WORKSPACE_CONTAINER_NOT_FOUND',
          `The task definition ${taskDefinition} has no container named "${containerName}".`,
          'Run `devflow deploy` to bring the stack up to date, then push again.',
        )
      }
      const registration = registrationOf(definition, described.tags)
      registration.containerDefinitions = containers.map((c) => (c.name === containerName ? {...c, image} : c))
      const out = await this.client.send(new RegisterTaskDefinitionCommand(registration))
      const registered = out.taskDefinition
      return {arn: registered?.taskDefinitionArn ?? '', family: registered?.family ?? '', revision: registered?.revision ?? 0}
    } catch (error) {
      throw toDevflowError(error, 'ECS task definition update') ?? error
    }
  }

  destroy(): void {
    this.client.destroy()
  }
}
