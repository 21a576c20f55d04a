import {type CfnElement, Duration, aws_iam as iam, aws_kms as kms, RemovalPolicy, aws_s3 as s3, Stack, Validations} from 'aws-cdk-lib'
import {Construct} from 'constructs'

import {CONVERSATIONS_PREFIX} from '../../src/core/deployment.js'

export interface ConversationBucketProps {
  /** How long a saved conversation is kept after its last checkpoint (a stage setting). */
  readonly expiry: Duration
  /** Where the bucket's server access logs go. */
  readonly accessLogs: s3.IBucket
}

/**
 * The stage's saved Claude Code conversations, for `session resume` (src/adapters/aws/
 * s3-conversation-store.ts): one gzipped transcript per session under `sessions/<id>/`, encrypted
 * with a key of its own, never public, TLS only, expired by a lifecycle rule.
 *
 * Workspaces never hold S3 permissions: the control-plane functions sign a URL for the session's
 * one object after checking the task's identity (core/services/checkpoint.ts), and the grant of
 * `grantSessionObjects` is what such a URL can do. The bucket and its key are retained (objects in
 * a bucket block its deletion; a deleted key would make them unreadable), as the log buckets are.
 */
export class ConversationBucket extends Construct {
  readonly bucket: s3.Bucket
  readonly key: kms.Key

  constructor(scope: Construct, id: string, props: ConversationBucketProps) {
    super(scope, id)
    this.key = new kms.Key(this, 'Key', {
      description: 'DevFlow: saved Claude Code conversations of stopped sessions',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    })
    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.key,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [
        {id: 'expire-conversations', prefix: CONVERSATIONS_PREFIX, expiration: props.expiry},
        {id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1)},
      ],
      serverAccessLogsBucket: props.accessLogs,
      serverAccessLogsPrefix: 'conversations/',
      removalPolicy: RemovalPolicy.RETAIN,
    })
  }

  /** Reading and writing the session objects (`sessions/*`) and nothing else of the bucket: no list, no delete. */
  grantSessionObjects(grantee: iam.Role): void {
    iam.Grant.addToPrincipal({grantee, actions: ['s3:GetObject', 's3:PutObject'], resourceArns: [this.bucket.arnForObjects(`${CONVERSATIONS_PREFIX}*`)]})
    this.key.grant(grantee, 'kms:Decrypt', 'kms:GenerateDataKey')
    const bucketArn = `<${Stack.of(this).getLogicalId(this.bucket.node.defaultChild as CfnElement)}.Arn>`
    Validations.of(grantee).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${bucketArn}/${CONVERSATIONS_PREFIX}*]`,
      reason: 'Every session\'s object under the one prefix: the handler signs a URL for the calling task\'s own session only.',
    })
  }
}
