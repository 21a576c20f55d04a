import {CloudFormationClient, DescribeStacksCommand} from '@aws-sdk/client-cloudformation'

import {type AwsEnvironment, awsClientConfig} from '../adapters/aws/environment.js'
import {toDevflowError} from '../adapters/aws/errors.js'

export const TOOLKIT_STACK_NAME = 'CDKToolkit'

const USABLE = new Set(['CREATE_COMPLETE', 'UPDATE_COMPLETE', 'UPDATE_ROLLBACK_COMPLETE', 'IMPORT_COMPLETE'])

/** Whether the CDK bootstrap stack exists and is usable in this account and region. */
export async function isBootstrapped(env: AwsEnvironment): Promise<boolean> {
  const client = new CloudFormationClient(await awsClientConfig(env, {maxAttempts: 3}))
  try {
    const out = await client.send(new DescribeStacksCommand({StackName: TOOLKIT_STACK_NAME}))
    return USABLE.has(out.Stacks?.[0]?.StackStatus ?? '')
  } catch (error) {
    // CloudFormation answers a ValidationError "Stack with id CDKToolkit does not exist".
    if ((error as {name?: string}).name === 'ValidationError') return false
    throw toDevflowError(error, 'Looking up the CDK bootstrap stack') ?? error
  } finally {
    client.destroy()
  }
}
