import type {APIGatewayProxyEvent, Context} from 'aws-lambda'
import {expect} from 'chai'

import {LAMBDA_ENV} from '../../../src/core/deployment.js'

describe('lambda entries', () => {
  it('answer a clear 500 when the function is not configured, and recover once it is', async () => {
    const saved = {...process.env}
    process.env.POWERTOOLS_LOG_LEVEL = 'SILENT'
    for (const name of Object.values(LAMBDA_ENV)) delete process.env[name]
    const {handler} = await import('../../../lambda/get-session.js')
    const event = {httpMethod: 'GET', path: '/nowhere', headers: {}, requestContext: {requestId: 'r1', identity: {userArn: 'alice'}}} as unknown as APIGatewayProxyEvent
    const context = {functionName: 'get-session', awsRequestId: 'aws-1'} as unknown as Context
    const broken = await handler(event, context)
    expect(broken.statusCode).to.equal(500)
    expect(JSON.parse(broken.body).error).to.include({code: 'PLATFORM_CONFIG_MISSING'})

    Object.assign(process.env, {
      [LAMBDA_ENV.cluster]: 'devflow',
      [LAMBDA_ENV.taskDefinition]: 'devflow-workspace:1',
      [LAMBDA_ENV.subnets]: 'subnet-1',
      [LAMBDA_ENV.githubAppSecretArn]: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:devflow/github-app',
      AWS_REGION: process.env.AWS_REGION ?? 'us-east-1',
    })
    try {
      const routed = await handler(event, context)
      expect(routed.statusCode).to.equal(404)
      expect(JSON.parse(routed.body).error.code).to.equal('ROUTE_NOT_FOUND')
    } finally {
      for (const name of [...Object.values(LAMBDA_ENV), 'POWERTOOLS_LOG_LEVEL', 'AWS_REGION']) {
        if (saved[name] === undefined) delete process.env[name]
        else process.env[name] = saved[name]
      }
    }
  })
})
