/**
 * What every Lambda entry in lambda/ delegates to. The services, the router and the logger are
 * built once per execution environment (on the first invocation) and reused while it stays warm.
 */
import {Logger} from '@aws-lambda-powertools/logger'
import type {APIGatewayProxyEvent, APIGatewayProxyResult, Context} from 'aws-lambda'

import {awsErrorTranslator, awsPlatformConfigFromEnv, createAwsCoreDeps} from '../composition/aws.js'
import {LAMBDA_ENV} from '../core/deployment.js'
import {type CoreServices, createCoreServices, type ReapReport} from '../core/services/index.js'
import {withConsoleCors} from './console-cors.js'
import {type ApiRouter, createApiRouter, type RouterLogger} from './router.js'
import {WARM_POOL_KEEPER_TASK} from './routes.js'

const logger = new Logger({serviceName: 'devflow-api'})

const routerLogger: RouterLogger = {
  info: (message, extra) => logger.info(message, extra ?? {}),
  warn: (message, extra) => logger.warn(message, extra ?? {}),
  error: (message, extra) => logger.error(message, extra ?? {}),
}

let services: Promise<CoreServices> | undefined

function coreServices(): Promise<CoreServices> {
  services ??= createAwsCoreDeps(awsPlatformConfigFromEnv(process.env), {region: process.env.AWS_REGION})
    .then((deps) => createCoreServices({...deps, log: routerLogger}))
    .catch((error: unknown) => {
      // A bad configuration is retried on the next invocation rather than cached.
      services = undefined
      throw error
    })
  return services
}

let router: Promise<ApiRouter> | undefined

/** The handler of an API route's function: API Gateway REST proxy event in, response out. */
export function apiHandler(): (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult> {
  return async (event, context) => {
    logger.addContext(context)
    logger.appendKeys({apiRequestId: event.requestContext?.requestId})
    try {
      router ??= coreServices().then((s) => createApiRouter(s, {logger: routerLogger, translateError: awsErrorTranslator}))
      return withConsoleCors(event, await (await router).handle(event), process.env[LAMBDA_ENV.consoleOrigin])
    } catch (error) {
      router = undefined
      logger.error('the API is misconfigured', {error: error instanceof Error ? {name: error.name, message: error.message} : String(error)})
      const code = (error as {code?: string})?.code ?? 'INTERNAL_ERROR'
      return {
        statusCode: 500,
        headers: {'content-type': 'application/json'},
        body: JSON.stringify({error: {code, message: 'The DevFlow API is not configured correctly.', hint: 'Redeploy with `devflow deploy`; the function logs name the problem.'}}),
      }
    }
  }
}

/** The scheduled reaper's handler. */
export function reaperHandler(): (event: unknown, context: Context) => Promise<ReapReport> {
  return async (event, context) => {
    logger.addContext(context)
    const services = await coreServices()
    // The warm pool's own schedule (every minute) runs only the keeper; the reaper's runs both.
    const keepOnly = (event as {task?: string} | undefined)?.task === WARM_POOL_KEEPER_TASK
    const report = keepOnly ? {checked: 0, stopped: [], reconciled: 0, failures: []} : await services.reapSessions()
    if (!keepOnly) logger.info('reaped sessions', {checked: report.checked, stopped: report.stopped.length, reconciled: report.reconciled, failures: report.failures})
    if (services.warmPool) {
      const kept = await services.warmPool.keep()
      const status = await services.warmPool.status()
      // One line per round: the dashboard's warm pool widget reads these fields.
      logger.info('warm pool', {...status, started: kept.started.length, dropped: kept.dropped.length, recycled: kept.recycled.length, trimmed: kept.trimmed.length, failures: kept.failures})
    }
    return report
  }
}
