import {existsSync} from 'node:fs'

import {
  aws_apigateway as apigateway,
  Aws,
  type CfnElement,
  aws_cloudfront as cloudfront,
  aws_cognito as cognito,
  Duration,
  Fn,
  aws_logs as logs,
  RemovalPolicy,
  aws_s3_deployment as s3deploy,
  SecretValue,
  Stack,
  Validations,
} from 'aws-cdk-lib'
import type {Node} from 'constructs'
import {Construct} from 'constructs'

import {CONSOLE_ADMIN_GROUP} from '../../src/core/admins.js'
import {LAMBDA_ENV} from '../../src/core/deployment.js'
import {invalidInput} from '../../src/core/errors.js'
import type {RouteFunction} from './control-plane-api.js'
import type {FrontendHosting} from './frontend-hosting.js'

/** Context keys of the console (`-c key=value` on deploy, diff and synth). */
export const CONSOLE_CONTEXT_KEYS = {
  /** The hosted login's domain prefix (<prefix>.auth.<region>.amazoncognito.com). @default devflow-<stage>-<account> */
  authDomainPrefix: 'devflow:consoleAuthDomain',
  /** Federation to an OpenID Connect provider: its issuer URL, client id and the Secrets Manager secret holding the client secret. */
  oidcIssuer: 'devflow:consoleOidcIssuer',
  oidcClientId: 'devflow:consoleOidcClientId',
  oidcClientSecretName: 'devflow:consoleOidcClientSecretName',
  /** The button label on the hosted login. @default OIDC */
  oidcName: 'devflow:consoleOidcName',
  /** Federation to a SAML 2.0 provider: its metadata document URL. */
  samlMetadataUrl: 'devflow:consoleSamlMetadataUrl',
  /** @default SAML */
  samlName: 'devflow:consoleSamlName',
} as const

export interface ConsoleFederation {
  readonly oidc?: {readonly name: string; readonly issuer: string; readonly clientId: string; readonly clientSecretName: string}
  readonly saml?: {readonly name: string; readonly metadataUrl: string}
}

/** The federation the context asks for; an incomplete OIDC set is an error, not a silent no. */
export function consoleFederationFrom(node: Node): ConsoleFederation {
  const get = (key: string) => {
    const value = node.tryGetContext(key) as unknown
    return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined
  }
  const issuer = get(CONSOLE_CONTEXT_KEYS.oidcIssuer)
  const clientId = get(CONSOLE_CONTEXT_KEYS.oidcClientId)
  const clientSecretName = get(CONSOLE_CONTEXT_KEYS.oidcClientSecretName)
  const oidcKeys = [issuer, clientId, clientSecretName]
  if (oidcKeys.some(Boolean) && !oidcKeys.every(Boolean)) {
    throw invalidInput(
      'INVALID_CONTEXT',
      `Console OIDC federation needs all of -c ${CONSOLE_CONTEXT_KEYS.oidcIssuer}, ${CONSOLE_CONTEXT_KEYS.oidcClientId} and ${CONSOLE_CONTEXT_KEYS.oidcClientSecretName}.`,
      'Pass the three together (the secret holds the client secret), or none of them.',
    )
  }
  const metadataUrl = get(CONSOLE_CONTEXT_KEYS.samlMetadataUrl)
  return {
    ...(issuer && clientId && clientSecretName ? {oidc: {name: get(CONSOLE_CONTEXT_KEYS.oidcName) ?? 'OIDC', issuer, clientId, clientSecretName}} : {}),
    ...(metadataUrl ? {saml: {name: get(CONSOLE_CONTEXT_KEYS.samlName) ?? 'SAML', metadataUrl}} : {}),
  }
}

export function consoleAuthDomainPrefix(node: Node, stageName: string): string {
  const value = node.tryGetContext(CONSOLE_CONTEXT_KEYS.authDomainPrefix) as unknown
  return typeof value === 'string' && value !== '' ? value : `devflow-${stageName}-${Aws.ACCOUNT_ID}`
}

export interface ConsoleHeadersProps {
  /** The hosted login's domain prefix: the page may talk to it. */
  readonly authDomainPrefix: string
}

/**
 * The console's response headers at CloudFront: a CSP that allows only its own files plus the
 * region's API and the hosted login, HSTS, no framing (frame-ancestors 'none', X-Frame-Options
 * DENY), nosniff and no referrer. It names the API by the region's execute-api wildcard rather
 * than by id, so the distribution does not depend on the API (whose CORS depends on the
 * distribution).
 */
