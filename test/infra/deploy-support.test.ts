/**
 * The parts of src/deploy that moto cannot exercise: moto_server's CloudFormation creates stacks in
 * one synchronous call, so a resource that fails mid-deployment (and its reason) never reaches the
 * toolkit there. These feed the toolkit's own message shapes to the IoHost and classifier.
 */
import {AssemblyError, AuthenticationError, DeploymentError, type IoMessage} from '@aws-cdk/toolkit-lib'
import {expect} from 'chai'

import {ExitCode, invalidInput} from '../../src/core/errors.js'
import {classifyToolkitError} from '../../src/adapters/cdk/toolkit-errors.js'
import {outputsByKey, parseContextArgs, requireStage} from '../../src/adapters/cdk/toolkit.js'
import {ToolkitProgress} from '../../src/adapters/cdk/toolkit-progress.js'

function resourceEvent(status: string, logicalId: string, resourceType: string, reason?: string): IoMessage<unknown> {
  return {
    time: new Date(),
    level: 'info',
    action: 'deploy',
    code: 'CDK_TOOLKIT_I5502',
    message: `devflow-dev | ${status} | ${resourceType} | ${logicalId}`,
    data: {
      deployment: 'd-1',
      event: {StackName: 'devflow-dev', LogicalResourceId: logicalId, ResourceType: resourceType, ResourceStatus: status, ResourceStatusReason: reason, Timestamp: new Date(), EventId: '1', StackId: 'id'},
      metadata: {constructPath: `Devflow-dev/${logicalId}`, entry: {type: 'aws:cdk:logicalId'}},
      progress: {completed: 1, total: 10, formatted: '1/10'},
    },
  } as IoMessage<unknown>
}

describe('deploy: progress and failures', () => {
  it('writes one line per resource event and remembers the failed ones, not the cancelled ones', async () => {
    const lines: string[] = []
    const progress = new ToolkitProgress({event: (line) => lines.push(line)})
    await progress.notify(resourceEvent('CREATE_IN_PROGRESS', 'DataSessions', 'AWS::DynamoDB::Table'))
    await progress.notify(resourceEvent('CREATE_FAILED', 'DataSessions', 'AWS::DynamoDB::Table', 'devflow-sessions already exists'))
    await progress.notify(resourceEvent('CREATE_FAILED', 'ImagesRepository', 'AWS::ECR::Repository', 'Resource creation cancelled'))
    await progress.notify({time: new Date(), level: 'error', action: 'deploy', message: 'Deployment failed', data: undefined})
    await progress.notify({time: new Date(), level: 'trace', action: 'deploy', code: 'CDK_SDK_I0100', message: 'SDK call', data: undefined})
    expect(lines).to.deep.equal([
      'devflow-dev | CREATE_IN_PROGRESS | AWS::DynamoDB::Table | DataSessions (Devflow-dev/DataSessions)',
      'devflow-dev | CREATE_FAILED | AWS::DynamoDB::Table | DataSessions (Devflow-dev/DataSessions) | devflow-sessions already exists',
      'devflow-dev | CREATE_FAILED | AWS::ECR::Repository | ImagesRepository (Devflow-dev/ImagesRepository) | Resource creation cancelled',
    ])
    expect(progress.failures).to.deep.equal([
      {stackName: 'devflow-dev', logicalId: 'DataSessions', resourceType: 'AWS::DynamoDB::Table', status: 'CREATE_FAILED', reason: 'devflow-sessions already exists'},
    ])
    expect(progress.errors).to.deep.equal(['Deployment failed'])
  })

  it('a failed deployment names the resource and CloudFormation\'s reason, exit 7', async () => {
    const progress = new ToolkitProgress({event: () => undefined})
    await progress.notify(resourceEvent('CREATE_FAILED', 'DataSessions', 'AWS::DynamoDB::Table', 'devflow-sessions already exists'))
    const error = classifyToolkitError('Deploying devflow-dev', progress, new DeploymentError('The stack named devflow-dev failed creation', 'StackCreateFailed'))
    expect(error.exitCode).to.equal(ExitCode.REMOTE)
    expect(error.code).to.equal('DEPLOY_FAILED')
    expect(error.message).to.equal('Deploying devflow-dev failed at DataSessions (AWS::DynamoDB::Table): CREATE_FAILED: devflow-sessions already exists')
  })

  it('keeps our own errors from inside synthesis, and classifies the toolkit\'s', () => {
    const empty = {failures: [], errors: []}
    const ours = invalidInput('INVALID_IMAGE_DIGEST', 'bad digest', 'fix it')
    expect(classifyToolkitError('Deploying devflow-dev', empty, AssemblyError.withCause('Assembly builder failed', ours))).to.equal(ours)
    expect(classifyToolkitError('Deploying devflow-dev', empty, new AuthenticationError('AUTH', 'no credentials')).exitCode).to.equal(ExitCode.AUTH)
    expect(classifyToolkitError('Deploying devflow-dev', empty, new DeploymentError('stack failed', 'StackCreateFailed')).exitCode).to.equal(ExitCode.REMOTE)
    const sdk = Object.assign(new Error('denied'), {name: 'AccessDenied', $metadata: {httpStatusCode: 403}})
    expect(classifyToolkitError('Deploying devflow-dev', empty, sdk).code).to.equal('AWS_ACCESS_DENIED')
  })
})

describe('deploy: context, stages and outputs', () => {
  it('parses -c key=value pairs, keeping = in values', () => {
    expect(parseContextArgs(['devflow:imageTag=v1', 'devflow:network={"dev":{"a":"b=c"}}'])).to.deep.equal({'devflow:imageTag': 'v1', 'devflow:network': '{"dev":{"a":"b=c"}}'})
    expect(() => parseContextArgs(['novalue'])).to.throw(/key=value/)
    expect(() => parseContextArgs(['=x'])).to.throw(/key=value/)
  })

  it('accepts only the stages of infra/stages.ts', () => {
    expect(requireStage('prod')).to.equal('prod')
    expect(() => requireStage('local')).to.throw(/not a deployable stage/)
  })

  it('maps CloudFormation output keys to the config keys and drops unknown ones', () => {
    expect(outputsByKey({ApiUrl: 'https://x', SessionsTableName: 'devflow-sessions', Other: 'x'})).to.deep.equal({apiUrl: 'https://x', sessionsTable: 'devflow-sessions'})
  })
})
