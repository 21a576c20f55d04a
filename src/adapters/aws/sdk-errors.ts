/**
 * AWS SDK errors -> DevflowErrors. Classified by the SDK's error names and metadata, never by
 * message text. This module imports nothing from the SDK so the CLI can load it cheaply.
 */
import {type DevflowError, forbidden, invalidInput, remoteFailure, unauthenticated, unavailable} from '../../core/errors.js'

const MISSING_CREDENTIALS = new Set(['CredentialsProviderError', 'ProviderError'])
const EXPIRED = new Set(['ExpiredToken', 'ExpiredTokenException', 'RequestExpired'])
const INVALID_CREDENTIALS = new Set([
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'SignatureDoesNotMatch',
  'InvalidSignatureException',
  'IncompleteSignature',
  'InvalidAccessKeyId',
])
const ACCESS_DENIED = new Set(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation'])
const THROTTLED = new Set([
  'ThrottlingException',
  'Throttling',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'RequestThrottled',
])
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH'])

interface SdkLikeError {
  name?: string
  message?: string
  code?: string
  $metadata?: {httpStatusCode?: number}
  $fault?: string
}

const CREDENTIALS_HINT = 'Configure AWS credentials (`aws configure`, `aws sso login`, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY), or pass --profile.'

export function isAwsSdkError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && ('$metadata' in error || '$fault' in error)
}

/** undefined when the error does not come from the AWS SDK or its network layer. */
export function toDevflowError(error: unknown, action = 'The AWS call'): DevflowError | undefined {
  if (typeof error !== 'object' || error === null) return undefined
  const e = error as SdkLikeError
  const name = e.name ?? ''
  const message = e.message ?? String(error)
  if (MISSING_CREDENTIALS.has(name)) {
    return unauthenticated('AWS_CREDENTIALS_MISSING', `No AWS credentials were found: ${message}`, CREDENTIALS_HINT, {cause: error})
  }
  if (EXPIRED.has(name)) {
    return unauthenticated('AWS_CREDENTIALS_EXPIRED', 'Your AWS credentials have expired.', 'Refresh them (for example `aws sso login`) and try again.', {cause: error})
  }
  if (INVALID_CREDENTIALS.has(name)) {
    return unauthenticated('AWS_CREDENTIALS_INVALID', `AWS rejected your credentials: ${message}`, CREDENTIALS_HINT, {cause: error})
  }
  if (ACCESS_DENIED.has(name)) {
    return forbidden('AWS_ACCESS_DENIED', `AWS denied access: ${message}`, 'Use a profile or role with the permissions DevFlow needs (see the README).', {cause: error})
  }
  if (THROTTLED.has(name)) {
    return unavailable('AWS_THROTTLED', `${action} was throttled by AWS and still failed after retries.`, 'Wait a moment and try again.', {cause: error})
  }
  if (name === 'Error' && /Region is missing/.test(message)) {
    return invalidInput('AWS_REGION_MISSING', 'No AWS region is set.', 'Pass --region, set DEVFLOW_REGION or AWS_REGION, or run `devflow config set region <region>`.', {cause: error})
  }
  if ((e.code && NETWORK_CODES.has(e.code)) || name === 'TimeoutError') {
    return unavailable('AWS_UNREACHABLE', `${action} could not reach AWS (${e.code ?? name}).`, 'Check your network, proxy and AWS_ENDPOINT_URL, then try again.', {cause: error})
  }
  if (isAwsSdkError(error)) {
    const status = e.$metadata?.httpStatusCode
    return remoteFailure('AWS_ERROR', `${action} failed: ${name}${status ? ` (HTTP ${status})` : ''}: ${message}`, 'Check the AWS service health and your permissions, then try again.', {cause: error})
  }
  return undefined
}
