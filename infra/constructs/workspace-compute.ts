import {
  type CfnElement,
  Duration,
  aws_ec2 as ec2,
  type aws_ecr as ecr,
  aws_ecs as ecs,
  aws_iam as iam,
  aws_logs as logs,
  RemovalPolicy,
  Stack,
  type aws_secretsmanager as secretsmanager,
  Validations,
} from 'aws-cdk-lib'
import {Construct} from 'constructs'

import {EDITOR_PORT, TASK_TAGS, WORKSPACE_CONTAINER_NAME} from '../../src/core/deployment.js'
import type {CapacityProvider} from '../../src/core/models.js'

export const WORKSPACE_TASK_FAMILY = 'devflow-workspace'

/** The image the task definition runs: a pushed digest wins over a tag. */
export type WorkspaceImage = {readonly digest: string} | {readonly tag: string}

export interface WorkspaceComputeProps {
  readonly vpc: ec2.IVpc
  readonly securityGroup: ec2.ISecurityGroup
  /** The subnets' kind (workspace tasks are placed by RunTask with the API's subnet list). */
  readonly subnetType: ec2.SubnetType
  readonly repository: ecr.IRepository
  readonly image: WorkspaceImage
  readonly claudeApiKey: secretsmanager.ISecret
  /** The cluster's default capacity provider: FARGATE_SPOT or FARGATE. */
  readonly capacity: CapacityProvider
  /** @default 1024 */
  readonly cpu?: number
  /** @default 4096 */
  readonly memoryMiB?: number
  readonly logRetention: logs.RetentionDays
}

/**
 * Seed I-8 and I-10: the ECS cluster (Fargate and Fargate Spot, Container Insights), the
 * code-server task definition and its two roles. The warm pool is not an ECS service: the pool
 * keeper (src/core/services/warm-pool.ts) runs its tasks with RunTask, so a start can take one over.
 *
 * The task role deliberately holds nothing but what ECS Exec needs (the ssmmessages channel and
 * appending to its own log group): whatever the agent runs in its shell must not reach the tables,
 * queues or secrets of other sessions.
 */
export class WorkspaceCompute extends Construct {
  readonly cluster: ecs.Cluster
  readonly taskDefinition: ecs.FargateTaskDefinition
  readonly executionRole: iam.Role
  readonly taskRole: iam.Role
  readonly logGroup: logs.LogGroup
  /** ECS Exec session logs, written by the SSM agent in the task. */
  readonly execLogGroup: logs.LogGroup
  readonly container: ecs.ContainerDefinition

