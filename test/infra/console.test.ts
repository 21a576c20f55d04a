/**
 * The console's AWS side in the synthesized dev stack, federated to an OIDC and a SAML provider by
 * context keys: the Cognito user pool, hosted login and app client, the Cognito-authorised console
 * API on the same route functions, CORS for the distribution only, the CloudFront response headers
 * and the BucketDeployment of the built console. cdk-nag runs at synth; cfn-lint on the template.
 */
import {execFile} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {promisify} from 'node:util'

import {Match, Template} from 'aws-cdk-lib/assertions'
import {expect} from 'chai'

import {CONSOLE_ADMIN_GROUP} from '../../src/core/admins.js'

import {buildApp, stackIdFor} from '../../infra/app.js'
import {CONSOLE_CONTEXT_KEYS} from '../../infra/constructs/console.js'
import {ROUTES} from '../../src/api/routes.js'
import {LAMBDA_ENV, OUTPUT_KEYS} from '../../src/core/deployment.js'
import {ROOT} from '../helpers/cli.js'

const run = promisify(execFile)
const cdkJsonContext = JSON.parse(readFileSync(join(ROOT, 'cdk.json'), 'utf8')).context as Record<string, unknown>
const FEDERATION = {
  [CONSOLE_CONTEXT_KEYS.oidcIssuer]: 'https://login.example.com',
  [CONSOLE_CONTEXT_KEYS.oidcClientId]: 'devflow-console',
  [CONSOLE_CONTEXT_KEYS.oidcClientSecretName]: 'devflow/console-oidc',
  [CONSOLE_CONTEXT_KEYS.oidcName]: 'Corp',
  [CONSOLE_CONTEXT_KEYS.samlMetadataUrl]: 'https://idp.example.com/metadata.xml',
  [CONSOLE_CONTEXT_KEYS.samlName]: 'CorpSaml',
}

type Resources = Record<string, {Type: string; Properties: Record<string, unknown>; DependsOn?: string[]}>

