/**
 * Writing and describing the two DevFlow secrets (seed I-4) with the operator's credentials.
 * Values are validated before anything is written, and never returned: status says only whether a
 * secret holds a value an operator set.
 */
import {createPrivateKey} from 'node:crypto'

import {CreateSecretCommand, DeleteSecretCommand, GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient} from '@aws-sdk/client-secrets-manager'

import {SECRET_NAMES, UNSET_SECRET_VALUE} from '../../core/deployment.js'
import {conflict, invalidInput, notFound} from '../../core/errors.js'
import {type AwsEnvironment, awsClientConfig} from './environment.js'
import {toDevflowError} from './sdk-errors.js'

export type SecretKey = keyof typeof SECRET_NAMES

export interface GithubAppCredentials {
  readonly appId: string
  readonly privateKey: string
  readonly installationId?: string
  /** Checks X-Hub-Signature-256 on webhooks (adapters/github/webhook.ts). */
  readonly webhookSecret?: string
}

export interface SecretStatus {
  readonly key: SecretKey
  readonly name: string
  /** Whether the secret exists (the stage is deployed). */
  readonly exists: boolean
  /** Whether it holds a value written by `devflow secrets set` (not the stack's placeholder). */
  readonly set: boolean
  readonly arn?: string
  readonly updatedAt?: string
}

const NUMERIC_ID = /^[1-9]\d{0,11}$/

/** Checks the app id, the optional installation id and the PEM; returns the JSON to store. */
export function githubAppSecretValue(input: {appId: string; privateKeyPem: string; installationId?: string}): GithubAppCredentials {
  if (!NUMERIC_ID.test(input.appId)) {
    throw invalidInput('INVALID_APP_ID', `"${input.appId}" is not a GitHub App id.`, 'Give the numeric App ID from the app\'s settings page on GitHub (for example 123456).')
  }
  if (input.installationId !== undefined && !NUMERIC_ID.test(input.installationId)) {
    throw invalidInput('INVALID_INSTALLATION_ID', `"${input.installationId}" is not a GitHub App installation id.`, 'Give the number at the end of the installation\'s URL, or leave --installation-id out.')
  }
  let keyType: string | undefined
  try {
    keyType = createPrivateKey({key: input.privateKeyPem, format: 'pem'}).asymmetricKeyType
  } catch (error) {
    throw invalidInput('INVALID_PRIVATE_KEY', 'The private key file is not a valid PEM private key.', 'Download a new private key from the GitHub App\'s settings page and pass that .pem file.', {cause: error})
  }
  if (keyType !== 'rsa') {
    throw invalidInput('INVALID_PRIVATE_KEY', `The private key is a ${keyType ?? 'unknown'} key; GitHub App keys are RSA.`, 'Pass the .pem file GitHub generated for the app.')
  }
  return {appId: input.appId, privateKey: input.privateKeyPem, ...(input.installationId ? {installationId: input.installationId} : {})}
}

/** The webhook secret as GitHub's App settings hold it: one line of at least 16 characters. */
export function webhookSecretValue(raw: string): string {
  const secret = raw.trim()
  const hint = 'Generate one (for example `openssl rand -hex 32 > webhook-secret`), paste it into the GitHub App\'s webhook settings, and pass the same file.'
  if (secret === '') throw invalidInput('EMPTY_WEBHOOK_SECRET', 'The webhook secret file is empty.', hint)
  if (/[\r\n]/.test(secret)) throw invalidInput('INVALID_WEBHOOK_SECRET', 'The webhook secret must be a single line.', hint)
  if (secret.length < 16 || secret.length > 1024) {
    throw invalidInput('INVALID_WEBHOOK_SECRET', `The webhook secret has ${secret.length} characters; use 16 to 1024 (a random one: it guards an endpoint anyone can call).`, hint)
  }
  if (secret === UNSET_SECRET_VALUE) throw invalidInput('INVALID_WEBHOOK_SECRET', 'That is the placeholder value, not a secret.', hint)
  return secret
}

export function claudeApiKeyValue(raw: string): string {
  const key = raw.trim()
  if (key === '') throw invalidInput('EMPTY_API_KEY', 'No Claude API key was given.', 'Pipe the key on stdin, for example `devflow secrets set claude-api-key < key.txt`.')
  if (/\s/.test(key) || key.length > 512) {
    throw invalidInput('INVALID_API_KEY', 'The Claude API key must be a single token of at most 512 characters.', 'Pass only the key (it starts with sk-ant-), without spaces or extra lines.')
  }
  if (key === UNSET_SECRET_VALUE) throw invalidInput('INVALID_API_KEY', 'That is the placeholder value, not a key.', 'Pass the Anthropic API key.')
  return key
}

export class SecretsAdmin {
  private constructor(private readonly client: SecretsManagerClient) {}

  static async create(env: AwsEnvironment): Promise<SecretsAdmin> {
    return new SecretsAdmin(new SecretsManagerClient(await awsClientConfig(env, {maxAttempts: 3})))
  }

  /**
   * Writes the App's credentials. Without a webhook secret in `credentials`, the one already stored
   * is kept: rotating the private key does not silently turn webhooks off.
   */
  async putGithubApp(credentials: GithubAppCredentials): Promise<SecretStatus> {
    const webhookSecret = credentials.webhookSecret ?? (await this.currentGithubApp())?.webhookSecret
    return this.put('githubApp', JSON.stringify({...credentials, ...(webhookSecret ? {webhookSecret} : {})}))
  }

