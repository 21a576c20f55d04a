/**
 * Writing and describing the two DevFlow secrets (seed I-4) with the operator's credentials.
 * Values are validated before anything is written, and never returned: status says only whether a
 * secret holds a value an operator set.
 */
import {createPrivateKey} from 'node:crypto'

import {CreateSecretCommand, DeleteSecretCommand, GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient} from '@aws-sdk/client-secrets-manager'

import {SECRET_NAMES, UNSET_SECRET_VALUE} from '../../core/deployment.js'
import {invalidInput, notFound} from '../../core/errors.js'
import {type AwsEnvironment, awsClientConfig} from './environment.js'
import {toDevflowError} from './sdk-errors.js'

export type SecretKey = keyof typeof SECRET_NAMES

export interface GithubAppCredentials {
  readonly appId: string
  readonly privateKey: string
  readonly installationId?: string
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

  async putGithubApp(credentials: GithubAppCredentials): Promise<SecretStatus> {
    return this.put('githubApp', JSON.stringify(credentials))
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
