/**
 * The conversation bucket of `session resume` (infra/constructs/conversation-bucket.ts) in the
 * synthesized stacks: KMS encryption with its own rotating key, every public access blocked, TLS
 * enforced, the stage's lifecycle expiry, access logs, and the functions' grant limited to the
 * session objects' prefix (no list, no delete); the functions learn the bucket's name.
 */
import {mkdtemp, rm} from 'node:fs/promises'
import {readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {Match, Template} from 'aws-cdk-lib/assertions'
import {expect} from 'chai'

import {buildApp, stackIdFor} from '../../infra/app.js'
import {STAGES, STAGE_NAMES, type StageName} from '../../infra/stages.js'
import {CONVERSATIONS_PREFIX, LAMBDA_ENV, OUTPUT_KEYS} from '../../src/core/deployment.js'
import {ROOT} from '../helpers/cli.js'

const cdkJsonContext = JSON.parse(readFileSync(join(ROOT, 'cdk.json'), 'utf8')).context as Record<string, unknown>

type Resource = {Type: string; Properties?: Record<string, unknown>; DeletionPolicy?: string}
interface BucketProperties {
  BucketEncryption: {ServerSideEncryptionConfiguration: Array<{BucketKeyEnabled?: boolean; ServerSideEncryptionByDefault: {SSEAlgorithm: string; KMSMasterKeyID: {'Fn::GetAtt': [string, string]}}}>}
  PublicAccessBlockConfiguration: unknown
  OwnershipControls: unknown
  LoggingConfiguration: Record<string, unknown>
}

describe('infra: the conversation bucket (session resume)', function () {
  this.timeout(180_000)
  const templates = {} as Record<StageName, Template>
  let outdir: string

  before(async () => {
    outdir = await mkdtemp(join(tmpdir(), 'devflow-synth-conversations-'))
    const app = buildApp({context: {...cdkJsonContext, 'aws:cdk:bundling-stacks': []}, outdir})
    const assembly = app.synth() // cdk-nag: no unacknowledged finding
    for (const stage of STAGE_NAMES) templates[stage] = Template.fromJSON(assembly.getStackArtifact(stackIdFor(stage)).template as Record<string, unknown>)
  })
  after(() => rm(outdir, {recursive: true, force: true}))

  const resources = (stage: StageName) => Object.entries(templates[stage].toJSON().Resources as Record<string, Resource>)
  const bucketOf = (stage: StageName) => {
    const found = resources(stage).filter(([id, r]) => r.Type === 'AWS::S3::Bucket' && id.startsWith('ConversationsBucket'))
    expect(found).to.have.length(1)
    return found[0]
  }

  for (const stage of STAGE_NAMES) {
    describe(`stage ${stage}`, () => {
      it('encrypts with its own rotating KMS key, blocks public access, retains bucket and key', () => {
        const [, bucket] = bucketOf(stage)
        const props = bucket.Properties as unknown as BucketProperties
        const sse = props.BucketEncryption.ServerSideEncryptionConfiguration[0]
        expect(sse.ServerSideEncryptionByDefault.SSEAlgorithm).to.equal('aws:kms')
        expect(sse.BucketKeyEnabled).to.equal(true)
        const keyId = sse.ServerSideEncryptionByDefault.KMSMasterKeyID['Fn::GetAtt'][0]
        const key = (templates[stage].toJSON().Resources as Record<string, Resource>)[keyId]
        expect(key.Type).to.equal('AWS::KMS::Key')
        expect(key.Properties?.EnableKeyRotation).to.equal(true)
        expect(key.DeletionPolicy).to.equal('Retain')
        expect(bucket.DeletionPolicy).to.equal('Retain')
        expect(props.PublicAccessBlockConfiguration).to.deep.equal({BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true})
        expect(props.OwnershipControls).to.deep.equal({Rules: [{ObjectOwnership: 'BucketOwnerEnforced'}]})
        expect(props.LoggingConfiguration).to.include({LogFilePrefix: 'conversations/'})
      })

      it(`expires the session objects after the stage's setting (${STAGES[stage].conversationExpiry.toDays()} days)`, () => {
        const [, bucket] = bucketOf(stage)
        const rules = (bucket.Properties as {LifecycleConfiguration: {Rules: Array<Record<string, unknown>>}}).LifecycleConfiguration.Rules
        expect(rules).to.deep.include({Id: 'expire-conversations', Prefix: CONVERSATIONS_PREFIX, ExpirationInDays: STAGES[stage].conversationExpiry.toDays(), Status: 'Enabled'})
        expect(rules.find((r) => r.Id === 'abort-incomplete-uploads')).to.have.property('AbortIncompleteMultipartUpload')
      })

      it('denies every request without TLS', () => {
        const [bucketId] = bucketOf(stage)
        templates[stage].hasResourceProperties('AWS::S3::BucketPolicy', {
          Bucket: {Ref: bucketId},
          PolicyDocument: Match.objectLike({
            Statement: Match.arrayWith([Match.objectLike({Effect: 'Deny', Action: 's3:*', Condition: {Bool: {'aws:SecureTransport': 'false'}}})]),
          }),
        })
      })

      it('grants the functions GetObject and PutObject on sessions/* only, and the key for those; the task role nothing of it', () => {
        const [bucketId] = bucketOf(stage)
        const policies = resources(stage).filter(([, r]) => r.Type === 'AWS::IAM::Policy')
        const statements = (rolePrefix: string) =>
          policies
            .filter(([, p]) => JSON.stringify((p.Properties as {Roles: unknown}).Roles).includes(rolePrefix))
            .flatMap(([, p]) => (p.Properties as {PolicyDocument: {Statement: Array<Record<string, unknown>>}}).PolicyDocument.Statement)
        const onBucket = statements('ControlPlaneFunctionRole').filter((s) => JSON.stringify(s.Resource).includes(bucketId))
        expect(onBucket).to.have.length(1)
        expect(onBucket[0].Action).to.deep.equal(['s3:GetObject', 's3:PutObject'])
        expect(onBucket[0].Resource).to.deep.equal({'Fn::Join': ['', [{'Fn::GetAtt': [bucketId, 'Arn']}, `/${CONVERSATIONS_PREFIX}*`]]})
        const keyId = (bucketOf(stage)[1].Properties as unknown as BucketProperties).BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.KMSMasterKeyID['Fn::GetAtt'][0]
        const onKey = statements('ControlPlaneFunctionRole').filter((s) => JSON.stringify(s.Resource).includes(keyId))
        expect(onKey.flatMap((s) => [s.Action].flat()).sort()).to.deep.equal(['kms:Decrypt', 'kms:GenerateDataKey'])
        const everyOther = policies.filter(([, p]) => !JSON.stringify((p.Properties as {Roles: unknown}).Roles).includes('ControlPlaneFunctionRole'))
        expect(JSON.stringify(everyOther)).not.to.contain(bucketId)
      })

      it('tells every function the bucket and outputs its name', () => {
        const [bucketId] = bucketOf(stage)
        const functions = resources(stage).filter(([id, r]) => r.Type === 'AWS::Lambda::Function' && id.startsWith('ControlPlane'))
        expect(functions.length).to.be.greaterThan(10)
        for (const [id, fn] of functions) {
          const variables = (fn.Properties as {Environment: {Variables: Record<string, unknown>}}).Environment.Variables
          expect(variables[LAMBDA_ENV.conversationsBucket], id).to.deep.equal({Ref: bucketId})
        }
        templates[stage].hasOutput(OUTPUT_KEYS.conversationsBucket, {Value: {Ref: bucketId}})
      })
    })
  }
})
