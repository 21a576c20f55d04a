/**
 * The console's callers on AWS: API Gateway's Cognito user-pool authorizer has verified the ID
 * token and hands its claims to the function in `requestContext.authorizer.claims`. The owner of
 * what such a caller starts is `cognito:<sub>` (DESIGN.md, "Owner identities": the Cognito
 * subject, prefixed so that it can never equal an IAM principal or another platform's owner id),
 * never a name or an e-mail address, which a user can change. Its groups (`cognito:groups`) say
 * whether it is a stage admin (core/admins.ts). Only API Gateway fills `authorizer`: a client
 * cannot send it.
 */
import type {APIGatewayProxyEvent} from 'aws-lambda'

import {parseGroupsClaim} from '../core/admins.js'

/** The owner-id prefix of console users. */
export const COGNITO_OWNER_PREFIX = 'cognito:'

export interface ConsoleUser {
  /** `cognito:<sub>`. */
  readonly userId: string
  readonly groups: string[]
}

export function consoleUser(event: APIGatewayProxyEvent): ConsoleUser | undefined {
  const claims = (event.requestContext?.authorizer as {claims?: Record<string, unknown>} | null | undefined)?.claims
  const sub = claims?.sub
  if (typeof sub !== 'string' || sub.trim() === '') return undefined
  return {userId: `${COGNITO_OWNER_PREFIX}${sub}`, groups: parseGroupsClaim(claims?.['cognito:groups'])}
}