export class ConsoleHeaders extends Construct {
  readonly policy: cloudfront.ResponseHeadersPolicy

  constructor(scope: Construct, id: string, props: ConsoleHeadersProps) {
    super(scope, id)
    const auth = `https://${props.authDomainPrefix}.auth.${Aws.REGION}.amazoncognito.com`
    const api = `https://*.execute-api.${Aws.REGION}.${Aws.URL_SUFFIX}`
    this.policy = new cloudfront.ResponseHeadersPolicy(this, 'Policy', {
      comment: 'DevFlow console: CSP, HSTS, no framing',
      securityHeadersBehavior: {
        contentSecurityPolicy: {
          contentSecurityPolicy: `default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' ${api} ${auth}; frame-ancestors 'none'; base-uri 'none'; form-action 'self' ${auth}; object-src 'none'`,
          override: true,
        },
        strictTransportSecurity: {accessControlMaxAge: Duration.days(730), includeSubdomains: true, preload: true, override: true},
        frameOptions: {frameOption: cloudfront.HeadersFrameOption.DENY, override: true},
        contentTypeOptions: {override: true},
        referrerPolicy: {referrerPolicy: cloudfront.HeadersReferrerPolicy.NO_REFERRER, override: true},
        xssProtection: {protection: true, modeBlock: true, override: true},
      },
    })
  }
}

export interface DevflowConsoleProps {
  readonly stageName: string
  readonly frontend: FrontendHosting
  /** The control plane's route functions: the console API routes its user routes to the same functions. */
  readonly routes: readonly RouteFunction[]
  /** The IAM-authorised API: the account's CloudWatch role comes with it, and agents call it back. */
  readonly iamApi: apigateway.RestApi
  readonly authDomainPrefix: string
  readonly federation?: ConsoleFederation
  /** The built console (dist/console): uploaded to the front-end bucket. */
  readonly siteDir: string
  readonly logRetention: logs.RetentionDays
  readonly throttlingRateLimit: number
  readonly throttlingBurstLimit: number
  /** The user pool's removal policy (its users). */
  readonly removalPolicy: RemovalPolicy
}

/**
 * The console on AWS: a Cognito user pool with its hosted login (optionally federated to the
 * team's OIDC or SAML provider), a second REST API whose user routes carry a Cognito authorizer
 * and reach the same Lambda functions as the IAM routes (the owner is the token's subject, see
 * src/api/console-identity.ts; members of the `devflow-admins` group are the stage's admins), CORS for the distribution's origin only, and the built console
 * with its config.json uploaded to the front-end bucket (a BucketDeployment that invalidates the
 * distribution).
 */
export class DevflowConsole extends Construct {
  readonly userPool: cognito.UserPool
  readonly client: cognito.UserPoolClient
  readonly admins: cognito.UserPoolGroup
  readonly domain: cognito.UserPoolDomain
  readonly api: apigateway.RestApi
  readonly siteUrl: string
  readonly deployment: s3deploy.BucketDeployment

