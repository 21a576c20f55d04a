/**
 * The DevFlow stacks, both stages, synthesized once per stage and shared by every assertion:
 * resources and names of the seed (I-2..I-10, I-13), exact IAM statements, cdk-nag AwsSolutions
 * with no unacknowledged finding, and cfn-lint with 0 errors on each template.
 */
import {execFile} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {promisify} from 'node:util'

import {Match, Template} from 'aws-cdk-lib/assertions'
import {expect} from 'chai'

import {buildApp, stackIdFor} from '../../infra/app.js'
import {STAGE_NAMES, type StageName} from '../../infra/stages.js'
import {ROUTES} from '../../src/api/routes.js'
import {DELIVERIES_BY_TIME_INDEX, ECR_REPOSITORY_NAME, LAMBDA_ENV, OUTPUT_KEYS, PAGE_TOKEN_KEY_SECRET_NAME, SECRET_NAMES, TABLE_NAMES} from '../../src/core/deployment.js'
import {ROOT} from '../helpers/cli.js'

const run = promisify(execFile)
const cdkJsonContext = JSON.parse(readFileSync(join(ROOT, 'cdk.json'), 'utf8')).context as Record<string, unknown>

type Resources = Record<string, {Type: string; Properties?: Record<string, unknown>}>

describe('infra: the DevFlow stacks (aws-cdk-lib assertions, cdk-nag, cfn-lint)', function () {
  this.timeout(180_000)
  const templates = {} as Record<StageName, Template>
  const templateFiles = {} as Record<StageName, string>
  let outdir: string

  before(async () => {
    outdir = await mkdtemp(join(tmpdir(), 'devflow-synth-'))
    // Asset bundling is skipped: these tests read templates, the deploy test bundles for real.
    const app = buildApp({context: {...cdkJsonContext, 'aws:cdk:bundling-stacks': []}, outdir})
    const assembly = app.synth() // throws when cdk-nag reports an unacknowledged finding
    for (const stage of STAGE_NAMES) {
      const artifact = assembly.getStackArtifact(stackIdFor(stage))
      templates[stage] = Template.fromJSON(artifact.template as Record<string, unknown>)
      templateFiles[stage] = artifact.templateFullPath
    }
  })
  after(() => rm(outdir, {recursive: true, force: true}))

  const resources = (stage: StageName, type: string) =>
    Object.entries(templates[stage].toJSON().Resources as Resources).filter(([, r]) => r.Type === type)
  const statementsOf = (stage: StageName, rolePrefix: string) =>
    resources(stage, 'AWS::IAM::Policy')
      .filter(([, p]) => JSON.stringify((p.Properties as {Roles: unknown}).Roles).includes(rolePrefix))
      .flatMap(([, p]) => (p.Properties as {PolicyDocument: {Statement: Array<Record<string, unknown>>}}).PolicyDocument.Statement)

  for (const stage of STAGE_NAMES) {
    describe(`stage ${stage}`, () => {
      it('is the stack devflow-<stage> with exactly the output keys of src/core/deployment.ts (the emulator\'s only under its key)', () => {
        const outputs = Object.keys(templates[stage].toJSON().Outputs as Record<string, unknown>).sort()
        expect(outputs).to.deep.equal(Object.values(OUTPUT_KEYS).filter((key) => key !== OUTPUT_KEYS.emulator).sort())
      })

      it('I-5: sessions, prompts and prompt events tables with their keys, TTL and GSI', () => {
        const t = templates[stage]
        t.hasResourceProperties('AWS::DynamoDB::Table', {
          TableName: TABLE_NAMES.sessions,
          BillingMode: 'PAY_PER_REQUEST',
          KeySchema: [{AttributeName: 'session_id', KeyType: 'HASH'}],
          TimeToLiveSpecification: {AttributeName: 'ttl', Enabled: true},
          SSESpecification: {SSEEnabled: true},
          GlobalSecondaryIndexes: [
            {
              IndexName: 'user_id-created_at-index',
              KeySchema: [
                {AttributeName: 'user_id', KeyType: 'HASH'},
                {AttributeName: 'created_at', KeyType: 'RANGE'},
              ],
              Projection: {ProjectionType: 'ALL'},
            },
          ],
          AttributeDefinitions: Match.arrayWith([
            {AttributeName: 'session_id', AttributeType: 'S'},
            {AttributeName: 'user_id', AttributeType: 'S'},
            {AttributeName: 'created_at', AttributeType: 'S'},
          ]),
        })
        t.hasResourceProperties('AWS::DynamoDB::Table', {
          TableName: TABLE_NAMES.prompts,
          KeySchema: [
            {AttributeName: 'session_id', KeyType: 'HASH'},
            {AttributeName: 'seq', KeyType: 'RANGE'},
          ],
          AttributeDefinitions: [
            {AttributeName: 'session_id', AttributeType: 'S'},
            {AttributeName: 'seq', AttributeType: 'N'},
          ],
          TimeToLiveSpecification: {AttributeName: 'ttl', Enabled: true},
        })
        t.hasResourceProperties('AWS::DynamoDB::Table', {
          TableName: TABLE_NAMES.events,
          KeySchema: [
            {AttributeName: 'prompt_id', KeyType: 'HASH'},
            {AttributeName: 'seq', KeyType: 'RANGE'},
          ],
          TimeToLiveSpecification: {AttributeName: 'ttl', Enabled: true},
        })
        // The four of DESIGN.md "Data", the warm pool's (test/infra/warm-pool.test.ts) and the usage ledger's.
        t.resourceCountIs('AWS::DynamoDB::Table', 6)
      })

      it('the usage ledger table: scope and period, no TTL (its sums outlive the sessions), in the functions\' item grant', () => {
        const t = templates[stage]
        t.hasResourceProperties('AWS::DynamoDB::Table', {
          TableName: TABLE_NAMES.usage,
          BillingMode: 'PAY_PER_REQUEST',
          KeySchema: [
            {AttributeName: 'scope', KeyType: 'HASH'},
            {AttributeName: 'period', KeyType: 'RANGE'},
          ],
          AttributeDefinitions: [
            {AttributeName: 'scope', AttributeType: 'S'},
            {AttributeName: 'period', AttributeType: 'S'},
          ],
          SSESpecification: {SSEEnabled: true},
          TimeToLiveSpecification: Match.absent(),
        })
        const [usageId] = Object.keys(t.findResources('AWS::DynamoDB::Table', {Properties: {TableName: TABLE_NAMES.usage}}))
        expect(JSON.stringify(t.findResources('AWS::IAM::Policy')), 'an item grant names the usage table').to.contain(`"${usageId}","Arn"`)
        expect(t.toJSON().Outputs.UsageTableName.Value).to.deep.equal({Ref: usageId})
      })

      it('the GitHub webhook deliveries table: delivery_id, TTL, and the GSI the delivery store queries', () => {
        templates[stage].hasResourceProperties('AWS::DynamoDB::Table', {
          TableName: TABLE_NAMES.githubDeliveries,
          BillingMode: 'PAY_PER_REQUEST',
          KeySchema: [{AttributeName: 'delivery_id', KeyType: 'HASH'}],
          TimeToLiveSpecification: {AttributeName: 'ttl', Enabled: true},
          SSESpecification: {SSEEnabled: true},
          GlobalSecondaryIndexes: [
            {
              IndexName: DELIVERIES_BY_TIME_INDEX,
              KeySchema: [
                {AttributeName: 'kind', KeyType: 'HASH'},
                {AttributeName: 'received_at', KeyType: 'RANGE'},
              ],
              Projection: {ProjectionType: 'ALL'},
            },
          ],
        })
      })

      it('I-2: a VPC with public and private subnets and the NAT gateways of cdk.json', () => {
        const network = (cdkJsonContext['devflow:network'] as Record<string, {cidr: string; natGateways: number}>)[stage]
        templates[stage].hasResourceProperties('AWS::EC2::VPC', {CidrBlock: network.cidr})
        templates[stage].resourceCountIs('AWS::EC2::NatGateway', network.natGateways)
        templates[stage].resourceCountIs('AWS::EC2::Subnet', 4)
        templates[stage].resourceCountIs('AWS::EC2::FlowLog', 1)
        // The workspaces' security group has no inbound rule.
        const groups = resources(stage, 'AWS::EC2::SecurityGroup')
        expect(groups).to.have.length(1)
        expect(groups[0][1].Properties?.SecurityGroupIngress).to.equal(undefined)
      })

      it('I-4: the two secrets, created with the placeholder only', () => {
        for (const name of Object.values(SECRET_NAMES)) {
          templates[stage].hasResourceProperties('AWS::SecretsManager::Secret', {Name: name, SecretString: 'devflow:not-set'})
        }
        // The page-token key is generated by CloudFormation and never set by hand.
        templates[stage].hasResourceProperties('AWS::SecretsManager::Secret', {
          Name: PAGE_TOKEN_KEY_SECRET_NAME,
          GenerateSecretString: Match.objectLike({GenerateStringKey: 'key', PasswordLength: 64}),
        })
      })

      it('I-6: the ECR repository scans on push and has lifecycle rules', () => {
        templates[stage].hasResourceProperties('AWS::ECR::Repository', {
          RepositoryName: ECR_REPOSITORY_NAME,
          ImageScanningConfiguration: {ScanOnPush: true},
          LifecyclePolicy: {LifecyclePolicyText: Match.stringLikeRegexp('"tagStatus":"untagged"')},
        })
      })

      it('I-8: a cluster with Fargate and Fargate Spot and Container Insights', () => {
        templates[stage].hasResourceProperties('AWS::ECS::Cluster', {
          ClusterSettings: [{Name: 'containerInsights', Value: 'enabled'}],
          // ECS Exec sessions are logged to their own group.
          Configuration: {ExecuteCommandConfiguration: {Logging: 'OVERRIDE', LogConfiguration: {CloudWatchLogGroupName: {Ref: Match.stringLikeRegexp('WorkspacesExecLogs')}}}},
        })
        templates[stage].hasResourceProperties('AWS::ECS::ClusterCapacityProviderAssociations', {
          CapacityProviders: ['FARGATE', 'FARGATE_SPOT'],
          DefaultCapacityProviderStrategy: [{CapacityProvider: stage === 'dev' ? 'FARGATE_SPOT' : 'FARGATE', Weight: 1}],
        })
        // The warm pool is RunTask'd tasks kept by its keeper, not an ECS service (README, "The warm pool").
        templates[stage].resourceCountIs('AWS::ECS::Service', 0)
      })

      it('I-10: the code-server task definition', () => {
        templates[stage].hasResourceProperties('AWS::ECS::TaskDefinition', {
          Family: 'devflow-workspace',
          Cpu: '1024',
          Memory: '4096',
          RequiresCompatibilities: ['FARGATE'],
          ContainerDefinitions: [
            Match.objectLike({
              Name: 'workspace',
              Memory: 4096,
              Image: Match.objectLike({'Fn::Join': Match.arrayWith([Match.arrayWith([':latest'])])}),
              PortMappings: [Match.objectLike({ContainerPort: 8080, Protocol: 'tcp'})],
              HealthCheck: Match.objectLike({Command: ['CMD-SHELL', 'curl -fsS http://localhost:8080/healthz || exit 1']}),
              LogConfiguration: Match.objectLike({LogDriver: 'awslogs'}),
              LinuxParameters: {InitProcessEnabled: true},
              StopTimeout: 120,
              Secrets: [{Name: 'ANTHROPIC_API_KEY', ValueFrom: Match.anyValue()}],
            }),
          ],
        })
      })

      it('I-9: one nodejs22.x function per route with AWS_IAM on user routes and none on agent routes or the GitHub webhook', () => {
        // The console's BucketDeployment brings CDK's own handler (test/infra/console.test.ts).
        const functions = resources(stage, 'AWS::Lambda::Function').filter(([id]) => !id.startsWith('CustomCDKBucketDeployment'))
        expect(functions).to.have.length(ROUTES.length + 1)
        for (const [, fn] of functions) {
          expect(fn.Properties?.Runtime).to.equal('nodejs22.x')
          const env = (fn.Properties?.Environment as {Variables: Record<string, unknown>}).Variables
          for (const name of [LAMBDA_ENV.sessionsTable, LAMBDA_ENV.promptsTable, LAMBDA_ENV.eventsTable, LAMBDA_ENV.cluster, LAMBDA_ENV.taskDefinition, LAMBDA_ENV.subnets, LAMBDA_ENV.securityGroups, LAMBDA_ENV.githubAppSecretArn]) {
            expect(env, name).to.have.property(name)
          }
          expect(env[LAMBDA_ENV.capacity]).to.equal(stage === 'dev' ? 'FARGATE_SPOT' : 'FARGATE')
          expect(env[LAMBDA_ENV.containerName]).to.equal('workspace')
          expect(env[LAMBDA_ENV.stage]).to.equal(stage)
          expect(env[LAMBDA_ENV.githubLabel]).to.equal('devflow')
          expect(env[LAMBDA_ENV.githubMaxSessionsPerRepo]).to.equal('3')
          expect(env, LAMBDA_ENV.githubDeliveriesTable).to.have.property(LAMBDA_ENV.githubDeliveriesTable)
          expect(env[LAMBDA_ENV.version]).to.match(/^\d+\.\d+\.\d+/)
          expect(JSON.stringify(env[LAMBDA_ENV.taskRoleArn])).to.match(/WorkspacesTaskRole.*Arn/)
          // Sessions of the operator role are the stage's admins (GET /admin/sessions).
          expect(JSON.stringify(env[LAMBDA_ENV.adminRoleArns])).to.match(/AccessOperator.*Arn/)
          expect(env).not.to.have.property(LAMBDA_ENV.emulator)
          // No devflow:repositories in the context: no repository may be started on.
          expect(env[LAMBDA_ENV.repositories]).to.equal('{"default":[]}')
          expect(env[LAMBDA_ENV.maxActiveSessionsPerUser]).to.equal(stage === 'dev' ? '3' : '5')
          expect(env).to.have.property(LAMBDA_ENV.pageTokenKeySecretArn)
        }
        // The IAM API's methods; the console's Cognito API is test/infra/console.test.ts's.
        const methods = resources(stage, 'AWS::ApiGateway::Method').filter(([id]) => id.startsWith('ControlPlane'))
        expect(methods).to.have.length(ROUTES.length)
        for (const route of ROUTES) {
          templates[stage].hasResourceProperties('AWS::ApiGateway::Method', {
            HttpMethod: route.method,
            AuthorizationType: route.auth === 'agent' || route.auth === 'github' ? 'NONE' : 'AWS_IAM',
            Integration: Match.objectLike({Type: 'AWS_PROXY'}),
          })
        }
        // No API Gateway auth: the agent routes (session token) and the GitHub webhook (its signature), nothing else.
        const unauthenticated = methods.filter(([, m]) => m.Properties?.AuthorizationType === 'NONE')
        expect(unauthenticated).to.have.length(ROUTES.filter((r) => r.auth === 'agent' || r.auth === 'github').length)
        expect(ROUTES.filter((r) => r.auth === 'github').map((r) => `${r.method} ${r.path}`)).to.deep.equal(['POST /github/webhook'])
        // Each agent method has its own throttle, apart from the stage's.
        const [[, apiStage]] = resources(stage, 'AWS::ApiGateway::Stage')
        const settings = apiStage.Properties?.MethodSettings as Array<{ResourcePath: string; HttpMethod: string; ThrottlingRateLimit: number; ThrottlingBurstLimit: number; MetricsEnabled?: boolean; LoggingLevel?: string}>
        const limits = {dev: [10, 20], prod: [50, 100]}[stage]
        for (const route of ROUTES.filter((r) => r.auth === 'agent')) {
          const setting = settings.find((m) => m.ResourcePath === `/${route.path.replaceAll('/', '~1')}` && m.HttpMethod === route.method)
          expect([setting?.ThrottlingRateLimit, setting?.ThrottlingBurstLimit], `${route.method} ${route.path}`).to.deep.equal(limits)
          expect(setting).to.include({MetricsEnabled: true, LoggingLevel: 'ERROR'})
        }
        expect(settings.find((m) => m.ResourcePath === '/*')).to.include({ThrottlingRateLimit: {dev: 20, prod: 100}[stage]})
        const longPoll = functions.find(([id]) => id.includes('AgentNextPrompt'))
        expect(longPoll?.[1].Properties?.Timeout).to.equal(29)
        // The events long poll (wait <= 20 s) too, inside API Gateway's 29 s integration timeout.
        const eventsPoll = functions.find(([id]) => id.includes('GetPromptEvents'))
        expect(eventsPoll?.[1].Properties?.Timeout).to.equal(29)
      })

      it('I-9: the lambda/ entries are still the 501 placeholders allowed until the control plane lands', () => {
        // The one allowed placeholder (issue 3): lambda/_not-implemented.ts answers 501. This test
        // only pins that each route has its entry file; the control-plane work replaces the bodies.
        for (const route of ROUTES) expect(readFileSync(join(ROOT, 'lambda', `${route.lambda}.ts`), 'utf8')).to.contain('handler')
      })

      it('the reaper runs every 5 minutes', () => {
        templates[stage].hasResourceProperties('AWS::Events::Rule', {
          ScheduleExpression: 'rate(5 minutes)',
          Targets: [Match.objectLike({Arn: {'Fn::GetAtt': [Match.stringLikeRegexp('ReapSessions'), 'Arn']}})],
        })
      })

      it('I-3: the function role: item access to the three tables and the GSI, scoped ECS, PassRole on the two task roles, one secret', () => {
        const statements = statementsOf(stage, 'ControlPlaneFunctionRole')
        const actions = statements.flatMap((s) => [s.Action].flat() as string[])
        expect(actions.filter((a) => a.includes('*') && !a.startsWith('xray:'))).to.deep.equal([])
        const withAction = (action: string) => statements.find((s) => ([s.Action].flat() as string[]).includes(action))
        const runTask = withAction('ecs:RunTask')
        expect(JSON.stringify(runTask?.Resource)).to.contain('task-definition/devflow-workspace:*')
        expect(runTask?.Condition).to.have.nested.property('ArnEquals.ecs:cluster')
        const stopDescribe = withAction('ecs:StopTask')
        expect(stopDescribe).to.equal(withAction('ecs:DescribeTasks'))
        expect(stopDescribe?.Condition).to.have.nested.property('ArnEquals.ecs:cluster')
        const passRole = withAction('iam:PassRole')
        expect(JSON.stringify(passRole?.Resource)).to.match(/WorkspacesExecutionRole.*WorkspacesTaskRole/)
        const secret = withAction('secretsmanager:GetSecretValue')
        expect(secret?.Action).to.equal('secretsmanager:GetSecretValue')
        expect(JSON.stringify(secret?.Resource)).to.contain('SecretsGithubApp')
        expect(JSON.stringify(statements)).not.to.contain('SecretsClaudeApiKey')
        const dynamo = statements.filter((s) => JSON.stringify(s.Action).includes('dynamodb:'))
        expect(JSON.stringify(dynamo)).to.contain('/index/user_id-created_at-index')
        expect(JSON.stringify(dynamo)).to.contain('DataGithubDeliveries').and.contain(`/index/${DELIVERIES_BY_TIME_INDEX}`)
        // Only the item calls the stores make: no batch writes, stream reads or table management, and
        // deletes on the warm pool's table alone (a handed-over task's record).
        const sessionData = dynamo.filter((s) => !JSON.stringify(s.Resource).includes('DataWarmPool'))
        expect(sessionData.flatMap((s) => [s.Action].flat() as string[]).sort()).to.deep.equal(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:Scan', 'dynamodb:UpdateItem'])
        const warmPool = dynamo.filter((s) => JSON.stringify(s.Resource).includes('DataWarmPool'))
        expect(warmPool.flatMap((s) => [s.Action].flat() as string[]).sort()).to.deep.equal(['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Scan', 'dynamodb:UpdateItem'])
        expect(warmPool.map((s) => JSON.stringify(s.Resource))).to.satisfy((list: string[]) => list.every((r) => !r.includes('DataSessions')))
        expect(actions).to.include('ecs:TagResource')
        expect(JSON.stringify(withAction('ecs:DescribeClusters')?.Resource)).to.match(/WorkspacesCluster.*Arn/)
        expect(JSON.stringify(statements)).to.contain('SecretsPageTokenKey')
      })

      it('I-3: the operator and developer roles people assume, trusted by the account', () => {
        for (const name of [`devflow-${stage}-operator`, `devflow-${stage}-developer`]) {
          templates[stage].hasResourceProperties('AWS::IAM::Role', {
            RoleName: name,
            AssumeRolePolicyDocument: Match.objectLike({Statement: Match.arrayWith([Match.objectLike({Action: 'sts:AssumeRole', Principal: {AWS: Match.objectLike({'Fn::Join': Match.anyValue()})}})])}),
          })
        }
        const developer = statementsOf(stage, 'AccessDeveloper')
        expect([...new Set(developer.flatMap((st) => [st.Action].flat()))].sort()).to.deep.equal(['cloudformation:DescribeStacks', 'ecs:DescribeTasks', 'execute-api:Invoke', 'ssm:StartSession'])
        // Only the caller's own tasks (test/integration/deployed-shapes.test.ts evaluates it): the
        // owner tag against the session-tag-built owner ARN, which the trust policy ties to the IAM user.
        const onTasks = developer.filter((st) => JSON.stringify(st.Resource).includes(':task/'))
        expect(onTasks).to.have.length(2)
        for (const st of onTasks) expect(JSON.stringify(st.Condition)).to.contain('aws:ResourceTag/devflow:owner').and.contain(`assumed-role/devflow-${stage}-developer/\${aws:PrincipalTag/devflow-user}`)
        const role = resources(stage, 'AWS::IAM::Role').find(([, r]) => r.Properties?.RoleName === `devflow-${stage}-developer`)?.[1]
        expect(JSON.stringify(role?.Properties?.AssumeRolePolicyDocument)).to.contain('"sts:RoleSessionName":"${aws:username}"').and.contain('"aws:RequestTag/devflow-user":"${aws:username}"')
        const operator = statementsOf(stage, 'AccessOperator').flatMap((st) => [st.Action].flat())
        expect(operator).to.include.members(['dynamodb:Scan', 'ecs:RunTask', 'ecs:StopTask', 'iam:PassRole', 'secretsmanager:GetSecretValue'])
        // The stage's upkeep (test/integration/operator-commands-iam.test.ts runs the commands).
        expect(operator).to.include.members(['secretsmanager:PutSecretValue', 'ecr:PutImage', 'ecr:GetAuthorizationToken', 'ecs:RegisterTaskDefinition', 'ecs:DescribeTaskDefinition'])
        expect(operator).not.to.include.oneOf(['secretsmanager:CreateSecret', 'secretsmanager:DeleteSecret'])
        expect(operator).not.to.include('dynamodb:DeleteItem')
        // Through the API, the operator role may call the admins' route, and only that one.
        const operatorInvoke = statementsOf(stage, 'AccessOperator').find((st) => st.Action === 'execute-api:Invoke')
        expect([operatorInvoke?.Resource].flat()).to.have.length(1)
        expect(JSON.stringify(operatorInvoke?.Resource)).to.contain('/GET/admin/sessions')
        const developerInvoke = JSON.stringify(developer.find((st) => st.Action === 'execute-api:Invoke')?.Resource)
        expect(developerInvoke).to.contain('/GET/repositories').and.not.contain('admin')
        expect(JSON.stringify(templates[stage].toJSON().Outputs[OUTPUT_KEYS.adminRoleArns].Value)).to.match(/AccessOperator.*Arn/)
      })

      it('I-3: no role policy grants a wildcard action', () => {
        // Identity policies only: bucket policies deny s3:* without TLS, and the alarm key's own
        // policy keeps the account's kms:* administration (a key without it cannot be managed).
        // CDK's BucketDeployment handler (the console upload) syncs objects with s3:GetObject*-style
        // grants of aws-cdk-lib's own; test/infra/console.test.ts pins them to the two buckets.
        const policies = [...resources(stage, 'AWS::IAM::Policy'), ...resources(stage, 'AWS::IAM::Role')]
          .filter(([id]) => !id.startsWith('CustomCDKBucketDeployment'))
          .map(([, r]) => r.Properties)
        const wildcards: string[] = []
        const visit = (node: unknown): void => {
          if (Array.isArray(node)) return node.forEach(visit)
          if (typeof node !== 'object' || node === null) return
          for (const [key, value] of Object.entries(node)) {
            if (key === 'Action' || key === 'NotAction') for (const action of [value].flat()) if (typeof action === 'string' && action.includes('*')) wildcards.push(action)
            visit(value)
          }
        }
        visit(policies)
        expect(wildcards).to.deep.equal([])
      })

      it('I-3: the task role has no DynamoDB, SQS or Secrets Manager access, only the ECS Exec channel, its log group and the workspace routes', () => {
        const statements = statementsOf(stage, 'WorkspacesTaskRole')
        const actions = statements.flatMap((s) => [s.Action].flat() as string[])
        expect(actions.sort()).to.deep.equal([
          'execute-api:Invoke',
          'logs:CreateLogStream',
          'logs:DescribeLogGroups',
          'logs:DescribeLogStreams',
          'logs:PutLogEvents',
          'ssmmessages:CreateControlChannel',
          'ssmmessages:CreateDataChannel',
          'ssmmessages:OpenControlChannel',
          'ssmmessages:OpenDataChannel',
        ])
        // Appending to the ECS Exec log group only.
        const logWrites = statements.find((st) => ([st.Action].flat() as string[]).includes('logs:PutLogEvents'))
        expect(JSON.stringify(logWrites?.Resource)).to.contain('WorkspacesExecLogs').and.not.contain('"*"')
        // This API, this stage, and only the workspace routes: the bootstrap call and the checkpoint's
        // save and restore of any session (each handler checks that the caller is the session's task),
        // and the warm pool's register route.
        const invoke = statements.find((s) => s.Action === 'execute-api:Invoke')
        const invoked = [invoke?.Resource].flat().map((r) => JSON.stringify(r))
        expect(invoked).to.have.length(4)
        for (const text of invoked) expect(text).to.contain('ControlPlaneApi').and.contain('ControlPlaneApiDeploymentStage')
        expect(invoked.map((text) => /\/(POST|GET)\/agent\/(?:sessions|warm)\/\*\/(\w+)/.exec(text)?.slice(1).join(' ')).sort()).to.deep.equal(['GET checkpoint', 'POST bootstrap', 'POST checkpoint', 'POST register'])
        for (const pattern of [/bootstrapPOST/i, /checkpointPOST/i, /checkpointGET/i]) {
          const method = resources(stage, 'AWS::ApiGateway::Method').find(([id]) => pattern.test(id))
          expect(method?.[1].Properties?.AuthorizationType, String(pattern)).to.equal('AWS_IAM')
        }
      })

      it('I-3: the execution role pulls from the repository, writes its log group, reads only the Claude key', () => {
        const statements = statementsOf(stage, 'WorkspacesExecutionRole')
        const text = JSON.stringify(statements)
        expect(text).to.contain('ecr:BatchGetImage')
        expect(text).to.contain('logs:PutLogEvents')
        expect(text).to.contain('SecretsClaudeApiKey')
        expect(text).not.to.contain('SecretsGithubApp')
        expect(text).not.to.contain('dynamodb:')
      })

      it('I-7: a private bucket behind CloudFront with origin access control, HTTPS only, access logs', () => {
        const t = templates[stage]
        t.hasResourceProperties('AWS::S3::Bucket', {
          PublicAccessBlockConfiguration: {BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true},
          LoggingConfiguration: Match.objectLike({LogFilePrefix: 'bucket/'}),
        })
        t.resourceCountIs('AWS::CloudFront::OriginAccessControl', 1)
        t.hasResourceProperties('AWS::CloudFront::Distribution', {
          DistributionConfig: Match.objectLike({
            DefaultCacheBehavior: Match.objectLike({ViewerProtocolPolicy: 'redirect-to-https'}),
            Logging: Match.objectLike({Prefix: 'cloudfront/'}),
          }),
        })
      })

      it('I-13: an alarm per function, API 5xx, task failures from EventBridge, all to the SNS topic, and a dashboard', () => {
        const t = templates[stage]
        t.resourceCountIs('AWS::SNS::Topic', 1)
        t.resourceCountIs('AWS::CloudWatch::Alarm', ROUTES.length + 2)
        t.hasResourceProperties('AWS::CloudWatch::Alarm', {MetricName: '5XXError', Namespace: 'AWS/ApiGateway', AlarmActions: [{Ref: Match.stringLikeRegexp('MonitoringAlarms')}]})
        t.hasResourceProperties('AWS::CloudWatch::Alarm', {Metrics: Match.arrayWith([Match.objectLike({Expression: '100 * errors / MAX([errors, invocations])'})])})
        t.hasResourceProperties('AWS::Events::Rule', {
          EventPattern: {
            source: ['aws.ecs'],
            'detail-type': ['ECS Task State Change'],
            detail: Match.objectLike({lastStatus: ['STOPPED'], $or: [{containers: {exitCode: [{'anything-but': 0}]}}, {stopCode: ['SpotInterruption']}]}),
          },
          Targets: [Match.objectLike({Arn: {Ref: Match.stringLikeRegexp('MonitoringAlarms')}})],
        })
        t.hasResourceProperties('AWS::CloudWatch::Dashboard', {DashboardName: `devflow-${stage}`})
      })

      it('tags every taggable resource with app and stage', () => {
        templates[stage].hasResourceProperties('AWS::DynamoDB::Table', {Tags: Match.arrayWith([{Key: 'app', Value: 'devflow'}, {Key: 'stage', Value: stage}])})
      })

      it('cfn-lint finds 0 errors in the template', async () => {
        // Warnings (W) are reported by cfn-lint's exit code bits 4/8; errors set bit 2.
        const result = await run('cfn-lint', ['--format', 'parseable', templateFiles[stage]]).catch((error: {code: number; stdout: string}) => error)
        const lines = String(result.stdout).split('\n').filter((line) => /:E\d{4}:/.test(line))
        expect(lines, lines.join('\n')).to.deep.equal([])
      })
    })
  }

  it('prod keeps its data: retention, point-in-time recovery and deletion protection; dev does not', () => {
    for (const [, table] of resources('prod', 'AWS::DynamoDB::Table')) {
      expect(table.Properties?.PointInTimeRecoverySpecification).to.deep.equal({PointInTimeRecoveryEnabled: true})
      expect(table.Properties?.DeletionProtectionEnabled).to.equal(true)
    }
    templates.prod.hasResource('AWS::DynamoDB::Table', {DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain'})
    templates.prod.hasResource('AWS::SecretsManager::Secret', {DeletionPolicy: 'Retain'})
    templates.prod.hasResource('AWS::ECR::Repository', {DeletionPolicy: 'Retain'})
    for (const [, table] of resources('dev', 'AWS::DynamoDB::Table')) expect(table.Properties?.DeletionProtectionEnabled).to.equal(false)
    templates.dev.hasResource('AWS::DynamoDB::Table', {DeletionPolicy: 'Delete'})
    templates.dev.hasResource('AWS::ECR::Repository', {DeletionPolicy: 'Delete', Properties: Match.objectLike({EmptyOnDelete: true})})
    for (const stage of STAGE_NAMES) {
      for (const [, bucket] of Object.entries(templates[stage].findResources('AWS::S3::Bucket'))) expect(bucket.DeletionPolicy).to.equal('Retain')
    }
  })

  it('pins the image by digest when devflow:imageDigest is set', () => {
    const digest = `sha256:${'ab'.repeat(32)}`
    const app = buildApp({context: {...cdkJsonContext, 'aws:cdk:bundling-stacks': [], 'devflow:stages': 'dev', 'devflow:imageDigest': digest}, nag: false})
    const template = Template.fromStack(app.node.findChild(stackIdFor('dev')) as never)
    expect(JSON.stringify(template.findResources('AWS::ECS::TaskDefinition'))).to.contain(`@${digest}`)
  })

  it('carries devflow:repositories (a list or JSON) into the functions and the outputs, and refuses a bad one at synth', () => {
    const access = {default: ['octo/app'], principals: {'arn:aws:sts::123456789012:assumed-role/Dev/*': ['octo/*']}}
    for (const value of [access, JSON.stringify(access)]) {
      const app = buildApp({context: {...cdkJsonContext, 'aws:cdk:bundling-stacks': [], 'devflow:stages': 'dev', 'devflow:repositories': value}, nag: false})
      const template = Template.fromStack(app.node.findChild(stackIdFor('dev')) as never)
      // The functions of the session services (the console's and custom resources have other settings).
      const services = Object.values(template.findResources('AWS::Lambda::Function'))
        .map((fn) => (fn.Properties?.Environment as {Variables?: Record<string, unknown>} | undefined)?.Variables ?? {})
        .filter((env) => env[LAMBDA_ENV.sessionsTable] !== undefined)
      expect(services).to.have.length.greaterThan(10)
      for (const env of services) expect(JSON.parse(String(env[LAMBDA_ENV.repositories]))).to.deep.equal(access)
      expect(JSON.parse(template.toJSON().Outputs[OUTPUT_KEYS.repositories].Value)).to.deep.equal(access)
    }
    expect(() => buildApp({context: {...cdkJsonContext, 'devflow:stages': 'dev', 'devflow:repositories': 'not a repo'}, nag: false})).to.throw(/devflow:repositories is not a repository allow-list/)
  })

  it('moto mode leaves out only what moto cannot create, and nothing without the key', () => {
    const app = buildApp({context: {...cdkJsonContext, 'aws:cdk:bundling-stacks': [], 'devflow:stages': 'dev', 'devflow:emulator': 'moto'}, nag: false})
    const moto = Template.fromStack(app.node.findChild(stackIdFor('dev')) as never)
    moto.resourceCountIs('AWS::EC2::NatGateway', 0)
    moto.resourceCountIs('AWS::ECS::Service', 0)
    expect(Object.keys(moto.toJSON().Outputs)).not.to.include(OUTPUT_KEYS.frontendDomain)
    // The runtime learns it runs on the emulator (README, "The emulator mode").
    expect(moto.toJSON().Outputs[OUTPUT_KEYS.emulator].Value).to.equal('moto')
    for (const [, fn] of Object.entries(moto.findResources('AWS::Lambda::Function'))) {
      expect((fn.Properties.Environment as {Variables: Record<string, unknown>}).Variables[LAMBDA_ENV.emulator]).to.equal('moto')
    }
    moto.resourceCountIs('AWS::Cognito::UserPool', 0)
    moto.resourceCountIs('Custom::CDKBucketDeployment', 0)
    expect(Object.keys(moto.toJSON().Outputs)).not.to.include(OUTPUT_KEYS.consoleUserPoolId)
    templates.dev.resourceCountIs('AWS::Cognito::UserPool', 1)
    expect(() => buildApp({context: {...cdkJsonContext, 'devflow:emulator': 'localstack'}, nag: false})).to.throw(/not a supported emulator/)
  })
})
