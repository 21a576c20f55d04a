/**
 * CORS for the console on AWS: the console (on the CloudFront domain) calls the console API (an
 * execute-api domain). API Gateway answers the preflight; a proxy integration's own response must
 * carry Access-Control-Allow-Origin, and only for the one origin the stack configured.
 */
import type {APIGatewayProxyEvent, APIGatewayProxyResult} from 'aws-lambda'

export function withConsoleCors(event: APIGatewayProxyEvent, response: APIGatewayProxyResult, allowedOrigin: string | undefined): APIGatewayProxyResult {
  if (!allowedOrigin) return response
  const origin = Object.entries(event.headers ?? {}).find(([name]) => name.toLowerCase() === 'origin')?.[1]
  if (origin !== allowedOrigin) return response
  return {...response, headers: {...response.headers, 'access-control-allow-origin': allowedOrigin, vary: 'Origin', 'access-control-expose-headers': 'x-request-id'}}
}
