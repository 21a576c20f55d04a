/**
 * Which backend the session commands talk to (DESIGN.md "Modes of the session commands"), as one
 * `SessionApi` and the `Caller` to pass it:
 *  - admin (`--admin`): the core services over the AWS adapters, as the operator's STS identity;
 *  - local (the stage's config has a `local` section, written by `devflow local up`): the local
 *    server on 127.0.0.1 with the bearer token from the section's `tokenFile`;
 *  - api (otherwise): the deployed REST API, every request signed with SigV4.
 */
import {readFile} from 'node:fs/promises'

import {HttpSessionApi} from '../adapters/http/api-client.js'
import {bearerAuthorizer, sigV4Authorizer} from '../adapters/http/authorizers.js'
import {type AwsEnvironment, resolveRegion} from '../adapters/aws/environment.js'
import {invalidInput, unauthenticated} from '../core/errors.js'
import type {Caller, SessionApi} from '../core/session-api.js'
import {discoverApiEndpoint} from '../operations/api-endpoint.js'
import type {ConfigFile} from './config.js'

export type SessionMode = 'api' | 'admin' | 'local'

export interface SessionClient {
  readonly mode: SessionMode
  readonly api: SessionApi
  readonly caller: Caller
  /** Where the API lives (api and local modes). */
  readonly endpoint?: string
}

export interface SessionClientContext {
  readonly admin: boolean
  readonly stage: string
  /** The endpoint setting (flag > DEVFLOW_ENDPOINT > config), already validated. */
  readonly endpoint?: string
  readonly config: ConfigFile
  readonly aws: AwsEnvironment
  readonly userAgent: string
  /** Builds admin mode's services; injected so API and local modes never load the AWS adapters. */
  readonly adminApi: (aws: AwsEnvironment, deployment: Record<string, string> | undefined) => Promise<{api: SessionApi; caller: Caller}>
}

/** The `local` section that `devflow local up` writes for its stage. */
export const LOCAL_SECTION = 'local'

/** API callers are identified by the server from the signature or token; this value is not sent. */
const REMOTE_CALLER: Caller = {userId: 'self'}

/** The mode, from flags and config alone (no network), so input can be checked before connecting. */
export function sessionModeFor(admin: boolean, config: ConfigFile, stage: string): SessionMode {
  if (admin) return 'admin'
  return config.getStageData(stage, LOCAL_SECTION) ? 'local' : 'api'
}

export async function openSessionClient(context: SessionClientContext): Promise<SessionClient> {
  const deployment = context.config.getStageData(context.stage, 'deployment')
  if (context.admin) {
    const {api, caller} = await context.adminApi(context.aws, deployment)
    return {mode: 'admin', api, caller}
  }
  const local = context.config.getStageData(context.stage, LOCAL_SECTION)
  if (local) {
    const endpoint = context.endpoint ?? local.apiUrl ?? deployment?.apiUrl
    if (!endpoint) {
      throw invalidInput(
        'LOCAL_ENDPOINT_MISSING',
        `The local stage "${context.stage}" in ${context.config.path} does not say where its server listens.`,
        `Run \`devflow local up\` again, or pass --endpoint.`,
      )
    }
    const token = await readLocalToken(local.tokenFile, context.stage)
    return {mode: 'local', api: new HttpSessionApi({endpoint, authorizer: bearerAuthorizer(token), userAgent: context.userAgent}), caller: REMOTE_CALLER, endpoint}
  }
  const endpoint = context.endpoint ?? deployment?.apiUrl ?? (await discoverEndpoint(context))
  return {
    mode: 'api',
    api: new HttpSessionApi({endpoint, authorizer: sigV4Authorizer({profile: context.aws.profile, region: context.aws.region ?? deployment?.region}), userAgent: context.userAgent}),
    caller: REMOTE_CALLER,
    endpoint,
  }
}

/** The stage's API URL from its CloudFormation stack: the only path that loads the CloudFormation client. */
async function discoverEndpoint(context: SessionClientContext): Promise<string> {
  const findApiUrl = async (stackName: string) => (await import('../adapters/aws/cloudformation.js')).findApiUrlInStack(context.aws, stackName)
  return discoverApiEndpoint({config: context.config, region: resolveRegion(context.aws), findApiUrl}, context.stage)
}

async function readLocalToken(tokenFile: string | undefined, stage: string): Promise<string> {
  const hint = `Start the local platform with \`devflow local up\` (stage ${stage}).`
  if (!tokenFile) throw unauthenticated('LOCAL_TOKEN_MISSING', `The local stage "${stage}" has no token file in the config.`, hint)
  let token: string
  try {
    token = (await readFile(tokenFile, 'utf8')).trim()
  } catch (error) {
    throw unauthenticated('LOCAL_TOKEN_UNREADABLE', `Cannot read the local platform's token ${tokenFile}: ${(error as Error).message}.`, hint, {cause: error})
  }
  if (token === '') throw unauthenticated('LOCAL_TOKEN_MISSING', `The local platform's token file ${tokenFile} is empty.`, hint)
  return token
}
