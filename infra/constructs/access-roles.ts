import {type aws_apigateway as apigateway, type aws_ecr as ecr, type CfnElement, aws_iam as iam, Stack, Validations} from 'aws-cdk-lib'
import {Construct} from 'constructs'

import {TASK_TAGS} from '../../src/core/deployment.js'

import type {SessionData} from './data.js'
import type {PlatformSecrets} from './secrets.js'
import type {WorkspaceCompute} from './workspace-compute.js'

export interface AccessRolesProps {
  readonly stageName: string
  readonly data: SessionData
  readonly compute: WorkspaceCompute
  readonly secrets: PlatformSecrets
  readonly api: apigateway.RestApi
  /** The workspace image repository `devflow image push` pushes to. */
  readonly images: ecr.IRepository
}

/**
 * The two roles people assume to use a stage, trusted by the account (an administrator decides who
 * may assume them):
 *  - `devflow-<stage>-operator`: admin mode (`--admin`): the items and tasks the control plane
 *    itself touches, and reading the GitHub App and page-token secrets; as a stage admin
 *    (core/admins.ts), `GET /admin/sessions` through the API; and the stage's upkeep after a
 *    deploy: `secrets set|status`, `github status`, `image push` (ECR push, the next revision of
 *    the workspace task definition).
 *  - `devflow-<stage>-developer`: the session commands in API mode: invoking the API's user routes,
 *    reading the stack's outputs, and `session open`'s ECS Exec port forward to the caller's own
 *    tasks only (below).
 * The tests hold every call those CLI commands make to the operator role's statements
 * (deployed-shapes.test.ts, operator-commands-iam.test.ts).
 *
 * A session's owner is the caller's principal ARN, for this role
 * `arn:aws:sts::<account>:assumed-role/devflow-<stage>-developer/<session name>`, and its task is
 * tagged `devflow:owner` with it. IAM has no policy variable holding an assumed role's session
 * name or full session ARN (`aws:PrincipalArn` is the role's ARN, `aws:userid` is
 * `<role id>:<session name>` with an id the stack cannot know), so the trust policy makes the
 * person carry it: an IAM user may assume the role only with the session name `${aws:username}`
 * and the session tag `devflow-user` set to the same name, and the task statements compare the
 * task's owner tag with the ARN built from `${aws:PrincipalTag/devflow-user}`.
 */

/** The session tag naming the person who assumed the developer role (its value is the session name). */
export const DEVELOPER_SESSION_TAG = 'devflow-user'
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
    props.secrets.grantWriteValues(this.operator)
    props.images.grantPush(this.operator)
    this.operator.addToPolicy(new iam.PolicyStatement({actions: ['ecr:DescribeImages'], resources: [props.images.repositoryArn]}))
    props.compute.grantRegisterWorkspaceRevisions(this.operator)
    // `session list --all` in API mode: every user's sessions, for the stage's admins (core/admins.ts).
    this.operator.addToPolicy(new iam.PolicyStatement({actions: ['execute-api:Invoke'], resources: [props.api.arnForExecuteApi('GET', '/admin/sessions', props.api.deploymentStage.stageName)]}))

    const developerRoleName = `devflow-${props.stageName}-developer`
    this.developer = new iam.Role(this, 'Developer', {
      roleName: developerRoleName,
      assumedBy: account.withConditions({StringEquals: {'sts:RoleSessionName': '${aws:username}'}}),
      description: 'DevFlow developers: session commands through the API, and session open on their own tasks',
    })
    this.developer.assumeRolePolicy?.addStatements(
      new iam.PolicyStatement({
        actions: ['sts:TagSession'],
        principals: [account],
        conditions: {StringEquals: {[`aws:RequestTag/${DEVELOPER_SESSION_TAG}`]: '${aws:username}'}},
      }),
    )
    this.developer.addToPolicy(
      new iam.PolicyStatement({
        actions: ['execute-api:Invoke'],
        resources: [props.api.arnForExecuteApi('*', '/sessions', props.api.deploymentStage.stageName), props.api.arnForExecuteApi('*', '/sessions/*', props.api.deploymentStage.stageName), props.api.arnForExecuteApi('GET', '/health', props.api.deploymentStage.stageName), props.api.arnForExecuteApi('GET', '/repositories', props.api.deploymentStage.stageName)],
      }),
    )
    this.developer.addToPolicy(new iam.PolicyStatement({actions: ['cloudformation:DescribeStacks'], resources: [stack.stackId]}))
    const tasks = stack.formatArn({service: 'ecs', resource: 'task', resourceName: `${props.compute.cluster.clusterName}/*`})
    // ECS (DescribeTasks) and Session Manager (StartSession on an ECS target) both read the task's tags as aws:ResourceTag.
    const ownTasks = {StringEquals: {[`aws:ResourceTag/${TASK_TAGS.owner}`]: `arn:${stack.partition}:sts::${stack.account}:assumed-role/${developerRoleName}/\${aws:PrincipalTag/${DEVELOPER_SESSION_TAG}}`}}
    this.developer.addToPolicy(
      new iam.PolicyStatement({actions: ['ecs:DescribeTasks'], resources: [tasks], conditions: {ArnEquals: {'ecs:cluster': props.compute.cluster.clusterArn}, ...ownTasks}}),
    )
    this.developer.addToPolicy(new iam.PolicyStatement({actions: ['ssm:StartSession'], resources: [tasks], conditions: ownTasks}))
    this.developer.addToPolicy(
      new iam.PolicyStatement({
        actions: ['ssm:StartSession'],
        resources: [stack.formatArn({service: 'ssm', account: '', resource: 'document', resourceName: 'AWS-StartPortForwardingSession'})],
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
