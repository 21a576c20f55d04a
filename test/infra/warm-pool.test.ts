/**
 * The warm pool's infrastructure (issue 16): its table, the keeper's every-minute schedule on the
 * reaper function (only when the stage keeps a pool), the API URL the keeper's tasks call back, the
 * grants (the table with DeleteItem, tagging a taken task with its owner and session only), no ECS
 * service left, and the per-stage size and schedule settings.
 */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {Match, Template} from 'aws-cdk-lib/assertions'
import {expect} from 'chai'

import {buildApp, stackIdFor} from '../../infra/app.js'
import {LAMBDA_ENV, OUTPUT_KEYS, TABLE_NAMES} from '../../src/core/deployment.js'
import {ROOT} from '../helpers/cli.js'

const base = {...(JSON.parse(readFileSync(join(ROOT, 'cdk.json'), 'utf8')) as {context: Record<string, unknown>}).context, 'aws:cdk:bundling-stacks': []}

function synth(context: Record<string, unknown>): Record<'dev' | 'prod', Template> {
  const app = buildApp({context: {...base, ...context}, nag: false})
  const assembly = app.synth()
  return {dev: Template.fromJSON(assembly.getStackArtifact(stackIdFor('dev')).template), prod: Template.fromJSON(assembly.getStackArtifact(stackIdFor('prod')).template)}
}

describe('infra: the warm pool', function () {
  this.timeout(180_000)
  let templates: Record<'dev' | 'prod', Template>

  before(() => {
    templates = synth({'devflow:warmTasks': {dev: 2}, 'devflow:warmSchedule': {prod: 'mon-fri 07:00-19:00=3'}})
  })

  it('has its table, named in the outputs and the functions\' environment, and no ECS service', () => {
    for (const template of Object.values(templates)) {
      template.hasResourceProperties('AWS::DynamoDB::Table', {TableName: TABLE_NAMES.warmPool, KeySchema: [{AttributeName: 'warm_id', KeyType: 'HASH'}], TimeToLiveSpecification: {AttributeName: 'ttl', Enabled: true}})
      template.hasOutput(OUTPUT_KEYS.warmPoolTable, {})
      template.resourceCountIs('AWS::ECS::Service', 0)
    }
  })

  it('sizes the pool per stage: a count for dev, a schedule for prod, each on the functions', () => {
    templates.dev.hasResourceProperties('AWS::Lambda::Function', {Environment: {Variables: Match.objectLike({[LAMBDA_ENV.warmTasks]: '2'})}})
    templates.prod.hasResourceProperties('AWS::Lambda::Function', {Environment: {Variables: Match.objectLike({[LAMBDA_ENV.warmTasks]: '0', [LAMBDA_ENV.warmSchedule]: 'mon-fri 07:00-19:00=3'})}})
    // Spot in dev: the warm tasks take the stage's capacity.
    templates.dev.hasResourceProperties('AWS::Lambda::Function', {Environment: {Variables: Match.objectLike({[LAMBDA_ENV.capacity]: 'FARGATE_SPOT'})}})
  })

  it('runs the keeper every minute on the reaper function, which knows the API URL its tasks call', () => {
    for (const template of Object.values(templates)) {
      template.hasResourceProperties('AWS::Events::Rule', {ScheduleExpression: 'rate(1 minute)', Targets: [Match.objectLike({Input: JSON.stringify({task: 'warm-pool'})})]})
      template.hasResourceProperties('AWS::Lambda::Function', {Environment: {Variables: Match.objectLike({[LAMBDA_ENV.agentApiUrl]: Match.anyValue()})}})
    }
    const none = synth({})
    none.dev.resourcePropertiesCountIs('AWS::Events::Rule', {ScheduleExpression: 'rate(1 minute)'}, 0)
  })

  it('puts the pool\'s size, hits and misses on the dashboard, from the keeper\'s log', () => {
    const body = JSON.stringify(templates.dev.findResources('AWS::CloudWatch::Dashboard'))
    expect(body).to.contain('Warm pool: target').and.contain('max(hits) as hits').and.contain('max(misses) as misses')
  })

  it('grants the table with DeleteItem, and tagging a taken task with its owner and session tags only', () => {
    const statements = (template: Template) =>
      Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p) => (p as {Properties: {PolicyDocument: {Statement: Array<Record<string, unknown>>}}}).Properties.PolicyDocument.Statement)
    const all = statements(templates.dev)
    expect(all.some((s) => JSON.stringify(s.Action).includes('dynamodb:DeleteItem') && JSON.stringify(s.Resource).includes('WarmPool'))).to.equal(true)
    const tagging = all.filter((s) => JSON.stringify(s.Action).includes('ecs:TagResource'))
    expect(tagging.map((s) => s.Condition)).to.deep.include({'ForAllValues:StringEquals': {'aws:TagKeys': ['devflow:owner', 'devflow:session']}})
  })

  it('refuses a schedule it cannot read, at synth', () => {
    expect(() => synth({'devflow:warmSchedule': '7-19=3'})).to.throw(/not a window like/)
  })
})
