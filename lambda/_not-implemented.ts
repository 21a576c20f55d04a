/**
 * The one allowed placeholder (issue 3): until the control plane lands, every API Lambda answers
 * 501 with a clear error body. The control-plane work replaces each entry with a call into src/api.
 */
import type {APIGatewayProxyResult} from 'aws-lambda'

export function notImplemented(route: string): () => Promise<APIGatewayProxyResult> {
  return async () => ({
    statusCode: 501,
    headers: {'content-type': 'application/json'},
    body: JSON.stringify({
      error: {code: 'NOT_IMPLEMENTED', message: `${route} is not implemented in this build.`, hint: 'Deploy a DevFlow version that includes the session control plane.'},
    }),
  })
}
