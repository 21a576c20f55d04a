import {type aws_apigateway as apigateway, type CfnElement, aws_iam as iam, Stack, Validations} from 'aws-cdk-lib'
import {Construct} from 'constructs'

import type {SessionData} from './data.js'
import type {PlatformSecrets} from './secrets.js'
import type {WorkspaceCompute} from './workspace-compute.js'

export interface AccessRolesProps {
  readonly stageName: string
  readonly data: SessionData
  readonly compute: WorkspaceCompute
  readonly secrets: PlatformSecrets
  readonly api: apigateway.RestApi
}

/**
 * The two roles people assume to use a stage, trusted by the account (an administrator decides who
 * may assume them):
 *  - `devflow-<stage>-operator`: admin mode (`--admin`): the items and tasks the control plane
 *    itself touches, and reading the GitHub App and page-token secrets; and, as a stage admin
 *    (core/admins.ts), `GET /admin/sessions` through the API.
 *  - `devflow-<stage>-developer`: the session commands in API mode: invoking the API's user routes,
 *    reading the stack's outputs, and `session open`'s ECS Exec port forward.
 * The tests hold every call the CLI makes in admin mode to the operator role's statements.
 */
export class AccessRoles extends Construct {
  readonly operator: iam.Role
  readonly developer: iam.Role

  constructor(scope: Construct, id: string, props: AccessRolesProps) {
    super(scope, id)
    const stack = Stack.of(this)
    const account = new iam.AccountRootPrincipal()
    this.operator = new iam.Role(this, 'Operator', {
      roleName: `devflow-${props.stageName}-operator`,
      assumedBy: account,
      description: 'DevFlow operators: session commands with --admin (every user\'s sessions)',
    })
    props.data.grantItemAccess(this.operator)
    props.compute.grantRunAndStopTasks(this.operator)
    props.secrets.grantReadGithubApp(this.operator)
    props.secrets.grantReadPageTokenKey(this.operator)
    // `session list --all` in API mode: every user's sessions, for the stage's admins (core/admins.ts).
    this.operator.addToPolicy(new iam.PolicyStatement({actions: ['execute-api:Invoke'], resources: [props.api.arnForExecuteApi('GET', '/admin/sessions', props.api.deploymentStage.stageName)]}))

    this.developer = new iam.Role(this, 'Developer', {
      roleName: `devflow-${props.stageName}-developer`,
      assumedBy: account,
      description: 'DevFlow developers: session commands through the API, and session open',
    })
    this.developer.addToPolicy(
      new iam.PolicyStatement({
        actions: ['execute-api:Invoke'],
        resources: [props.api.arnForExecuteApi('*', '/sessions', props.api.deploymentStage.stageName), props.api.arnForExecuteApi('*', '/sessions/*', props.api.deploymentStage.stageName), props.api.arnForExecuteApi('GET', '/health', props.api.deploymentStage.stageName), props.api.arnForExecuteApi('GET', '/repositories', props.api.deploymentStage.stageName)],
      }),
    )
    this.developer.addToPolicy(new iam.PolicyStatement({actions: ['cloudformation:DescribeStacks'], resources: [stack.stackId]}))
    const tasks = stack.formatArn({service: 'ecs', resource: 'task', resourceName: `${props.compute.cluster.clusterName}/*`})
    this.developer.addToPolicy(new iam.PolicyStatement({actions: ['ecs:DescribeTasks'], resources: [tasks], conditions: {ArnEquals: {'ecs:cluster': props.compute.cluster.clusterArn}}}))
    this.developer.addToPolicy(
      new iam.PolicyStatement({
        actions: ['ssm:StartSession'],
        resources: [tasks, stack.formatArn({service: 'ssm', account: '', resource: 'document', resourceName: 'AWS-StartPortForwardingSession'})],
      }),
    )
    const logicalId = (construct: Construct) => `<${stack.getLogicalId(construct.node.defaultChild as CfnElement)}>`
    const executeApi = `arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:${logicalId(props.api)}/${logicalId(props.api.deploymentStage)}`
    Validations.of(this.developer).acknowledge(
      {id: `AwsSolutions-IAM5[Resource::${executeApi}/*/sessions]`, reason: 'Every method of the user routes; API Gateway checks each with AWS_IAM.'},
      {id: `AwsSolutions-IAM5[Resource::${executeApi}/*/sessions/*]`, reason: 'Every session\'s routes: the API itself shows a caller only its own sessions.'},
      {
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecs:<AWS::Region>:<AWS::AccountId>:task/${logicalId(props.compute.cluster)}/*]`,
        reason: 'Workspace task ids are only known after RunTask; limited to this cluster.',
      },
    )
  }
}
