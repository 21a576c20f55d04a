/**
 * ConversationStore on the stage's conversation bucket (infra/constructs/conversation-bucket.ts):
 * one object per session under `sessions/<id>/`, reached by the workspace through URLs presigned
 * here, so the task role itself holds no S3 permission. The bucket encrypts with its KMS key.
 */
import {GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client} from '@aws-sdk/client-s3'
import {getSignedUrl} from '@aws-sdk/s3-request-presigner'

import {conversationKey} from '../../core/deployment.js'
import type {Clock, ConversationStore, TransferUrl} from '../../core/ports.js'

/** Long enough for a slow upload of a large transcript, short enough to be useless later. */
export const TRANSFER_URL_SECONDS = 15 * 60

export class S3ConversationStore implements ConversationStore {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly clock: Clock,
  ) {}

  async uploadUrl(sessionId: string): Promise<TransferUrl> {
    const command = new PutObjectCommand({Bucket: this.bucket, Key: conversationKey(sessionId), ContentType: 'application/gzip'})
    return this.transfer('PUT', await getSignedUrl(this.s3, command, {expiresIn: TRANSFER_URL_SECONDS}), {'content-type': 'application/gzip'})
  }

  async downloadUrl(sessionId: string): Promise<TransferUrl | undefined> {
    const key = conversationKey(sessionId)
    try {
      await this.s3.send(new HeadObjectCommand({Bucket: this.bucket, Key: key}))
    } catch (error) {
      if (isMissing(error)) return undefined
      throw error
    }
    return this.transfer('GET', await getSignedUrl(this.s3, new GetObjectCommand({Bucket: this.bucket, Key: key}), {expiresIn: TRANSFER_URL_SECONDS}), {})
  }

  private transfer(method: 'PUT' | 'GET', url: string, headers: Record<string, string>): TransferUrl {
    return {url, method, headers, expiresAt: new Date(this.clock.now().getTime() + TRANSFER_URL_SECONDS * 1000).toISOString()}
  }
}

function isMissing(error: unknown): boolean {
  const e = error as {name?: string; $metadata?: {httpStatusCode?: number}}
  return e?.name === 'NotFound' || e?.name === 'NoSuchKey' || e?.$metadata?.httpStatusCode === 404
}
