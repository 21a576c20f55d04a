/**
 * Finds a deployed stage's API URL in its CloudFormation stack outputs (DescribeStacks), for the
 * CLI's API mode when the config holds no endpoint yet.
 */
import {CloudFormationClient, DescribeStacksCommand} from '@aws-sdk/client-cloudformation'

import {OUTPUT_KEYS} from '../../core/deployment.js'
import {type AwsEnvironment, awsClientConfig} from './environment.js'
import {toDevflowError} from './errors.js'

export function stackNameForStage(stage: string): string {
  return `devflow-${stage}`
}

/** The stack's ApiUrl output, or undefined when the stack does not exist or has no such output. */
export async function findApiUrlInStack(env: AwsEnvironment, stackName: string): Promise<string | undefined> {
  const client = new CloudFormationClient(await awsClientConfig(env, {maxAttempts: 2}))
  try {
    const out = await client.send(new DescribeStacksCommand({StackName: stackName}))
    const outputs = out.Stacks?.[0]?.Outputs ?? []
    return outputs.find((o) => o.OutputKey === OUTPUT_KEYS.apiUrl)?.OutputValue
  } catch (error) {
    // CloudFormation answers a missing stack with a ValidationError, not a not-found code.
    if ((error as {name?: string}).name === 'ValidationError' && /does not exist/.test(String((error as Error).message))) return undefined
    throw toDevflowError(error, 'CloudFormation DescribeStacks') ?? error
  } finally {
    client.destroy()
  }
}
