/**
 * API Gateway's AWS_IAM authoriser for a router served without API Gateway (`devflow api serve`):
 * every user route's SigV4 signature is recomputed with `verifySigV4` against a fixed set of
 * principals, a bad one is refused with 403 and `x-amzn-ErrorType` exactly as API Gateway refuses
 * it, and a good one names the caller by its principal's ARN, as API Gateway's identity does. The
 * agent routes carry a session token instead and pass through, as does the GitHub webhook (checked
 * by its X-Hub-Signature-256).
 *
 * The principals come from DEVFLOW_API_SIGV4_PRINCIPALS, a JSON object
 * `{"<access key id>": {"secretAccessKey": "...", "userArn": "arn:aws:..."}}`, or `@<file>` naming
 * a file of that JSON read again on every request (so that short-lived credentials, a workspace
 * task role's say, can be added while the server runs); without it the router is served as it is.
 * The bootstrap route is a user route here too: API Gateway authorises it with AWS_IAM.
 */
import type {APIGatewayProxyEvent, APIGatewayProxyResult} from 'aws-lambda'

import {readFileSync} from 'node:fs'

import {invalidInput, isDevflowError} from '../../core/errors.js'
import {verifySigV4} from './sigv4.js'

export const SIGV4_PRINCIPALS_ENV = 'DEVFLOW_API_SIGV4_PRINCIPALS'

export interface SigV4Principal {
  readonly secretAccessKey: string
  readonly userArn: string
}

export interface EventRouter {
  handle(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult>
}

export type SigV4Principals = Record<string, SigV4Principal>
/** The principals, or where to read them on each request. */
export type PrincipalSource = SigV4Principals | (() => SigV4Principals)

export function sigV4PrincipalsFromEnv(env: NodeJS.ProcessEnv): PrincipalSource | undefined {
  const raw = env[SIGV4_PRINCIPALS_ENV]
  if (raw === undefined || raw === '') return undefined
  if (raw.startsWith('@')) {
    const file = raw.slice(1)
    const read = () => {
      try {
        return parsePrincipals(readFileSync(file, 'utf8'))
      } catch (error) {
        if (isDevflowError(error)) throw error
        throw invalidInput('INVALID_SIGV4_PRINCIPALS', `${SIGV4_PRINCIPALS_ENV} names ${file}, which cannot be read.`, 'Point it at a readable JSON file, or unset it.', {cause: error})
      }
    }
    read()
    return read
  }
  return parsePrincipals(raw)
}

function parsePrincipals(raw: string): SigV4Principals {
  const invalid = () =>
    invalidInput(
      'INVALID_SIGV4_PRINCIPALS',
      `${SIGV4_PRINCIPALS_ENV} is not a JSON object of access key ids to {secretAccessKey, userArn}.`,
      `Set it like {"AKID...": {"secretAccessKey": "...", "userArn": "arn:aws:iam::123456789012:user/alice"}}, or unset it.`,
    )
  let parsed: unknown
  try {
    parsed = JSON.parse(raw)
  } catch {
    throw invalid()
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw invalid()
  for (const principal of Object.values(parsed)) {
    const p = principal as Partial<SigV4Principal> | null
    if (typeof p?.secretAccessKey !== 'string' || typeof p.userArn !== 'string') throw invalid()
  }
  return parsed as Record<string, SigV4Principal>
}

const GATEWAY_ERROR_TYPES: Record<string, string> = {
  MISSING_AUTHENTICATION: 'MissingAuthenticationTokenException',
  UNKNOWN_ACCESS_KEY: 'UnrecognizedClientException',
  SIGNATURE_EXPIRED: 'InvalidSignatureException',
  INVALID_SIGNATURE: 'InvalidSignatureException',
}

/** The agent routes carry a session token; the bootstrap route is AWS_IAM-authorised like the user routes. */
function carriesSessionToken(path: string): boolean {
  return path.startsWith('/agent/') && !/\/bootstrap\/?$/.test(path)
}

export function withSigV4Verification(router: EventRouter, source: PrincipalSource | undefined): EventRouter {
  if (!source) return router
  return {
    async handle(event) {
      // Agent routes carry a session token, the GitHub webhook its own signature: API Gateway lets both through.
      const path = event.path ?? '/'
      if (carriesSessionToken(path) || path === '/github/webhook') return router.handle(event)
      let principal: SigV4Principal & {accessKeyId: string}
      try {
        const principals = typeof source === 'function' ? source() : source
        const {accessKeyId} = await verifySigV4(
          {method: event.httpMethod, url: requestTarget(event), headers: lowerCaseHeaders(event.headers), body: event.body ?? ''},
          (key) => principals[key]?.secretAccessKey,
        )
        principal = {...principals[accessKeyId], accessKeyId}
      } catch (error) {
        if (!isDevflowError(error)) throw error
        return {
          statusCode: 403,
          headers: {'content-type': 'application/json', 'x-amzn-ErrorType': GATEWAY_ERROR_TYPES[error.code] ?? 'AccessDeniedException'},
          body: JSON.stringify({message: error.message}),
        }
      }
      const identity = {...event.requestContext.identity, userArn: principal.userArn, caller: principal.userArn, user: principal.userArn, accessKey: principal.accessKeyId}
      return router.handle({...event, requestContext: {...event.requestContext, identity}})
    },
  }
}

function requestTarget(event: APIGatewayProxyEvent): string {
  const query = new URLSearchParams()
  for (const [name, values] of Object.entries(event.multiValueQueryStringParameters ?? {})) {
    for (const value of values ?? []) query.append(name, value)
  }
  const search = query.toString()
  return `${event.path}${search ? `?${search}` : ''}`
}

function lowerCaseHeaders(headers: APIGatewayProxyEvent['headers']): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]))
}
