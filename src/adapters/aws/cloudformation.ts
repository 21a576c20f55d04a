/**
 * CloudFormation reads (DescribeStacks): whether the CDK bootstrap stack is usable, and a deployed
 * stage's API URL in its stack outputs, for the CLI's API mode when the config holds no endpoint yet.
 */
import {CloudFormationClient, DescribeStacksCommand, type Stack} from '@aws-sdk/client-cloudformation'

import {OUTPUT_KEYS} from '../../core/deployment.js'
import {type AwsEnvironment, awsClientConfig} from './environment.js'
import {toDevflowError} from './sdk-errors.js'

export const TOOLKIT_STACK_NAME = 'CDKToolkit'

const USABLE = new Set(['CREATE_COMPLETE', 'UPDATE_COMPLETE', 'UPDATE_ROLLBACK_COMPLETE', 'IMPORT_COMPLETE'])

/** The stack, or undefined when it does not exist. */
async function describeStack(env: AwsEnvironment, stackName: string, action: string, maxAttempts: number): Promise<Stack | undefined> {
  const client = new CloudFormationClient(await awsClientConfig(env, {maxAttempts}))
  try {
    const out = await client.send(new DescribeStacksCommand({StackName: stackName}))
    return out.Stacks?.[0]
  } catch (error) {
    // CloudFormation answers a missing stack with a ValidationError "Stack with id X does not exist".
    if ((error as {name?: string}).name === 'ValidationError' && /does not exist/.test(String((error as Error).message))) return undefined
    throw toDevflowError(error, action) ?? error
  } finally {
    client.destroy()
  }
}

/** Whether the CDK bootstrap stack exists and is usable in this account and region. */
export async function isBootstrapped(env: AwsEnvironment): Promise<boolean> {
  const stack = await describeStack(env, TOOLKIT_STACK_NAME, 'Looking up the CDK bootstrap stack', 3)
  return USABLE.has(stack?.StackStatus ?? '')
}

/** The stack's ApiUrl output, or undefined when the stack does not exist or has no such output. */
export async function findApiUrlInStack(env: AwsEnvironment, stackName: string): Promise<string | undefined> {
  const stack = await describeStack(env, stackName, 'CloudFormation DescribeStacks', 2)
  return stack?.Outputs?.find((o) => o.OutputKey === OUTPUT_KEYS.apiUrl)?.OutputValue
}
