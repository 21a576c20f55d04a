/**
 * Where the AWS adapters connect: region and profile as the CLI resolved them. The endpoint comes
 * from the SDK's own `AWS_ENDPOINT_URL` (and per-service `AWS_ENDPOINT_URL_<SERVICE>`), which is how
 * tests point everything at moto_server.
 */
import {invalidInput} from '../../core/errors.js'

export interface AwsEnvironment {
  readonly region?: string
  readonly profile?: string
}

export interface AwsClientConfig {
  region?: string
  credentials?: import('@smithy/types').AwsCredentialIdentityProvider
  maxAttempts?: number
}

/** Reads the region the SDK would use, so that a missing one becomes a clear error up front. */
export function resolveRegion(env: AwsEnvironment, processEnv: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.region ?? processEnv.AWS_REGION ?? processEnv.AWS_DEFAULT_REGION
}

export async function awsClientConfig(env: AwsEnvironment, options: {maxAttempts?: number} = {}): Promise<AwsClientConfig> {
  const config: AwsClientConfig = {}
  const region = resolveRegion(env)
  if (region) config.region = region
  if (env.profile) {
    const {fromNodeProviderChain} = await import('@aws-sdk/credential-providers')
    config.credentials = fromNodeProviderChain({profile: env.profile})
  }
  if (options.maxAttempts !== undefined) config.maxAttempts = options.maxAttempts
  return config
}

export function requireRegion(env: AwsEnvironment): string {
  const region = resolveRegion(env)
  if (!region) {
    throw invalidInput(
      'AWS_REGION_MISSING',
      'No AWS region is set.',
      'Pass --region, set DEVFLOW_REGION or AWS_REGION, or run `devflow config set region <region>`.',
    )
  }
  return region
}
