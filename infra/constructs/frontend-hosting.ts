import {
  aws_cloudfront as cloudfront,
  aws_cloudfront_origins as origins,
  Duration,
  RemovalPolicy,
  aws_s3 as s3,
  Validations,
} from 'aws-cdk-lib'
import {Construct} from 'constructs'

export interface FrontendHostingProps {
  /** How long access logs are kept. @default 90 days */
  readonly logExpiry?: Duration
  /** The site's response headers. @default CloudFront's managed SecurityHeadersPolicy */
  readonly responseHeadersPolicy?: cloudfront.IResponseHeadersPolicy
}

/**
 * Seed I-7: the web front end's hosting. A private bucket (no public access, TLS only) that only
 * CloudFront can read through origin access control; viewers are redirected to HTTPS; both the
 * bucket and the distribution write access logs to a separate log bucket.
 *
 * Both buckets are always retained: CloudFormation cannot delete a bucket that holds objects, and
 * access logs are audit records. `devflow destroy` leaves them behind (README).
 */
export class FrontendHosting extends Construct {
  readonly bucket: s3.Bucket
  readonly logBucket: s3.Bucket
  readonly distribution: cloudfront.Distribution

  constructor(scope: Construct, id: string, props: FrontendHostingProps = {}) {
    super(scope, id)
    const removalPolicy = RemovalPolicy.RETAIN
    this.logBucket = new s3.Bucket(this, 'AccessLogs', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      // CloudFront standard logging writes through bucket ACLs.
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{expiration: props.logExpiry ?? Duration.days(90)}],
      removalPolicy,
    })
    Validations.of(this.logBucket).acknowledge({id: 'AwsSolutions-S1', reason: 'This is the access log bucket itself; logging it into itself would loop.'})

    this.bucket = new s3.Bucket(this, 'Site', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      versioned: true,
      serverAccessLogsBucket: this.logBucket,
      serverAccessLogsPrefix: 'bucket/',
      removalPolicy,
    })

    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'DevFlow front end',
      defaultRootObject: 'index.html',
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: props.responseHeadersPolicy ?? cloudfront.ResponseHeadersPolicy.SECURITY_HEADERS,
      },
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      enableLogging: true,
      logBucket: this.logBucket,
      logFilePrefix: 'cloudfront/',
    })
    Validations.of(this.distribution).acknowledge(
      {id: 'AwsSolutions-CFR1', reason: 'The front end serves a team worldwide; who may use DevFlow is decided by AWS credentials, not geography.'},
      {id: 'AwsSolutions-CFR2', reason: 'Static files only; the API behind it authenticates every call. A WAF web ACL is left to teams that need one.'},
      {id: 'AwsSolutions-CFR4', reason: 'Without a custom domain CloudFront serves its default certificate, which cannot be pinned to TLS 1.2; set a domain to get TLSv1.2_2021.'},
    )
  }
}
