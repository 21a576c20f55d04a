import {GetCallerIdentityCommand, STSClient} from '@aws-sdk/client-sts'

import {toDevflowError} from './sdk-errors.js'
import {type AwsEnvironment, awsClientConfig} from './environment.js'

export interface CallerIdentity {
  readonly account: string
  readonly arn: string
  readonly userId: string
}

/** STS GetCallerIdentity with the resolved profile and region; AWS errors become DevflowErrors. */
export async function getCallerIdentity(env: AwsEnvironment): Promise<CallerIdentity> {
  const client = new STSClient({...(await awsClientConfig(env, {maxAttempts: 2})), region: env.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1'})
  try {
    const out = await client.send(new GetCallerIdentityCommand({}))
    return {account: out.Account ?? '', arn: out.Arn ?? '', userId: out.UserId ?? ''}
  } catch (error) {
    throw toDevflowError(error, 'STS GetCallerIdentity') ?? error
  } finally {
    client.destroy()
  }
}
