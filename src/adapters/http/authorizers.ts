/**
 * How the API client authenticates: SigV4 with the caller's AWS credentials (API mode, API Gateway
 * AWS_IAM auth) or the local platform's bearer token (local mode).
 */
import type {AwsCredentialIdentity, AwsCredentialIdentityProvider} from '@smithy/types'

import {unauthenticated} from '../../core/errors.js'
import {toDevflowError} from '../aws/sdk-errors.js'
import type {RequestAuthorizer} from './api-client.js'

export interface SigV4AuthorizerOptions {
  /** The AWS named profile (--profile); the default credential chain otherwise. */
  readonly profile?: string
  /** Signing region when the endpoint's host does not name one. */
  readonly region?: string
  /** For tests and callers that already hold credentials. */
  readonly credentials?: AwsCredentialIdentityProvider
}

export function sigV4Authorizer(options: SigV4AuthorizerOptions): RequestAuthorizer {
  let provider = options.credentials
  return {
    async authorize(request) {
      provider ??= await defaultCredentialChain(options.profile)
      const credentials = await resolveCredentials(provider)
      // Loaded on the first signed request: the local platform's bearer token never needs the signer.
      const {regionFromApiUrl, signRequest} = await import('./sigv4.js')
      const region = regionFromApiUrl(request.url) ?? options.region ?? 'us-east-1'
      return signRequest(request, credentials, region)
    },
  }
}

export function bearerAuthorizer(token: string): RequestAuthorizer {
  return {
    async authorize(request) {
      return {...request.headers, authorization: `Bearer ${token}`}
    },
  }
}

async function defaultCredentialChain(profile: string | undefined): Promise<AwsCredentialIdentityProvider> {
  const {fromNodeProviderChain} = await import('@aws-sdk/credential-providers')
  return fromNodeProviderChain(profile ? {profile} : {})
}

async function resolveCredentials(provider: AwsCredentialIdentityProvider): Promise<AwsCredentialIdentity> {
  let credentials: AwsCredentialIdentity
  try {
    credentials = await provider()
  } catch (error) {
    throw toDevflowError(error, 'Loading AWS credentials') ?? error
  }
  if (credentials.expiration && credentials.expiration.getTime() <= Date.now()) {
    throw unauthenticated('AWS_CREDENTIALS_EXPIRED', 'Your AWS credentials have expired.', 'Refresh them (for example `aws sso login`) and try again.')
  }
  return credentials
}
