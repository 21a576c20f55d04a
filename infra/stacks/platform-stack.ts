import {Aws, aws_cloudwatch as cloudwatch, CfnOutput, Fn, aws_secretsmanager as secretsmanager, Stack, type StackProps, Tags, Validations} from 'aws-cdk-lib'
import type {Construct} from 'constructs'

import {existsSync, readFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {type DeploymentKey, LAMBDA_ENV, OUTPUT_KEYS, WORKSPACE_CONTAINER_NAME} from '../../src/core/deployment.js'
import {awsEndpointDomains} from '../../src/core/egress.js'
import {NO_REPOSITORIES, type RepositoryAccess} from '../../src/core/repository-access.js'
import {AccessRoles} from '../constructs/access-roles.js'
import {consoleAuthDomainPrefix, consoleFederationFrom, ConsoleHeaders, DevflowConsole} from '../constructs/console.js'
import {ControlPlaneApi} from '../constructs/control-plane-api.js'
import {ConversationBucket} from '../constructs/conversation-bucket.js'
import {SessionData} from '../constructs/data.js'
import {EgressFirewall} from '../constructs/egress-firewall.js'
import {FrontendHosting} from '../constructs/frontend-hosting.js'
import {ImageRepository} from '../constructs/image-repository.js'
import {Monitoring} from '../constructs/monitoring.js'
import {Network} from '../constructs/network.js'
import {PlatformSecrets} from '../constructs/secrets.js'
import {type WorkspaceImage, WorkspaceCompute} from '../constructs/workspace-compute.js'
import {stackNameFor} from '../../src/core/deployment.js'
import {egressPolicyText, workspaceAllowList} from '../guardrails.js'
import type {BudgetLimits} from '../../src/core/budgets.js'
import type {PriceOverride} from '../../src/core/pricing.js'
import {type EgressSettings, type NetworkSettings, type NotificationSettings, type StageSettings} from '../stages.js'

/** The release being deployed: the nearest package.json up from here (sources or dist/). */
function devflowVersion(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    const manifest = join(dir, 'package.json')
    if (existsSync(manifest)) return (JSON.parse(readFileSync(manifest, 'utf8')) as {version: string}).version
  }
  return 'unknown'
}

const DEVFLOW_VERSION = devflowVersion()

export interface PlatformStackProps extends StackProps {
  readonly stage: StageSettings
  readonly network: NetworkSettings
  readonly image: WorkspaceImage
  readonly projectRoot: string
  readonly warmTasks?: number
  /** @default the stage's */
  readonly warmSchedule?: string
  readonly alarmEmail?: string
  /** Leave out what moto_server's CloudFormation cannot create (see README). @default false */
  readonly forMoto?: boolean
  /** The egress allow-list (infra/guardrails.ts). @default the stage's */
  readonly egress?: EgressSettings
  /** The budgets the API enforces (infra/guardrails.ts). @default the stage's */
  readonly budgets?: BudgetLimits
  /** Fargate prices replacing the built-in table's. */
  readonly prices?: PriceOverride
  /** The notification webhook. @default none: notifications go to the SNS topic only */
  readonly notifications?: NotificationSettings
  /** Which repositories sessions may be started on. @default none */
  readonly repositories?: RepositoryAccess
  /** Sessions from GitHub webhooks one repository may have at once. @default the stage's */
  readonly githubMaxSessionsPerRepo?: number
}

/** One stage of DevFlow: wires the constructs together and emits OUTPUT_KEYS. Nothing else. */
export class PlatformStack extends Stack {
  readonly network: Network
  readonly secrets: PlatformSecrets
  readonly data: SessionData
  readonly images: ImageRepository
  readonly compute: WorkspaceCompute
  readonly api: ControlPlaneApi
  readonly frontend: FrontendHosting
  /** Left out for moto (README, "Deploying to moto"). */
  readonly console?: DevflowConsole
  readonly monitoring: Monitoring
  /** Absent with `egress: open`, and for moto (its CloudFormation has no Route53Resolver types). */
  readonly egressFirewall?: EgressFirewall
  readonly access: AccessRoles
  readonly conversations: ConversationBucket

