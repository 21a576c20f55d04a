/**
 * The console's callers on AWS: API Gateway's Cognito user-pool authorizer has verified the ID
 * token and hands its claims to the function in `requestContext.authorizer.claims`. The owner of
 * what such a caller starts is the Cognito subject (DESIGN.md, "Owner identities"), never a name
 * or an e-mail address, which a user can change. Only API Gateway fills `authorizer`: a client
 * cannot send it.
 */
import type {APIGatewayProxyEvent} from 'aws-lambda'

export function cognitoSubject(event: APIGatewayProxyEvent): string | undefined {
  const claims = (event.requestContext?.authorizer as {claims?: Record<string, unknown>} | null | undefined)?.claims
  const sub = claims?.sub
  return typeof sub === 'string' && sub.trim() !== '' ? sub : undefined
}
