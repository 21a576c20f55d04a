/**
 * `devflow api serve`: the API router over HTTP on this machine against the AWS endpoints of a
 * deployment (what `sam local start-api` is to SAM). The caller is the access key of a SigV4-signed
 * request, or a fixed user given on the command line.
 */
import type {IncomingMessage} from 'node:http'

import {awsErrorTranslator, type AwsPlatformConfig, createAwsCoreDeps} from '../composition/aws.js'
import type {AwsEnvironment} from '../adapters/aws/environment.js'
import {createCoreServices} from '../core/services/index.js'
import {sigV4PrincipalsFromEnv, withSigV4Verification} from '../adapters/http/sigv4-gate.js'
import {type HttpIdentity, type RunningHttpServer, startHttpServer} from './http-server.js'
import {createApiRouter, type RouterLogger} from './router.js'

export interface ServeOptions {
  readonly config: AwsPlatformConfig
  readonly env: AwsEnvironment
  readonly host: string
  readonly port: number
  /** Every request runs as this user; otherwise the SigV4 access key names the caller. */
  readonly user?: string
  readonly logger?: RouterLogger
}

export async function serveApi(options: ServeOptions): Promise<RunningHttpServer> {
  const services = createCoreServices({...(await createAwsCoreDeps(options.config, options.env)), log: options.logger ?? stderrLogger})
  const router = withSigV4Verification(createApiRouter(services, {logger: options.logger ?? stderrLogger, translateError: awsErrorTranslator}), sigV4PrincipalsFromEnv(process.env))
  const fixedUser = options.user
  return startHttpServer({
    router,
    host: options.host,
    port: options.port,
    identify: async (req) => (fixedUser ? {userArn: fixedUser} : sigV4Identity(req)),
  })
}

/** One JSON line per request on stderr (the router never passes tokens or bodies). */
const stderrLogger: RouterLogger = {
  info: (message, extra) => process.stderr.write(`${JSON.stringify({level: 'INFO', message, ...extra})}\n`),
  warn: (message, extra) => process.stderr.write(`${JSON.stringify({level: 'WARN', message, ...extra})}\n`),
  error: (message, extra) => process.stderr.write(`${JSON.stringify({level: 'ERROR', message, ...extra})}\n`),
}

/**
 * The access key of a SigV4 `Authorization` header (`AWS4-HMAC-SHA256 Credential=AKID/...`). The
 * signature is not verified: this server is a development tool bound to this machine.
 */
export function sigV4Identity(req: Pick<IncomingMessage, 'headers'>): HttpIdentity | undefined {
  const authorization = req.headers.authorization
  const match = typeof authorization === 'string' ? /^AWS4-HMAC-SHA256\s+Credential=([^/,\s]+)\//.exec(authorization) : null
  if (!match) return undefined
  return {userArn: `access-key/${match[1]}`, accessKey: match[1]}
}