  /** Adds or replaces only the webhook secret; the App's credentials must be set already. */
  async putGithubWebhookSecret(webhookSecret: string): Promise<SecretStatus> {
    const current = await this.currentGithubApp()
    if (!current) {
      throw conflict(
        'GITHUB_APP_NOT_SET',
        `${SECRET_NAMES.githubApp} holds no GitHub App credentials yet, so there is nothing to add the webhook secret to.`,
        'Set all three at once: `devflow secrets set github-app --app-id ID --private-key-file KEY.pem --webhook-secret-file FILE`.',
      )
    }
    return this.put('githubApp', JSON.stringify({...current, webhookSecret}))
  }

  async putClaudeApiKey(key: string): Promise<SecretStatus> {
    return this.put('claudeApiKey', key)
  }

  async status(): Promise<SecretStatus[]> {
    return Promise.all((Object.keys(SECRET_NAMES) as SecretKey[]).map((key) => this.describe(key)))
  }

  /**
   * Creates, holding the placeholder, each DevFlow secret that does not exist: what the stack
   * creates on AWS and moto_server's CloudFormation skips. Answers the keys it created.
   */
  async createMissing(): Promise<SecretKey[]> {
    const created: SecretKey[] = []
    for (const status of await this.status()) {
      if (status.exists) continue
      try {
        await this.client.send(new CreateSecretCommand({Name: status.name, SecretString: UNSET_SECRET_VALUE, Description: 'DevFlow (created for the emulator: its CloudFormation skips secrets)'}))
        created.push(status.key)
      } catch (error) {
        if ((error as {name?: string}).name !== 'ResourceExistsException') throw this.classify(error, status.name, 'Creating')
      }
    }
    return created
  }

  /** Deletes both secrets at once (no recovery window); a missing one is fine. */
  async deleteAll(): Promise<void> {
    for (const name of Object.values(SECRET_NAMES)) {
      try {
        await this.client.send(new DeleteSecretCommand({SecretId: name, ForceDeleteWithoutRecovery: true}))
      } catch (error) {
        if ((error as {name?: string}).name !== 'ResourceNotFoundException') throw this.classify(error, name, 'Deleting')
      }
    }
  }

  close(): void {
    this.client.destroy()
  }

  /** What `devflow github status` shows of the App secret: ids and whether a webhook secret is there, never a value. */
  async githubAppSummary(): Promise<{set: boolean; appId?: string; installationId?: string; webhookSecretSet: boolean}> {
    const current = await this.currentGithubApp()
    if (!current) return {set: false, webhookSecretSet: false}
    return {set: true, appId: current.appId, ...(current.installationId ? {installationId: current.installationId} : {}), webhookSecretSet: Boolean(current.webhookSecret)}
  }

  /** The stored App credentials, undefined while the secret holds the placeholder (or no App JSON). */
  private async currentGithubApp(): Promise<GithubAppCredentials | undefined> {
    const name = SECRET_NAMES.githubApp
    let value: string | undefined
    try {
      value = (await this.client.send(new GetSecretValueCommand({SecretId: name}))).SecretString
    } catch (error) {
      throw this.classify(error, name, 'Reading')
    }
    if (value === undefined || value === UNSET_SECRET_VALUE) return undefined
    try {
      const parsed = JSON.parse(value) as Partial<GithubAppCredentials>
      return typeof parsed.appId === 'string' && typeof parsed.privateKey === 'string' ? (parsed as GithubAppCredentials) : undefined
    } catch {
      return undefined // not JSON: nothing of it worth keeping
    }
  }

  private async put(key: SecretKey, value: string): Promise<SecretStatus> {
    const name = SECRET_NAMES[key]
    try {
      const out = await this.client.send(new PutSecretValueCommand({SecretId: name, SecretString: value}))
      return {key, name, exists: true, set: true, arn: out.ARN, updatedAt: new Date().toISOString()}
    } catch (error) {
      throw this.classify(error, name, 'Writing')
    }
  }

  private async describe(key: SecretKey): Promise<SecretStatus> {
    const name = SECRET_NAMES[key]
    try {
      const out = await this.client.send(new GetSecretValueCommand({SecretId: name}))
      const set = out.SecretString !== undefined && out.SecretString !== UNSET_SECRET_VALUE
      return {key, name, exists: true, set, arn: out.ARN, ...(set && out.CreatedDate ? {updatedAt: out.CreatedDate.toISOString()} : {})}
    } catch (error) {
      if ((error as {name?: string}).name === 'ResourceNotFoundException') return {key, name, exists: false, set: false}
      throw this.classify(error, name, 'Reading')
    }
  }

  private classify(error: unknown, name: string, action: string) {
    if ((error as {name?: string}).name === 'ResourceNotFoundException') {
      return notFound('SECRET_NOT_FOUND', `The secret ${name} does not exist in this account and region.`, 'Deploy the stage first (`devflow deploy`): the stack creates the secret, then set its value.', {
        cause: error,
      })
    }
    return toDevflowError(error, `${action} the secret ${name}`) ?? (error as Error)
  }
}