describe('infra: the web console on AWS (Cognito, console API, CloudFront headers, upload)', function () {
  this.timeout(180_000)
  let template: Template
  let templateFile: string
  let outdir: string
  let resources: Resources

  const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type)
  const idOf = (type: string, prefix: string) => {
    const found = ofType(type).filter(([id]) => id.startsWith(prefix))
    expect(found, `${type} ${prefix}`).to.have.length(1)
    return found[0][0]
  }

  before(async () => {
    outdir = await mkdtemp(join(tmpdir(), 'devflow-console-synth-'))
    const app = buildApp({context: {...cdkJsonContext, 'aws:cdk:bundling-stacks': [], 'devflow:stages': 'dev', ...FEDERATION}, outdir})
    const artifact = app.synth().getStackArtifact(stackIdFor('dev'))
    template = Template.fromJSON(artifact.template as Record<string, unknown>)
    templateFile = artifact.templateFullPath
    resources = template.toJSON().Resources as Resources
  })
  after(() => rm(outdir, {recursive: true, force: true}))

  it('has a user pool that only admins add users to, with a strong password policy and TOTP MFA', () => {
    template.resourceCountIs('AWS::Cognito::UserPool', 1)
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      UserPoolName: 'devflow-dev-console',
      AdminCreateUserConfig: {AllowAdminCreateUserOnly: true},
      UsernameAttributes: ['email'],
      MfaConfiguration: 'OPTIONAL',
      EnabledMfas: ['SOFTWARE_TOKEN_MFA'],
      Policies: {PasswordPolicy: Match.objectLike({MinimumLength: 12, RequireLowercase: true, RequireUppercase: true, RequireNumbers: true, RequireSymbols: true})},
    })
    template.hasResourceProperties('AWS::Cognito::UserPoolDomain', {Domain: {'Fn::Join': ['', ['devflow-dev-', {Ref: 'AWS::AccountId'}]]}})
    expect(template.toJSON().Outputs[OUTPUT_KEYS.consoleUserPoolId].Value).to.deep.equal({Ref: idOf('AWS::Cognito::UserPool', 'ConsoleUsers')})
  })

  it('has the devflow-admins group, whose members are the stage\'s admins in the console', () => {
    template.resourceCountIs('AWS::Cognito::UserPoolGroup', 1)
    template.hasResourceProperties('AWS::Cognito::UserPoolGroup', {GroupName: CONSOLE_ADMIN_GROUP, UserPoolId: {Ref: idOf('AWS::Cognito::UserPool', 'ConsoleUsers')}})
  })

  it('has a public app client (no secret: the console adds PKCE): code flow back to the distribution, federated to OIDC and SAML', () => {
    const distribution = idOf('AWS::CloudFront::Distribution', 'FrontendDistribution')
    const site = {'Fn::Join': ['', ['https://', {'Fn::GetAtt': [distribution, 'DomainName']}, '/']]}
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      GenerateSecret: false,
      AllowedOAuthFlows: ['code'],
      AllowedOAuthFlowsUserPoolClient: true,
      AllowedOAuthScopes: ['openid', 'email', 'profile'],
      CallbackURLs: [site],
      LogoutURLs: [site],
      SupportedIdentityProviders: ['COGNITO', 'Corp', 'CorpSaml'],
      PreventUserExistenceErrors: 'ENABLED',
    })
    template.hasResourceProperties('AWS::Cognito::UserPoolIdentityProvider', {
      ProviderName: 'Corp',
      ProviderType: 'OIDC',
      ProviderDetails: Match.objectLike({client_id: 'devflow-console', oidc_issuer: 'https://login.example.com', client_secret: '{{resolve:secretsmanager:devflow/console-oidc:SecretString:::}}'}),
    })
    template.hasResourceProperties('AWS::Cognito::UserPoolIdentityProvider', {ProviderName: 'CorpSaml', ProviderType: 'SAML', ProviderDetails: Match.objectLike({MetadataURL: 'https://idp.example.com/metadata.xml'})})
    const client = ofType('AWS::Cognito::UserPoolClient')[0]
    expect(template.toJSON().Resources[client[0]].DependsOn).to.have.length(2)
  })

  it('has a console API whose user routes carry the Cognito authorizer and reach the same functions; no agent routes', () => {
    const consoleApi = idOf('AWS::ApiGateway::RestApi', 'ConsoleApi')
    const pool = idOf('AWS::Cognito::UserPool', 'ConsoleUsers')
    template.hasResourceProperties('AWS::ApiGateway::Authorizer', {Type: 'COGNITO_USER_POOLS', RestApiId: {Ref: consoleApi}, IdentitySource: 'method.request.header.Authorization', ProviderARNs: [{'Fn::GetAtt': [pool, 'Arn']}]})
    const authorizer = idOf('AWS::ApiGateway::Authorizer', 'ConsoleAuthorizer')
    const methods = ofType('AWS::ApiGateway::Method').filter(([, m]) => JSON.stringify(m.Properties.RestApiId) === JSON.stringify({Ref: consoleApi}))
    const routeMethods = methods.filter(([, m]) => m.Properties.HttpMethod !== 'OPTIONS')
    const userRoutes = ROUTES.filter((r) => r.auth === 'iam')
    expect(routeMethods).to.have.length(userRoutes.length)
    for (const [, method] of routeMethods) {
      expect(method.Properties).to.include({AuthorizationType: 'COGNITO_USER_POOLS'})
      expect(method.Properties.AuthorizerId).to.deep.equal({Ref: authorizer})
      const uri = JSON.stringify((method.Properties.Integration as {Uri: unknown}).Uri)
      expect(uri).to.match(/ControlPlane[A-Za-z]+[0-9A-F]{8}/)
    }
    // Every user route's function is invoked by the console API too, and no agent function is.
    for (const route of ROUTES) {
      const fnId = Object.keys(resources).find((id) => resources[id].Type === 'AWS::Lambda::Function' && id.startsWith(`ControlPlane${route.lambda.replace(/(^|-)([a-z])/g, (_, _d: string, l: string) => l.toUpperCase())}`))
      const invokedByConsole = ofType('AWS::Lambda::Permission').some(([, p]) => JSON.stringify(p.Properties.FunctionName).includes(fnId!) && JSON.stringify(p.Properties.SourceArn).includes(consoleApi))
      expect(invokedByConsole, route.path).to.equal(route.auth === 'iam')
    }
  })

  it('allows CORS from the distribution\'s origin only, including on API Gateway\'s own refusals', () => {
    const distribution = idOf('AWS::CloudFront::Distribution', 'FrontendDistribution')
    const origin = {'Fn::Join': ['', ['https://', {'Fn::GetAtt': [distribution, 'DomainName']}]]}
    const preflights = ofType('AWS::ApiGateway::Method').filter(([id, m]) => id.startsWith('ConsoleApi') && m.Properties.HttpMethod === 'OPTIONS')
    expect(preflights.length).to.be.greaterThan(0)
    for (const [, preflight] of preflights) {
      const headers = ((preflight.Properties.Integration as {IntegrationResponses: Array<{ResponseParameters: Record<string, unknown>}>}).IntegrationResponses[0]).ResponseParameters
      expect(headers['method.response.header.Access-Control-Allow-Origin']).to.deep.equal({'Fn::Join': ['', ["'https://", {'Fn::GetAtt': [distribution, 'DomainName']}, "'"]]})
      expect(headers['method.response.header.Access-Control-Allow-Headers']).to.equal("'authorization,content-type'")
    }
    template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'UNAUTHORIZED',
      StatusCode: '401',
      ResponseParameters: {'gatewayresponse.header.Access-Control-Allow-Origin': {'Fn::Join': ['', ["'https://", {'Fn::GetAtt': [distribution, 'DomainName']}, "'"]]}},
      ResponseTemplates: {'application/json': Match.stringLikeRegexp('CONSOLE_SIGN_IN_REQUIRED')},
    })
    // The functions answer that origin; their agents call the IAM API back, not the console's.
    const iamApi = idOf('AWS::ApiGateway::RestApi', 'ControlPlaneApi')
    const routeFunctions = ofType('AWS::Lambda::Function').filter(([id]) => id.startsWith('ControlPlane') && !id.startsWith('ControlPlaneReapSessions'))
    expect(routeFunctions).to.have.length(ROUTES.length)
    for (const [, fn] of routeFunctions) {
      const env = (fn.Properties.Environment as {Variables: Record<string, unknown>}).Variables
      expect(env[LAMBDA_ENV.consoleOrigin]).to.deep.equal(origin)
      expect(JSON.stringify(env[LAMBDA_ENV.agentApiUrl])).to.include(`{"Ref":"${iamApi}"}`)
    }
  })

  it('serves the console with a CSP, HSTS and no framing from CloudFront', () => {
    const policy = idOf('AWS::CloudFront::ResponseHeadersPolicy', 'ConsoleHeaders')
    const config = (resources[policy].Properties.ResponseHeadersPolicyConfig as {SecurityHeadersConfig: Record<string, Record<string, unknown>>}).SecurityHeadersConfig
    const csp = JSON.stringify(config.ContentSecurityPolicy.ContentSecurityPolicy)
    for (const directive of ["default-src 'self'", "script-src 'self'", "frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'", 'connect-src \'self\' https://*.execute-api.', '.amazoncognito.com']) {
      expect(csp).to.include(directive)
    }
    expect(csp).not.to.include('unsafe-inline')
    expect(config.StrictTransportSecurity).to.deep.equal({AccessControlMaxAgeSec: 63_072_000, IncludeSubdomains: true, Preload: true, Override: true})
    expect(config.FrameOptions).to.deep.equal({FrameOption: 'DENY', Override: true})
    expect(config.ContentTypeOptions).to.deep.equal({Override: true})
    template.hasResourceProperties('AWS::CloudFront::Distribution', {DistributionConfig: Match.objectLike({DefaultCacheBehavior: Match.objectLike({ResponseHeadersPolicyId: {Ref: policy}})})})
  })

  it('uploads the built console and its config.json to the front-end bucket and invalidates the distribution', () => {
    const bucket = idOf('AWS::S3::Bucket', 'FrontendSite')
    const distribution = idOf('AWS::CloudFront::Distribution', 'FrontendDistribution')
    const [[, upload]] = ofType('Custom::CDKBucketDeployment')
    expect(upload.Properties).to.deep.include({DestinationBucketName: {Ref: bucket}, DistributionId: {Ref: distribution}, DistributionPaths: ['/*'], Prune: true})
    expect(upload.Properties.SourceObjectKeys).to.have.length(2)
    // config.json's deploy-time values: the console API's URL, the hosted login and the client.
    const markers = JSON.stringify(upload.Properties.SourceMarkers)
    expect(markers).to.include(idOf('AWS::ApiGateway::RestApi', 'ConsoleApi'))
    expect(markers).to.include(idOf('AWS::Cognito::UserPoolClient', 'ConsoleUsersConsole'))
    expect(markers).to.include(idOf('AWS::Cognito::UserPoolDomain', 'ConsoleUsersHostedLogin'))
    // Its handler's role writes only to the front-end bucket (and reads CDK's asset bucket).
    const handlerPolicy = ofType('AWS::IAM::Policy').find(([id]) => id.startsWith('CustomCDKBucketDeployment'))!
    const statements = (handlerPolicy[1].Properties.PolicyDocument as {Statement: Array<{Action: string | string[]; Resource: unknown}>}).Statement
    const writes = statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('s3:Put') || a.startsWith('s3:DeleteObject')))
    expect(writes).to.have.length(1)
    expect(JSON.stringify(writes[0].Resource)).to.include(bucket).and.not.include('cdk-hnb659fds-assets')
  })

  it('refuses an incomplete OIDC federation instead of leaving it out', () => {
    const partial = {...cdkJsonContext, 'aws:cdk:bundling-stacks': [], 'devflow:stages': 'dev', [CONSOLE_CONTEXT_KEYS.oidcIssuer]: 'https://login.example.com'}
    expect(() => buildApp({context: partial, nag: false})).to.throw(/needs all of -c devflow:consoleOidcIssuer, devflow:consoleOidcClientId and devflow:consoleOidcClientSecretName/)
  })

  it('cfn-lint finds 0 errors in the federated template', async () => {
    const result = await run('cfn-lint', ['--format', 'parseable', templateFile]).catch((error: {code: number; stdout: string}) => error)
    const code = 'code' in result ? result.code : 0
    const stdout = 'stdout' in result ? result.stdout : ''
    expect(code & 2, stdout).to.equal(0)
  })
})