  constructor(scope: Construct, id: string, props: DevflowConsoleProps) {
    super(scope, id)
    if (!existsSync(props.siteDir)) {
      throw invalidInput('CONSOLE_NOT_BUILT', `The console is not built (${props.siteDir} is missing).`, 'Run `npm run build` in the devflow package first.')
    }
    const origin = `https://${props.frontend.distribution.distributionDomainName}`
    this.siteUrl = `${origin}/`

    this.userPool = new cognito.UserPool(this, 'Users', {
      userPoolName: `devflow-${props.stageName}-console`,
      selfSignUpEnabled: false,
      signInAliases: {email: true},
      autoVerify: {email: true},
      standardAttributes: {email: {required: true, mutable: true}},
      passwordPolicy: {minLength: 12, requireLowercase: true, requireUppercase: true, requireDigits: true, requireSymbols: true, tempPasswordValidity: Duration.days(3)},
      mfa: cognito.Mfa.OPTIONAL,
      mfaSecondFactor: {otp: true, sms: false},
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      removalPolicy: props.removalPolicy,
    })
    Validations.of(this.userPool).acknowledge(
      {id: 'AwsSolutions-COG2', reason: 'TOTP MFA is offered to every user; teams that require it federate to their own identity provider, which enforces it.'},
      {id: 'AwsSolutions-COG8', reason: 'The Essentials plan: the Plus plan\'s threat protection is for teams that sign in with Cognito passwords rather than their identity provider.'},
      {id: 'AwsSolutions-COG3', reason: 'Threat protection needs the Cognito Plus plan; federated sign-in (the expected setup for teams) is protected by the identity provider.'},
    )
    // Its members are the stage's admins in the console: they see every user's sessions (core/admins.ts).
    this.admins = this.userPool.addGroup('Admins', {groupName: CONSOLE_ADMIN_GROUP, description: 'DevFlow admins: the console\'s "All sessions" view (every user\'s sessions)'})
    this.domain = this.userPool.addDomain('HostedLogin', {cognitoDomain: {domainPrefix: props.authDomainPrefix}})

    const providers: cognito.UserPoolClientIdentityProvider[] = [cognito.UserPoolClientIdentityProvider.COGNITO]
    const federated: Construct[] = []
    if (props.federation?.oidc) {
      const {name, issuer, clientId, clientSecretName} = props.federation.oidc
      federated.push(
        new cognito.UserPoolIdentityProviderOidc(this, 'Oidc', {
          userPool: this.userPool,
          name,
          issuerUrl: issuer,
          clientId,
          clientSecret: SecretValue.secretsManager(clientSecretName).unsafeUnwrap(),
          scopes: ['openid', 'email', 'profile'],
          attributeMapping: {email: cognito.ProviderAttribute.other('email')},
        }),
      )
      providers.push(cognito.UserPoolClientIdentityProvider.custom(name))
    }
    if (props.federation?.saml) {
      const {name, metadataUrl} = props.federation.saml
      federated.push(
        new cognito.UserPoolIdentityProviderSaml(this, 'Saml', {
          userPool: this.userPool,
          name,
          metadata: cognito.UserPoolIdentityProviderSamlMetadata.url(metadataUrl),
          attributeMapping: {email: cognito.ProviderAttribute.other('http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress')},
        }),
      )
      providers.push(cognito.UserPoolClientIdentityProvider.custom(name))
    }

    this.client = this.userPool.addClient('Console', {
      userPoolClientName: 'devflow-console',
      generateSecret: false,
      authFlows: {},
      oAuth: {
        flows: {authorizationCodeGrant: true},
        scopes: [cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
        callbackUrls: [this.siteUrl],
        logoutUrls: [this.siteUrl],
      },
      supportedIdentityProviders: providers,
      preventUserExistenceErrors: true,
      idTokenValidity: Duration.hours(1),
      accessTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.hours(12),
    })
    for (const provider of federated) this.client.node.addDependency(provider)

    const accessLogs = new logs.LogGroup(this, 'AccessLogs', {retention: props.logRetention, removalPolicy: RemovalPolicy.DESTROY})
    this.api = new apigateway.RestApi(this, 'Api', {
      restApiName: `devflow-${props.stageName}-console`,
      description: 'DevFlow sessions API for the web console (Cognito)',
      endpointTypes: [apigateway.EndpointType.REGIONAL],
      // The IAM API's stage already set the account's CloudWatch role (see the dependency below).
      cloudWatchRole: false,
      deployOptions: {
        stageName: props.stageName,
        accessLogDestination: new apigateway.LogGroupLogDestination(accessLogs),
        accessLogFormat: apigateway.AccessLogFormat.jsonWithStandardFields(),
        loggingLevel: apigateway.MethodLoggingLevel.ERROR,
        metricsEnabled: true,
        tracingEnabled: true,
        throttlingRateLimit: props.throttlingRateLimit,
        throttlingBurstLimit: props.throttlingBurstLimit,
      },
      defaultCorsPreflightOptions: {
        allowOrigins: [origin],
        allowMethods: ['GET', 'POST', 'DELETE', 'OPTIONS'],
        allowHeaders: ['authorization', 'content-type'],
        maxAge: Duration.minutes(10),
      },
    })
    this.api.node.tryRemoveChild('Endpoint')
    this.api.node.addDependency(props.iamApi)
    // API Gateway's own refusals (no or expired token) in the DevFlow error shape, readable cross-origin.
    const corsHeader = {'Access-Control-Allow-Origin': `'${origin}'`}
    this.api.addGatewayResponse('Unauthorized', {
      type: apigateway.ResponseType.UNAUTHORIZED,
      statusCode: '401',
      responseHeaders: corsHeader,
      templates: {'application/json': '{"error": {"code": "CONSOLE_SIGN_IN_REQUIRED", "message": "The console is not signed in, or its sign-in expired.", "hint": "Sign in again."}}'},
    })
    this.api.addGatewayResponse('Default4xx', {type: apigateway.ResponseType.DEFAULT_4XX, responseHeaders: corsHeader})
    this.api.addGatewayResponse('Default5xx', {type: apigateway.ResponseType.DEFAULT_5XX, responseHeaders: corsHeader})

    const authorizer = new apigateway.CognitoUserPoolsAuthorizer(this, 'Authorizer', {cognitoUserPools: [this.userPool], authorizerName: 'devflow-console'})
    for (const {route, fn} of props.routes) {
      if (route.auth !== 'iam') continue
      this.api.root.resourceForPath(route.path).addMethod(route.method, new apigateway.LambdaIntegration(fn, {allowTestInvoke: false}), {authorizationType: apigateway.AuthorizationType.COGNITO, authorizer})
    }
    for (const method of this.api.methods.filter((m) => m.httpMethod === 'OPTIONS')) {
      Validations.of(method).acknowledge(
        {id: 'AwsSolutions-APIG4', reason: 'CORS preflight: a mock integration that answers the allowed origin, methods and headers; browsers send it without credentials.'},
        {id: 'AwsSolutions-COG4', reason: 'CORS preflight: browsers send it without the Cognito token.'},
      )
    }
    Validations.of(this.api).acknowledge(
      {id: 'AwsSolutions-APIG2', reason: 'Every handler validates its body and parameters with the zod schemas of src/core and answers 400 with a hint.'},
      {id: 'AwsSolutions-APIG3', reason: 'Every route requires a Cognito ID token; a WAF web ACL is left to teams that expose more.'},
    )

    // The functions answer the console's origin, and new sessions' agents call the IAM API back
    // (the console API has no agent routes).
    const agentApiUrl = Fn.join('', ['https://', props.iamApi.restApiId, '.execute-api.', Aws.REGION, '.', Aws.URL_SUFFIX, '/', props.stageName])
    for (const {fn} of props.routes) {
      fn.addEnvironment(LAMBDA_ENV.consoleOrigin, origin)
      fn.addEnvironment(LAMBDA_ENV.agentApiUrl, agentApiUrl)
    }

    this.deployment = new s3deploy.BucketDeployment(this, 'Site', {
      sources: [
        s3deploy.Source.asset(props.siteDir),
        s3deploy.Source.jsonData('config.json', {mode: 'cognito', apiUrl: this.api.url, cognito: {domain: this.domain.baseUrl(), clientId: this.client.userPoolClientId, redirectUri: this.siteUrl}}),
      ],
      destinationBucket: props.frontend.bucket,
      distribution: props.frontend.distribution,
      distributionPaths: ['/*'],
      memoryLimit: 256,
    })
    acknowledgeBucketDeploymentHandler(Stack.of(this), Stack.of(this).getLogicalId(props.frontend.bucket.node.defaultChild as CfnElement))
  }
}

/** The BucketDeployment's handler is one singleton function per stack, owned by CDK. */
function acknowledgeBucketDeploymentHandler(stack: Stack, frontendBucketId: string): void {
  for (const child of stack.node.children) {
    if (!child.node.id.startsWith('Custom::CDKBucketDeployment')) continue
    Validations.of(child).acknowledge(
      {id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]', reason: 'CDK\'s BucketDeployment handler writes its logs with the AWS managed basic execution policy.'},
      ...[
        'Action::s3:Abort*',
        'Action::s3:DeleteObject*',
        'Action::s3:GetBucket*',
        'Action::s3:GetObject*',
        'Action::s3:List*',
        'Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*',
        `Resource::<${frontendBucketId}.Arn>/*`,
        'Resource::*',
      ].map((finding) => ({
        id: `AwsSolutions-IAM5[${finding}]`,
        reason: 'CDK\'s BucketDeployment handler syncs the console\'s asset objects into the front-end bucket (object wildcards on those two buckets only) and invalidates the distribution (CloudFront invalidations take no resource ARN).',
      })),
      {id: 'AwsSolutions-L1', reason: 'The BucketDeployment handler\'s runtime is chosen by aws-cdk-lib.'},
    )
  }
}
