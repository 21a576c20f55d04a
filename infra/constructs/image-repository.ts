import {Duration, aws_ecr as ecr, RemovalPolicy} from 'aws-cdk-lib'
import {Construct} from 'constructs'

import {ECR_REPOSITORY_NAME} from '../../src/core/deployment.js'

export interface ImageRepositoryProps {
  /** How long an image no tag points at is kept. @default 14 days */
  readonly untaggedImageExpiry?: Duration
  /** How many tagged images are kept. @default 30 */
  readonly maxTaggedImages?: number
  /** @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy
}

/** Seed I-6: the workspace image repository, scanned on push, with lifecycle rules. */
export class ImageRepository extends Construct {
  readonly repository: ecr.Repository

  constructor(scope: Construct, id: string, props: ImageRepositoryProps = {}) {
    super(scope, id)
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN
    this.repository = new ecr.Repository(this, 'Repository', {
      repositoryName: ECR_REPOSITORY_NAME,
      imageScanOnPush: true,
      imageTagMutability: ecr.TagMutability.MUTABLE,
      encryption: ecr.RepositoryEncryption.AES_256,
      removalPolicy,
      // CloudFormation's own EmptyOnDelete: a repository that holds images could not be deleted.
      emptyOnDelete: removalPolicy === RemovalPolicy.DESTROY,
      lifecycleRules: [
        {rulePriority: 1, description: 'Drop images no tag points at', tagStatus: ecr.TagStatus.UNTAGGED, maxImageAge: props.untaggedImageExpiry ?? Duration.days(14)},
        {rulePriority: 2, description: 'Keep the newest tagged images', tagStatus: ecr.TagStatus.ANY, maxImageCount: props.maxTaggedImages ?? 30},
      ],
    })
  }
}
