import {existsSync} from 'node:fs'
import {join} from 'node:path'

import {
  aws_apigateway as apigateway,
  type CfnElement,
  Duration,
  aws_events as events,
  aws_events_targets as targets,
  aws_iam as iam,
  aws_lambda as lambda,
  aws_logs as logs,
  RemovalPolicy,
  Stack,
  Validations,
} from 'aws-cdk-lib'
import {Construct} from 'constructs'

import {REAPER_LAMBDA, ROUTES, type RouteSpec, WARM_POOL_KEEPER_TASK} from '../../src/api/routes.js'
import {invalidInput} from '../../src/core/errors.js'

export interface ControlPlaneApiProps {
  /** The repository root: `npm run build` writes the functions' code to dist/lambda there (lambda/build.mjs). */
  readonly projectRoot: string
  /** Environment variables of every function (LAMBDA_ENV). */
  readonly environment: Record<string, string>
  /** The API Gateway stage name. */
  readonly stageName: string
  readonly logRetention: logs.RetentionDays
  readonly throttlingRateLimit: number
  readonly throttlingBurstLimit: number
  /** The throttle of each agent method (no API Gateway auth), apart from the stage's. */
  readonly agentThrottlingRateLimit: number
  readonly agentThrottlingBurstLimit: number
  /** @default every 5 minutes */
  readonly reaperSchedule?: events.Schedule
  /** Run the warm pool's keeper every minute (the reaper function with the keeper's event). @default false */
  readonly warmPoolKeeper?: boolean
  /** @default 10 seconds */
  readonly defaultTimeout?: Duration
}

export interface RouteFunction {
  readonly route: RouteSpec
  readonly fn: lambda.Function
}

/**
 * Seed I-9: the REST API built from the route table (src/api/routes.ts), one Lambda function per
 * route, AWS_IAM on the user routes and no API Gateway auth on the agent routes (their handler
 * checks the session's bearer token) and on the GitHub webhook (its handler checks the signature), and the scheduled reaper of idle or expired sessions.
 *
 * All functions share one role: each route is a thin entry into the same control plane, whose
 * operations touch the same tables, tasks and secret.
 */
export class ControlPlaneApi extends Construct {
  readonly api: apigateway.RestApi
  readonly role: iam.Role
  readonly routes: readonly RouteFunction[]
  readonly reaper: lambda.Function
  readonly accessLogs: logs.LogGroup

