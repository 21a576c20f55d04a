import {aws_iam as iam, RemovalPolicy, SecretValue, Validations, aws_secretsmanager as secretsmanager} from 'aws-cdk-lib'
import {Construct} from 'constructs'

import {PAGE_TOKEN_KEY_SECRET_NAME, SECRET_NAMES, UNSET_SECRET_VALUE} from '../../src/core/deployment.js'

export interface PlatformSecretsProps {
  /** @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy
  /**
   * Grant access by the secrets' names (`name-??????`) instead of a Ref to the resources:
   * moto_server's CloudFormation cannot put a secret's Ref into an IAM policy. @default false
   */
  readonly referByName?: boolean
}

export interface SecretReferences {
  readonly githubApp: secretsmanager.ISecret
  readonly claudeApiKey: secretsmanager.ISecret
  readonly pageTokenKey: secretsmanager.ISecret
}

/**
 * Seed I-4: the GitHub App credentials (JSON: appId, privateKey, optional installationId) and the
 * Claude API key. The stack creates both holding a placeholder; `devflow secrets set` writes the
 * values, so they never pass through CloudFormation.
 */
export class PlatformSecrets extends Construct {
  readonly githubApp: secretsmanager.Secret
  readonly claudeApiKey: secretsmanager.Secret
  /** `{"key"}`: 64 random characters CloudFormation generates, the HMAC key of the API's page tokens. */
  readonly pageTokenKey: secretsmanager.Secret
  /** What other constructs grant on and refer to: the resources, or name-based references. */
  readonly references: SecretReferences

  constructor(scope: Construct, id: string, props: PlatformSecretsProps = {}) {
    super(scope, id)
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN
    this.githubApp = this.secret('GithubApp', SECRET_NAMES.githubApp, 'DevFlow GitHub App: {"appId", "privateKey", "installationId"?}', removalPolicy)
    this.claudeApiKey = this.secret('ClaudeApiKey', SECRET_NAMES.claudeApiKey, 'DevFlow: the Anthropic API key the workspace agent uses', removalPolicy)
    this.pageTokenKey = new secretsmanager.Secret(this, 'PageTokenKey', {
      secretName: PAGE_TOKEN_KEY_SECRET_NAME,
      description: 'DevFlow: the HMAC key that seals the API\'s page tokens (rotating it only invalidates open pages)',
      generateSecretString: {secretStringTemplate: '{}', generateStringKey: 'key', passwordLength: 64, excludePunctuation: true},
      removalPolicy,
    })
    Validations.of(this.pageTokenKey).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason: 'Rotating the page-token key only makes open page tokens invalid; an operator rotates it by hand (README) when needed.',
    })
    this.references = props.referByName
      ? {
          githubApp: secretsmanager.Secret.fromSecretNameV2(this, 'GithubAppByName', SECRET_NAMES.githubApp),
          claudeApiKey: secretsmanager.Secret.fromSecretNameV2(this, 'ClaudeApiKeyByName', SECRET_NAMES.claudeApiKey),
          pageTokenKey: secretsmanager.Secret.fromSecretNameV2(this, 'PageTokenKeyByName', PAGE_TOKEN_KEY_SECRET_NAME),
        }
      : {githubApp: this.githubApp, claudeApiKey: this.claudeApiKey, pageTokenKey: this.pageTokenKey}
  }

  /** GetSecretValue on the GitHub App secret only: the API mints installation tokens with it. */
  grantReadGithubApp(grantee: iam.IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({actions: ['secretsmanager:GetSecretValue'], resources: [this.references.githubApp.secretFullArn ?? `${this.references.githubApp.secretArn}-??????`]}),
    )
  }

  /**
   * GetSecretValue and PutSecretValue on the GitHub App and Claude key secrets: `devflow secrets set`
   * writes them (keeping the App's webhook secret), `secrets status` and `github status` read them.
   */
  grantWriteValues(grantee: iam.IGrantable): void {
    const arnOf = (secret: secretsmanager.ISecret) => secret.secretFullArn ?? `${secret.secretArn}-??????`
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue'],
        resources: [arnOf(this.references.githubApp), arnOf(this.references.claudeApiKey)],
      }),
    )
  }

  /** GetSecretValue on the page-token key: the API seals and opens page tokens with it. */
  grantReadPageTokenKey(grantee: iam.IGrantable): void {
    const key = this.references.pageTokenKey
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({actions: ['secretsmanager:GetSecretValue'], resources: [key.secretFullArn ?? `${key.secretArn}-??????`]}),
    )
  }

  private secret(id: string, secretName: string, description: string, removalPolicy: RemovalPolicy): secretsmanager.Secret {
    const secret = new secretsmanager.Secret(this, id, {
      secretName,
      description,
      secretStringValue: SecretValue.unsafePlainText(UNSET_SECRET_VALUE),
      removalPolicy,
    })
    Validations.of(secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason: 'A GitHub App key and an Anthropic API key are rotated by their issuers; `devflow secrets set` writes the new value.',
    })
    return secret
  }
}