  constructor(scope: Construct, id: string, props: PlatformStackProps) {
    super(scope, id, {stackName: stackNameFor(props.stage.name), description: `DevFlow platform (${props.stage.name})`, ...props})
    const {stage} = props
    const forMoto = props.forMoto ?? false
    // Dashboards take no tags in the CloudFormation spec cfn-lint checks; moto_server's KMS fails on key tags.
    const untagged = {excludeResourceTypes: ['AWS::CloudWatch::Dashboard', ...(forMoto ? ['AWS::KMS::Key'] : [])]}
    Tags.of(this).add('app', 'devflow', untagged)
    Tags.of(this).add('stage', stage.name, untagged)

    const egress = props.egress ?? stage.egress
    const notifications = props.notifications ?? {}
    this.network = new Network(this, 'Network', {
      settings: props.network,
      flowLogRetention: stage.logRetention,
      natEgress: !forMoto,
      workspaceEgressPorts: egress.mode === 'open' ? undefined : egress.http ? [443, 80] : [443],
    })
    this.secrets = new PlatformSecrets(this, 'Secrets', {removalPolicy: stage.dataRemovalPolicy, referByName: forMoto})
    this.data = new SessionData(this, 'Data', {
      pointInTimeRecovery: stage.pointInTimeRecovery,
      deletionProtection: stage.deletionProtection,
      removalPolicy: stage.dataRemovalPolicy,
    })
    this.images = new ImageRepository(this, 'Images', {removalPolicy: stage.dataRemovalPolicy, untaggedImageExpiry: stage.untaggedImageExpiry})
    this.compute = new WorkspaceCompute(this, 'Workspaces', {
      vpc: this.network.vpc,
      securityGroup: this.network.workspaceSecurityGroup,
      subnetType: this.network.workspaceSubnetType,
      repository: this.images.repository,
      image: props.image,
      claudeApiKey: this.secrets.references.claudeApiKey,
      capacity: stage.capacity,
      cpu: stage.taskCpu,
      memoryMiB: stage.taskMemoryMiB,
      logRetention: stage.logRetention,
    })
    const warmTasks = props.warmTasks ?? stage.warmTasks
    const warmSchedule = props.warmSchedule ?? stage.warmSchedule

    const subnetIds = Fn.join(',', this.network.workspaceSubnetIds)
    this.api = new ControlPlaneApi(this, 'ControlPlane', {
      projectRoot: props.projectRoot,
      stageName: stage.name,
      logRetention: stage.logRetention,
      throttlingRateLimit: stage.apiThrottlingRateLimit,
      throttlingBurstLimit: stage.apiThrottlingBurstLimit,
      agentThrottlingRateLimit: stage.agentThrottlingRateLimit,
      agentThrottlingBurstLimit: stage.agentThrottlingBurstLimit,
      environment: {
        [LAMBDA_ENV.sessionsTable]: this.data.sessions.tableName,
        [LAMBDA_ENV.promptsTable]: this.data.prompts.tableName,
        [LAMBDA_ENV.eventsTable]: this.data.promptEvents.tableName,
        [LAMBDA_ENV.cluster]: this.compute.cluster.clusterName,
        [LAMBDA_ENV.taskDefinition]: this.compute.taskDefinition.taskDefinitionArn,
        [LAMBDA_ENV.containerName]: WORKSPACE_CONTAINER_NAME,
        [LAMBDA_ENV.subnets]: subnetIds,
        [LAMBDA_ENV.securityGroups]: this.network.workspaceSecurityGroup.securityGroupId,
        [LAMBDA_ENV.capacity]: stage.capacity,
        [LAMBDA_ENV.githubAppSecretArn]: this.secrets.githubApp.secretArn,
        [LAMBDA_ENV.pageTokenKeySecretArn]: this.secrets.references.pageTokenKey.secretArn,
        [LAMBDA_ENV.maxActiveSessionsPerUser]: String(stage.maxActiveSessionsPerUser),
        [LAMBDA_ENV.stage]: stage.name,
        [LAMBDA_ENV.version]: DEVFLOW_VERSION,
        [LAMBDA_ENV.githubDeliveriesTable]: this.data.githubDeliveries.tableName,
        [LAMBDA_ENV.githubLabel]: stage.githubLabel,
        [LAMBDA_ENV.githubMaxSessionsPerRepo]: String(props.githubMaxSessionsPerRepo ?? stage.githubMaxSessionsPerRepo),
        ...(stage.githubAllowedRepos ? {[LAMBDA_ENV.githubAllowedRepos]: stage.githubAllowedRepos.join(',')} : {}),
        [LAMBDA_ENV.budgets]: JSON.stringify(props.budgets ?? stage.budgets),
        ...(props.prices ? {[LAMBDA_ENV.prices]: JSON.stringify(props.prices)} : {}),
        ...(notifications.webhookUrl ? {[LAMBDA_ENV.notifyWebhook]: notifications.webhookUrl, [LAMBDA_ENV.notifyFormat]: notifications.format ?? 'slack'} : {}),
        ...(notifications.secretName ? {[LAMBDA_ENV.notifySecret]: notifications.secretName} : {}),
        [LAMBDA_ENV.taskRoleArn]: this.compute.taskRole.roleArn,
        ...(forMoto ? {[LAMBDA_ENV.emulator]: 'moto'} : {}),
        [LAMBDA_ENV.repositories]: JSON.stringify(props.repositories ?? NO_REPOSITORIES),
        [LAMBDA_ENV.egress]: egressPolicyText(egress),
        [LAMBDA_ENV.usageTable]: this.data.usage.tableName,
        [LAMBDA_ENV.warmPoolTable]: this.data.warmPool.tableName,
        [LAMBDA_ENV.warmTasks]: String(warmTasks),
        ...(warmSchedule ? {[LAMBDA_ENV.warmSchedule]: warmSchedule} : {}),
      },
      warmPoolKeeper: warmTasks > 0 || warmSchedule !== undefined,
    })
    // The keeper's warm tasks call the API back; the route functions derive it from their request.
    this.api.reaper.addEnvironment(LAMBDA_ENV.agentApiUrl, this.api.api.url)
    this.data.grantWarmPoolAccess(this.api.role)
    this.api.grantInvokeWorkspaceRoutes(this.compute.taskRole)
    this.data.grantItemAccess(this.api.role)
    this.compute.grantRunAndStopTasks(this.api.role)
    this.secrets.grantReadGithubApp(this.api.role)
    this.secrets.grantReadPageTokenKey(this.api.role)

    if (egress.mode === 'allowList' && !forMoto) {
      const apiDomain = `${this.api.api.restApiId}.execute-api.${Aws.REGION}.${Aws.URL_SUFFIX}`
      this.egressFirewall = new EgressFirewall(this, 'Egress', {
        vpc: this.network.vpc,
        allow: workspaceAllowList(egress, awsEndpointDomains(Aws.REGION), apiDomain),
        logRetention: stage.logRetention,
        namePrefix: stackNameFor(stage.name),
      })
    }

    this.access = new AccessRoles(this, 'Access', {stageName: stage.name, data: this.data, compute: this.compute, secrets: this.secrets, api: this.api.api, images: this.images.repository})
    // Sessions of the operator role are the stage's admins on the API too (GET /admin/sessions).
    for (const fn of this.api.functions) fn.addEnvironment(LAMBDA_ENV.adminRoleArns, this.access.operator.roleArn)

    const authDomainPrefix = consoleAuthDomainPrefix(this.node, stage.name)
    const consoleHeaders = new ConsoleHeaders(this, 'ConsoleHeaders', {authDomainPrefix})
    this.frontend = new FrontendHosting(this, 'Frontend', {responseHeadersPolicy: consoleHeaders.policy})
    this.conversations = new ConversationBucket(this, 'Conversations', {expiry: stage.conversationExpiry, accessLogs: this.frontend.logBucket})
    this.conversations.grantSessionObjects(this.api.role)
    for (const fn of this.api.functions) fn.addEnvironment(LAMBDA_ENV.conversationsBucket, this.conversations.bucket.bucketName)
    // moto_server cannot resolve the distribution's domain name nor run the BucketDeployment's function.
    if (!forMoto) {
      this.console = new DevflowConsole(this, 'Console', {
        stageName: stage.name,
        frontend: this.frontend,
        routes: this.api.routes,
        iamApi: this.api.api,
        authDomainPrefix,
        federation: consoleFederationFrom(this.node),
        siteDir: join(props.projectRoot, 'dist', 'console'),
        logRetention: stage.logRetention,
        throttlingRateLimit: stage.apiThrottlingRateLimit,
        throttlingBurstLimit: stage.apiThrottlingBurstLimit,
        removalPolicy: stage.dataRemovalPolicy,
      })
    }
    this.monitoring = new Monitoring(this, 'Monitoring', {
      dashboardName: `devflow-${stage.name}`,
      functions: [...this.api.routes.map(({route, fn}) => ({name: route.lambda, fn})), {name: 'reap-sessions', fn: this.api.reaper}],
      api: this.api.api,
      cluster: this.compute.cluster,
      lambdaErrorRateThreshold: stage.lambdaErrorRateThreshold,
      alarmEmail: props.alarmEmail,
      alarmWidgets: !forMoto,
    })
    // Budget alerts and session failures are published to the alarm topic (src/composition/guardrails.ts).
    this.monitoring.grantPublish(this.api.role)
    for (const fn of this.api.functions) fn.addEnvironment(LAMBDA_ENV.alertTopicArn, this.monitoring.topic.topicArn)
    if (notifications.secretName) {
      secretsmanager.Secret.fromSecretNameV2(this, 'NotifyWebhookSecret', notifications.secretName).grantRead(this.api.role)
      Validations.of(this.api.role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${notifications.secretName}-??????]`,
        reason: 'A secret referred to by name: Secrets Manager appends six random characters to its ARN, matched by the wildcard.',
      })
    }
    if (warmTasks > 0 || warmSchedule !== undefined) {
      // The keeper logs one `warm pool` line a minute (src/api/lambda.ts): the pool's size, hits and misses.
      this.monitoring.dashboard.addWidgets(
        new cloudwatch.LogQueryWidget({
          title: 'Warm pool: target, warm, starting; hits and misses so far',
          logGroupNames: [this.api.reaper.logGroup.logGroupName],
          queryLines: ['filter message = "warm pool"', 'stats max(target) as target, min(warm) as warm, max(starting) as starting, max(hits) as hits, max(misses) as misses by bin(5m)'],
          view: cloudwatch.LogQueryVisualizationType.LINE,
          width: 12,
        }),
      )
    }
    if (this.egressFirewall) {
      this.monitoring.dashboard.addWidgets(new cloudwatch.GraphWidget({title: 'Blocked DNS look-ups (egress allow-list)', left: [this.egressFirewall.metricBlockedQueries()], width: 12}))
    }

    const outputs: Record<DeploymentKey, string | undefined> = {
      apiUrl: this.api.api.url,
      sessionsTable: this.data.sessions.tableName,
      promptsTable: this.data.prompts.tableName,
      eventsTable: this.data.promptEvents.tableName,
      cluster: this.compute.cluster.clusterName,
      taskDefinition: this.compute.taskDefinition.taskDefinitionArn,
      containerName: WORKSPACE_CONTAINER_NAME,
      subnets: subnetIds,
      securityGroups: this.network.workspaceSecurityGroup.securityGroupId,
      capacity: stage.capacity,
      ecrRepositoryUri: this.images.repository.repositoryUri,
      githubAppSecretArn: this.secrets.references.githubApp.secretArn,
      claudeApiKeySecretArn: this.secrets.references.claudeApiKey.secretArn,
      pageTokenKeySecretArn: this.secrets.references.pageTokenKey.secretArn,
      // moto_server's CloudFormation cannot resolve GetAtt DomainName on a distribution.
      frontendDomain: forMoto ? undefined : this.frontend.distribution.distributionDomainName,
      consoleUserPoolId: this.console?.userPool.userPoolId,
      alarmTopicArn: this.monitoring.topic.topicArn,
      githubDeliveriesTable: this.data.githubDeliveries.tableName,
      taskRoleArn: this.compute.taskRole.roleArn,
      emulator: forMoto ? 'moto' : undefined,
      repositories: JSON.stringify(props.repositories ?? NO_REPOSITORIES),
      egress: egressPolicyText(egress),
      usageTable: this.data.usage.tableName,
      conversationsBucket: this.conversations.bucket.bucketName,
      warmPoolTable: this.data.warmPool.tableName,
      adminRoleArns: this.access.operator.roleArn,
    }
    for (const [key, value] of Object.entries(outputs) as [DeploymentKey, string | undefined][]) {
      if (value !== undefined) new CfnOutput(this, OUTPUT_KEYS[key], {value, description: `devflow: ${key}`})
    }
  }
}
