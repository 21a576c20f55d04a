/**
 * Secrets Manager reads, cached for a few minutes per warm Lambda so that every request does not
 * pay a round trip (and the secret can still be rotated without a redeploy).
 */
import {GetSecretValueCommand, type SecretsManagerClient} from '@aws-sdk/client-secrets-manager'

import {remoteFailure} from '../../core/errors.js'
import type {Clock} from '../../core/ports.js'
import {translate} from './dynamo-common.js'

export interface SecretReader {
  /** The secret's SecretString parsed as JSON. */
  readJson(secretId: string): Promise<unknown>
}

export class CachedSecretReader implements SecretReader {
  private readonly cache = new Map<string, {value: Promise<unknown>; until: number}>()

  constructor(
    private readonly client: SecretsManagerClient,
    private readonly clock: Pick<Clock, 'now'>,
    private readonly ttlMs = 5 * 60_000,
  ) {}

  async readJson(secretId: string): Promise<unknown> {
    const now = this.clock.now().getTime()
    const cached = this.cache.get(secretId)
    if (cached && cached.until > now) return cached.value
    const value = this.fetch(secretId)
    this.cache.set(secretId, {value, until: now + this.ttlMs})
    // A failed read is not cached: the next request tries again.
    value.catch(() => this.cache.delete(secretId))
    return value
  }

  private async fetch(secretId: string): Promise<unknown> {
    let text: string | undefined
    try {
      text = (await this.client.send(new GetSecretValueCommand({SecretId: secretId}))).SecretString
    } catch (error) {
      translate(error, `Reading the secret ${secretId}`)
    }
    try {
      return JSON.parse(text ?? '')
    } catch {
      throw remoteFailure('SECRET_INVALID', `The secret ${secretId} does not hold JSON.`, 'Store the secret as a JSON document (see the README).')
    }
  }
}