  constructor(scope: Construct, id: string, props: WorkspaceComputeProps) {
    super(scope, id)
    this.logGroup = new logs.LogGroup(this, 'Logs', {retention: props.logRetention, removalPolicy: RemovalPolicy.DESTROY})
    this.execLogGroup = new logs.LogGroup(this, 'ExecLogs', {retention: props.logRetention, removalPolicy: RemovalPolicy.DESTROY})
    this.cluster = new ecs.Cluster(this, 'Cluster', {
      vpc: props.vpc,
      enableFargateCapacityProviders: true,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
      // What anyone types in a workspace over ECS Exec (`session open`'s channel) is kept.
      executeCommandConfiguration: {logging: ecs.ExecuteCommandLogging.OVERRIDE, logConfiguration: {cloudWatchLogGroup: this.execLogGroup}},
    })
    this.cluster.addDefaultCapacityProviderStrategy(capacityStrategy(props.capacity))

    this.executionRole = new iam.Role(this, 'ExecutionRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'DevFlow workspace task execution: pull the image, write logs, read the Claude API key',
    })
    this.taskRole = new iam.Role(this, 'TaskRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'DevFlow workspace task: ECS Exec channel only, no data access',
    })
    this.taskRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ['ssmmessages:CreateControlChannel', 'ssmmessages:CreateDataChannel', 'ssmmessages:OpenControlChannel', 'ssmmessages:OpenDataChannel'],
        resources: ['*'],
      }),
    )
    // ECS Exec logging: the SSM agent appends the session's output to the exec log group.
    this.taskRole.addToPolicy(new iam.PolicyStatement({actions: ['logs:DescribeLogGroups'], resources: ['*']}))
    this.taskRole.addToPolicy(
      new iam.PolicyStatement({actions: ['logs:CreateLogStream', 'logs:DescribeLogStreams', 'logs:PutLogEvents'], resources: [`${this.execLogGroup.logGroupArn}`]}),
    )
    const execLogs = `<${Stack.of(this).getLogicalId(this.execLogGroup.node.defaultChild as CfnElement)}>`
    Validations.of(this.taskRole).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'The ssmmessages actions ECS Exec needs, and logs:DescribeLogGroups its logging checks, support no resource-level permissions.',
      },
      {
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:${execLogs}:*]`,
        reason: 'The log streams of the ECS Exec log group only.',
      },
    )

    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'TaskDefinition', {
      family: WORKSPACE_TASK_FAMILY,
      cpu: props.cpu ?? 1024,
      memoryLimitMiB: props.memoryMiB ?? 4096,
      executionRole: this.executionRole,
      taskRole: this.taskRole,
      runtimePlatform: {cpuArchitecture: ecs.CpuArchitecture.X86_64, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX},
    })
    const image = 'digest' in props.image ? props.image.digest : props.image.tag
    this.container = this.taskDefinition.addContainer('Workspace', {
      containerName: WORKSPACE_CONTAINER_NAME,
      image: ecs.ContainerImage.fromEcrRepository(props.repository, image),
      // Also at container level: moto_server's RunTask fails without it.
      memoryLimitMiB: props.memoryMiB ?? 4096,
      essential: true,
      portMappings: [{containerPort: EDITOR_PORT, protocol: ecs.Protocol.TCP, name: 'editor'}],
      healthCheck: {
        command: ['CMD-SHELL', `curl -fsS http://localhost:${EDITOR_PORT}/healthz || exit 1`],
        interval: Duration.seconds(30),
        timeout: Duration.seconds(5),
        retries: 3,
        startPeriod: Duration.seconds(120),
      },
      logging: ecs.LogDrivers.awsLogs({logGroup: this.logGroup, streamPrefix: 'workspace'}),
      secrets: {ANTHROPIC_API_KEY: ecs.Secret.fromSecretsManager(props.claudeApiKey)},
      linuxParameters: new ecs.LinuxParameters(this, 'LinuxParameters', {initProcessEnabled: true}),
      // The agent gets time to push its branch when a session stops.
      stopTimeout: Duration.seconds(120),
    })
    Validations.of(this.taskDefinition).acknowledge({
      id: 'AwsSolutions-ECS2',
      reason: 'The environment holds no secret values: the Claude key comes from Secrets Manager as an ECS secret.',
    })
    Validations.of(this.executionRole).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'ecr:GetAuthorizationToken supports no resource-level permissions; the pull actions are scoped to the repository.',
    })
  }

  /**
   * What `devflow image push` needs to point the workspace family at a new image: DescribeTaskDefinition
   * (which has no resource-level permissions), RegisterTaskDefinition of this family with its tags,
   * passing the two roles again.
   */
  grantRegisterWorkspaceRevisions(grantee: iam.IGrantable): void {
    const stack = Stack.of(this)
    const family = stack.formatArn({service: 'ecs', resource: 'task-definition', resourceName: `${WORKSPACE_TASK_FAMILY}:*`})
    const principal = grantee.grantPrincipal
    principal.addToPrincipalPolicy(new iam.PolicyStatement({actions: ['ecs:DescribeTaskDefinition'], resources: ['*']}))
    principal.addToPrincipalPolicy(new iam.PolicyStatement({actions: ['ecs:RegisterTaskDefinition'], resources: [family]}))
    principal.addToPrincipalPolicy(
      new iam.PolicyStatement({actions: ['ecs:TagResource'], resources: [family], conditions: {StringEquals: {'ecs:CreateAction': 'RegisterTaskDefinition'}}}),
    )
    principal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [this.executionRole.roleArn, this.taskRole.roleArn],
        conditions: {StringEquals: {'iam:PassedToService': 'ecs-tasks.amazonaws.com'}},
      }),
    )
    if (grantee instanceof Construct) {
      Validations.of(grantee).acknowledge(
        {id: 'AwsSolutions-IAM5[Resource::*]', reason: 'ecs:DescribeTaskDefinition and ecr:GetAuthorizationToken support no resource-level permissions.'},
        {
          id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecs:<AWS::Region>:<AWS::AccountId>:task-definition/${WORKSPACE_TASK_FAMILY}:*]`,
          reason: 'Every revision of the workspace task family: image push registers the next one.',
        },
      )
    }
  }

  /**
   * RunTask, StopTask and DescribeTasks on this cluster's workspace tasks, passing the two roles,
   * and DescribeClusters on the cluster (the API's health check).
   */
  grantRunAndStopTasks(grantee: iam.IGrantable): void {
    const stack = Stack.of(this)
    const taskArns = stack.formatArn({service: 'ecs', resource: 'task', resourceName: `${this.cluster.clusterName}/*`})
    const onThisCluster = {ArnEquals: {'ecs:cluster': this.cluster.clusterArn}}
    const principal = grantee.grantPrincipal
    principal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['ecs:RunTask'],
        resources: [stack.formatArn({service: 'ecs', resource: 'task-definition', resourceName: `${WORKSPACE_TASK_FAMILY}:*`})],
        conditions: onThisCluster,
      }),
    )
    principal.addToPrincipalPolicy(new iam.PolicyStatement({actions: ['ecs:StopTask', 'ecs:DescribeTasks'], resources: [taskArns], conditions: onThisCluster}))
    principal.addToPrincipalPolicy(new iam.PolicyStatement({actions: ['ecs:DescribeClusters'], resources: [this.cluster.clusterArn]}))
    principal.addToPrincipalPolicy(
      new iam.PolicyStatement({actions: ['ecs:TagResource'], resources: [taskArns], conditions: {StringEquals: {'ecs:CreateAction': 'RunTask'}}}),
    )
    // A warm task taken by a session is tagged with its owner and session (EcsTaskRuntime.adopt): those two tags only.
    principal.addToPrincipalPolicy(
      new iam.PolicyStatement({actions: ['ecs:TagResource'], resources: [taskArns], conditions: {'ForAllValues:StringEquals': {'aws:TagKeys': [TASK_TAGS.owner, TASK_TAGS.session]}}}),
    )
    principal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [this.executionRole.roleArn, this.taskRole.roleArn],
        conditions: {StringEquals: {'iam:PassedToService': 'ecs-tasks.amazonaws.com'}},
      }),
    )
    if (grantee instanceof Construct) {
      const cluster = `<${stack.getLogicalId(this.cluster.node.defaultChild as CfnElement)}>`
      Validations.of(grantee).acknowledge(
        {
          id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecs:<AWS::Region>:<AWS::AccountId>:task-definition/${WORKSPACE_TASK_FAMILY}:*]`,
          reason: 'Every revision of the workspace task family, and only on this cluster (ecs:cluster condition).',
        },
        {
          id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecs:<AWS::Region>:<AWS::AccountId>:task/${cluster}/*]`,
          reason: 'Task IDs are only known after RunTask; the ARNs are limited to this cluster.',
        },
      )
    }
  }
}

/** The cluster's default strategy; falling back from Spot to on-demand is the API's job (LAMBDA_ENV.capacity). */
export function capacityStrategy(capacity: CapacityProvider): ecs.CapacityProviderStrategy[] {
  return [{capacityProvider: capacity, weight: 1}]
}
