/**
 * Toolkit failures -> DevflowErrors. A failed resource event is the best explanation, so it wins;
 * then our own errors (bad context), AWS SDK errors, and the toolkit's error types.
 */
import {ToolkitError} from '@aws-cdk/toolkit-lib'

import {toDevflowError as awsToDevflowError} from '../aws/sdk-errors.js'
import {type DevflowError, internalError, isDevflowError, remoteFailure, unauthenticated} from '../../core/errors.js'
import type {ToolkitProgress} from './toolkit-progress.js'

/** `action` names what was attempted, e.g. "Deploying devflow-dev". */
export function classifyToolkitError(action: string, progress: Pick<ToolkitProgress, 'failures' | 'errors'>, error: unknown): DevflowError {
  const failure = progress.failures[0]
  if (failure) {
    return remoteFailure(
      'DEPLOY_FAILED',
      `${action} failed at ${failure.logicalId} (${failure.resourceType}): ${failure.status}: ${failure.reason || 'no reason given'}`,
      'Fix the cause CloudFormation names, then run the command again; `devflow diff` shows what a deploy will change.',
      {cause: error, details: {failures: progress.failures}},
    )
  }
  const inner = rootCause(error)
  if (isDevflowError(inner)) return inner
  const aws = awsToDevflowError(inner, action)
  if (aws) return aws
  if (ToolkitError.isAuthenticationError(error)) {
    return unauthenticated('AWS_CREDENTIALS_MISSING', `${action} needs AWS credentials: ${messageOf(error)}`, 'Configure AWS credentials or pass --profile, then run `devflow doctor`.', {cause: error})
  }
  if (ToolkitError.isAssemblyError(error)) {
    const report = progress.errors.slice(0, 5).join('\n')
    return internalError('SYNTH_FAILED', `The DevFlow CDK app did not synthesize: ${messageOf(error)}${report ? `\n${report}` : ''}`, 'Run `devflow synth` with DEVFLOW_DEBUG=1 to see the full report, and report it.', {
      cause: error,
    })
  }
  if (ToolkitError.isToolkitError(error)) {
    const reasons = [messageOf(error), ...progress.errors.filter((e) => e !== messageOf(error))].join('; ')
    return remoteFailure('DEPLOY_FAILED', `${action} failed: ${reasons}`, 'Check the stack in the CloudFormation console, then run the command again.', {cause: error})
  }
  return internalError('UNEXPECTED', `${action} failed unexpectedly: ${messageOf(error)}`, 'Run again with DEVFLOW_DEBUG=1 for the stack trace, and report it.', {cause: error})
}

function rootCause(error: unknown): unknown {
  let current = error
  for (let depth = 0; depth < 5; depth++) {
    if (isDevflowError(current)) return current
    const cause = (current as {cause?: unknown} | undefined)?.cause
    if (cause === undefined) return current
    current = cause
  }
  return current
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
