/**
 * Admin mode (`--admin`): the core services over the AWS adapters, with the deployment that
 * `devflow deploy` saved, called as the operator's own AWS identity with admin rights (every
 * user's sessions). The same services the API handlers run, so output and exit codes match.
 */
import {getCallerIdentity} from '../adapters/aws/identity.js'
import type {AwsEnvironment} from '../adapters/aws/environment.js'
import {awsPlatformConfigFromDeployment, createAwsCoreDeps} from '../composition/aws.js'
import type {Deployment} from '../core/deployment.js'
import {ownerOf} from '../core/owner.js'
import {createCoreServices} from '../core/services/index.js'
import type {Caller, SessionApi} from '../core/session-api.js'

export async function adminSessionApi(aws: AwsEnvironment, deployment: Deployment | undefined, version: string): Promise<{api: SessionApi; caller: Caller}> {
  const config = {...awsPlatformConfigFromDeployment(deployment ?? {}), version}
  const identity = await getCallerIdentity(aws)
  const deps = await createAwsCoreDeps(config, aws)
  return {api: createCoreServices(deps).sessions, caller: {userId: ownerOf(identity.arn), admin: true}}
}
