import {aws_iam as iam, RemovalPolicy, SecretValue, Validations, aws_secretsmanager as secretsmanager} from 'aws-cdk-lib'
import {Construct} from 'constructs'

import {SECRET_NAMES} from '../../src/core/deployment.js'
import {UNSET_SECRET_VALUE} from '../../src/core/deployment.js'

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
}

/**
 * Seed I-4: the GitHub App credentials (JSON: appId, privateKey, optional installationId) and the
 * Claude API key. The stack creates both holding a placeholder; `devflow secrets set` writes the
 * values, so they never pass through CloudFormation.
 */
export class PlatformSecrets extends Construct {
  readonly githubApp: secretsmanager.Secret
  readonly claudeApiKey: secretsmanager.Secret
  /** What other constructs grant on and refer to: the resources, or name-based references. */
  readonly references: SecretReferences

  constructor(scope: Construct, id: string, props: PlatformSecretsProps = {}) {
    super(scope, id)
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN
    this.githubApp = this.secret('GithubApp', SECRET_NAMES.githubApp, 'DevFlow GitHub App: {"appId", "privateKey", "installationId"?}', removalPolicy)
    this.claudeApiKey = this.secret('ClaudeApiKey', SECRET_NAMES.claudeApiKey, 'DevFlow: the Anthropic API key the workspace agent uses', removalPolicy)
    this.references = props.referByName
      ? {
          githubApp: secretsmanager.Secret.fromSecretNameV2(this, 'GithubAppByName', SECRET_NAMES.githubApp),
          claudeApiKey: secretsmanager.Secret.fromSecretNameV2(this, 'ClaudeApiKeyByName', SECRET_NAMES.claudeApiKey),
        }
      : {githubApp: this.githubApp, claudeApiKey: this.claudeApiKey}
  }

  /** GetSecretValue on the GitHub App secret only: the API mints installation tokens with it. */
  grantReadGithubApp(grantee: iam.IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({actions: ['secretsmanager:GetSecretValue'], resources: [this.references.githubApp.secretFullArn ?? `${this.references.githubApp.secretArn}-??????`]}),
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
