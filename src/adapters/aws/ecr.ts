/**
 * ECR for `devflow image push`: a registry login (GetAuthorizationToken) and the digest of a pushed
 * tag (DescribeImages). The repository URI, as the stack outputs it, names the registry, the
 * account and the region.
 */
import {DescribeImagesCommand, ECRClient, GetAuthorizationTokenCommand} from '@aws-sdk/client-ecr'

import {invalidInput, notFound, remoteFailure} from '../../core/errors.js'
import {type AwsEnvironment, awsClientConfig} from './environment.js'
import {toDevflowError} from './sdk-errors.js'

export interface EcrRepository {
  /** <account>.dkr.ecr.<region>.amazonaws.com/<name> */
  readonly uri: string
  readonly registry: string
  readonly registryId: string
  readonly region: string
  readonly name: string
}

export interface RegistryLogin {
  readonly username: string
  readonly password: string
  readonly registry: string
}

const URI = /^((\d{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?)\/([a-z0-9][a-z0-9._/-]{0,255})$/

export function parseRepositoryUri(value: string): EcrRepository {
  const match = URI.exec(value.trim())
  if (!match) {
    throw invalidInput(
      'INVALID_ECR_REPOSITORY',
      `"${value}" is not an ECR repository URI.`,
      'Give it as <account>.dkr.ecr.<region>.amazonaws.com/<name>, as `devflow deploy` saves it.',
    )
  }
  return {uri: value.trim(), registry: match[1], registryId: match[2], region: match[3], name: match[4]}
}

export class EcrRegistry {
  private constructor(
    private readonly client: ECRClient,
    readonly repository: EcrRepository,
  ) {}

  /** The repository's own region wins over the CLI's: ECR answers only there. */
  static async open(env: AwsEnvironment, repository: EcrRepository): Promise<EcrRegistry> {
    return new EcrRegistry(new ECRClient({...(await awsClientConfig(env)), region: repository.region}), repository)
  }

  /** A docker login for the repository's registry; the password is valid for 12 hours. */
  async login(): Promise<RegistryLogin> {
    const out = await this.call('ECR GetAuthorizationToken', () => this.client.send(new GetAuthorizationTokenCommand({})))
    const token = out.authorizationData?.[0]?.authorizationToken
    if (!token) throw remoteFailure('ECR_NO_TOKEN', 'ECR returned no authorization token.', 'Try again; if it persists, check the ECR service health.')
    const decoded = Buffer.from(token, 'base64').toString('utf8')
    const separator = decoded.indexOf(':')
    if (separator < 0) throw remoteFailure('ECR_BAD_TOKEN', 'ECR returned an authorization token in an unknown format.', 'Try again; if it persists, report it.')
    return {username: decoded.slice(0, separator), password: decoded.slice(separator + 1), registry: this.repository.registry}
  }

  /** The digest the registry holds for a tag. */
  async digestOf(tag: string): Promise<string> {
    const {name, registryId, uri} = this.repository
    try {
      const out = await this.client.send(new DescribeImagesCommand({repositoryName: name, registryId, imageIds: [{imageTag: tag}]}))
      const digest = out.imageDetails?.[0]?.imageDigest
      if (digest) return digest
    } catch (error) {
      if ((error as {name?: string}).name !== 'ImageNotFoundException') throw toDevflowError(error, 'ECR DescribeImages') ?? error
    }
    throw notFound('IMAGE_NOT_IN_REGISTRY', `${uri}:${tag} is not in the registry after the push.`, 'Run `devflow image push` again; check the push output for errors.')
  }

  destroy(): void {
    this.client.destroy()
  }

  private async call<T>(action: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send()
    } catch (error) {
      throw toDevflowError(error, action) ?? error
    }
  }
}