  constructor(scope: Construct, id: string, props: ControlPlaneApiProps) {
    super(scope, id)
    this.role = new iam.Role(this, 'FunctionRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'DevFlow control-plane functions',
    })
    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', {retention: props.logRetention, removalPolicy: RemovalPolicy.DESTROY})
    this.api = new apigateway.RestApi(this, 'Api', {
      restApiName: `devflow-${props.stageName}`,
      description: 'DevFlow sessions API',
      endpointTypes: [apigateway.EndpointType.REGIONAL],
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.DESTROY,
      deployOptions: {
        stageName: props.stageName,
        accessLogDestination: new apigateway.LogGroupLogDestination(this.accessLogs),
        accessLogFormat: apigateway.AccessLogFormat.jsonWithStandardFields(),
        loggingLevel: apigateway.MethodLoggingLevel.ERROR,
        metricsEnabled: true,
        tracingEnabled: true,
        throttlingRateLimit: props.throttlingRateLimit,
        throttlingBurstLimit: props.throttlingBurstLimit,
        methodOptions: Object.fromEntries(
          ROUTES.filter((route) => route.auth === 'agent').map((route) => [
            `${route.path}/${route.method}`,
            {
              throttlingRateLimit: props.agentThrottlingRateLimit,
              throttlingBurstLimit: props.agentThrottlingBurstLimit,
              // A method's own settings replace the stage's: keep its logging and metrics.
              loggingLevel: apigateway.MethodLoggingLevel.ERROR,
              metricsEnabled: true,
            },
          ]),
        ),
      },
    })
    // The stack emits the URL under OUTPUT_KEYS.apiUrl; the construct's own Endpoint output would be a second copy.
    this.api.node.tryRemoveChild('Endpoint')
    Validations.of(this.api).acknowledge(
      {id: 'AwsSolutions-APIG2', reason: 'Every handler validates its body and parameters with the zod schemas of src/core and answers 400 with a hint.'},
      {id: 'AwsSolutions-APIG3', reason: 'User routes require SigV4 (AWS_IAM) and agent routes a per-session bearer token; a WAF web ACL is left to teams that expose more.'},
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        reason: 'API Gateway\'s account-level CloudWatch role uses the AWS managed push-to-logs policy by design.',
      },
    )

    // One asset for every function of the stack, built once by `npm run build`: synth bundles nothing.
    const code = lambda.Code.fromAsset(lambdaCodeDir(props.projectRoot))
    const build = (id: string, entryName: string, timeout: Duration) => {
      const logGroup = new logs.LogGroup(this, `${id}Logs`, {retention: props.logRetention, removalPolicy: RemovalPolicy.DESTROY})
      logGroup.grantWrite(this.role)
      return new lambda.Function(this, id, {
        code,
        handler: `${entryName}.handler`,
        runtime: lambda.Runtime.NODEJS_22_X,
        architecture: lambda.Architecture.ARM_64,
        memorySize: 512,
        timeout,
        role: this.role,
        logGroup,
        tracing: lambda.Tracing.ACTIVE,
        environment: {...props.environment},
      })
    }

    // No extra invoke permission per method for the API Gateway console's "Test" button: that would
    // double the Lambda::Permission resources, and the template must stay under CloudFormation's 1 MB.
    this.routes = ROUTES.map((route) => {
      const fn = build(functionId(route.lambda), route.lambda, Duration.seconds(route.timeoutSeconds ?? props.defaultTimeout?.toSeconds() ?? 10))
      const method = this.api.root.resourceForPath(route.path).addMethod(route.method, new apigateway.LambdaIntegration(fn, {allowTestInvoke: false}), {
        authorizationType: route.auth === 'agent' || route.auth === 'github' ? apigateway.AuthorizationType.NONE : apigateway.AuthorizationType.IAM,
      })
      if (route.auth === 'github') {
        Validations.of(method).acknowledge(
          {id: 'AwsSolutions-APIG4', reason: 'GitHub webhook: the handler verifies X-Hub-Signature-256 (HMAC-SHA256 with the App\'s webhook secret) over the raw body; GitHub cannot sign with SigV4.'},
          {id: 'AwsSolutions-COG4', reason: 'GitHub webhook: the caller is GitHub, not a Cognito user.'},
        )
      } else if (route.auth === 'agent') {
        Validations.of(method).acknowledge(
          {id: 'AwsSolutions-APIG4', reason: 'Agent route: the handler authorises the per-session bearer token (DESIGN.md, the prompt channel).'},
          {id: 'AwsSolutions-COG4', reason: 'Agent route: the caller is a workspace task with a session token, not a Cognito user.'},
        )
      } else {
        Validations.of(method).acknowledge({id: 'AwsSolutions-COG4', reason: 'User routes use AWS_IAM (SigV4 from the caller\'s AWS credentials), not Cognito.'})
      }
      return {route, fn}
    })

    this.reaper = build('ReapSessions', REAPER_LAMBDA, Duration.minutes(2))
    new events.Rule(this, 'ReaperSchedule', {
      description: 'Stops idle or expired DevFlow sessions',
      schedule: props.reaperSchedule ?? events.Schedule.rate(Duration.minutes(5)),
      targets: [new targets.LambdaFunction(this.reaper, {retryAttempts: 2})],
    })
    if (props.warmPoolKeeper) {
      new events.Rule(this, 'WarmPoolKeeperSchedule', {
        description: 'Keeps the warm pool at its target (src/core/services/warm-pool.ts)',
        schedule: events.Schedule.rate(Duration.minutes(1)),
        targets: [new targets.LambdaFunction(this.reaper, {retryAttempts: 0, event: events.RuleTargetInput.fromObject({task: WARM_POOL_KEEPER_TASK})})],
      })
    }
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'Active tracing: xray:PutTraceSegments and PutTelemetryRecords support no resource-level permissions.',
    })
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-L1',
      reason: 'nodejs22.x is the runtime the project targets (Node 22 LTS), pinned so the bundles and the runtime agree.',
    })
  }

  /**
   * execute-api:Invoke on the workspace routes only (the bootstrap call), for the workspace task
   * role: it can call nothing else of the API with its credentials.
   */
  grantInvokeWorkspaceRoutes(grantee: iam.IGrantable): void {
    const resources = ROUTES.filter((route) => route.auth === 'workspace').map((route) =>
      this.api.arnForExecuteApi(route.method, route.path.replace(/\{\w+\}/g, '*'), this.api.deploymentStage.stageName),
    )
    grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({actions: ['execute-api:Invoke'], resources}))
    if (grantee instanceof Construct) {
      const stack = Stack.of(this)
      const api = `<${stack.getLogicalId(this.api.node.defaultChild as CfnElement)}>`
      const stage = `<${stack.getLogicalId(this.api.deploymentStage.node.defaultChild as CfnElement)}>`
      Validations.of(grantee).acknowledge(
        ...ROUTES.filter((route) => route.auth === 'workspace').map((route) => ({
          id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:${api}/${stage}/${route.method}${route.path.replace(/\{\w+\}/g, '*')}]`,
          reason: 'The one workspace route, for any session id: the handler checks that the caller\'s role session is the session\'s own task.',
        })),
      )
    }
  }

  /** Every function of this API, the reaper included. */
  get functions(): lambda.Function[] {
    return [...this.routes.map((r) => r.fn), this.reaper]
  }
}

/** dist/lambda: one module per lambda/<name>.ts entry over shared chunks (lambda/build.mjs). */
export function lambdaCodeDir(projectRoot: string): string {
  const dir = join(projectRoot, 'dist', 'lambda')
  if (!existsSync(join(dir, `${REAPER_LAMBDA}.mjs`))) {
    throw invalidInput('LAMBDA_CODE_NOT_BUILT', `The Lambda functions' code is not built (${dir} is missing).`, 'Run `npm run build` in the devflow package first.')
  }
  return dir
}

/** "start-session" -> "StartSession". */
function functionId(entryName: string): string {
  return entryName.replace(/(^|-)([a-z])/g, (_, _dash: string, letter: string) => letter.toUpperCase())
}
