import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {Template} from 'aws-cdk-lib/assertions'
import {expect} from 'chai'

import {buildApp, stackIdFor} from '../../infra/app.js'
import {budgetLimitsFrom, egressSettingsFrom, notificationSettingsFrom, priceOverrideFrom} from '../../infra/guardrails.js'
import {STAGES} from '../../infra/stages.js'
import {ROUTES} from '../../src/api/routes.js'
import {LAMBDA_ENV} from '../../src/core/deployment.js'
import {DEFAULT_REGISTRIES} from '../../src/core/egress.js'
import {rejection} from '../helpers/assertions.js'
import {ROOT} from '../helpers/cli.js'

describe('infra/guardrails: the guardrail context keys over the stage settings', () => {
  it('every stage has the allow-list on, its registries, and budgets by default', () => {
    for (const stage of Object.values(STAGES)) {
      expect(egressSettingsFrom({}, stage)).to.deep.equal({mode: 'allowList', allow: [...DEFAULT_REGISTRIES], http: false, repositoryAdditions: stage.name === 'dev'})
      const budgets = budgetLimitsFrom({}, stage)
      expect(budgets.sessionUsd).to.be.greaterThan(0)
      expect(budgets.userMonthlyUsd).to.be.greaterThan(budgets.sessionUsd ?? 0)
      expect(budgets.stageMonthlyUsd).to.be.greaterThan(budgets.userMonthlyUsd ?? 0)
    }
  })

  it('devflow:egressRepositoryAdditions turns repository additions on or off over the stage\'s default', () => {
    expect(egressSettingsFrom({'devflow:egressRepositoryAdditions': 'true'}, STAGES.prod).repositoryAdditions).to.equal(true)
    expect(egressSettingsFrom({'devflow:egressRepositoryAdditions': false}, STAGES.dev).repositoryAdditions).to.equal(false)
    expect(() => egressSettingsFrom({'devflow:egressRepositoryAdditions': 'maybe'}, STAGES.dev)).to.throw(/devflow:egressRepositoryAdditions must be true or false/)
  })

  it('devflow:budgets merges over the stage\'s figures, as -c JSON text or a cdk.json object', () => {
    expect(budgetLimitsFrom({'devflow:budgets': '{"userMonthlyUsd": 50}'}, STAGES.dev)).to.deep.equal({...STAGES.dev.budgets, userMonthlyUsd: 50})
    expect(budgetLimitsFrom({'devflow:budgets': {sessionUsd: 2}}, STAGES.prod)).to.deep.equal({...STAGES.prod.budgets, sessionUsd: 2})
  })

  it('devflow:prices gives the stage\'s price override; none by default', async () => {
    expect(priceOverrideFrom({})).to.equal(undefined)
    expect(priceOverrideFrom({'devflow:prices': {FARGATE_SPOT: {vcpuHourUsd: 0.01, gbHourUsd: 0.001}}})).to.deep.equal({FARGATE_SPOT: {vcpuHourUsd: 0.01, gbHourUsd: 0.001}})
    expect((await rejection((async () => priceOverrideFrom({'devflow:prices': '{"FARGATE": 1}'}))())).code).to.equal('INVALID_PRICES')
    expect((await rejection((async () => budgetLimitsFrom({'devflow:budgets': '{"sessionUsd": -1}'}, STAGES.dev))())).code).to.equal('INVALID_BUDGETS')
  })
})

describe('infra: guardrails wired into the stack (budgets, prices, notifications, the alert topic)', function () {
  this.timeout(180_000)
  const cdkJsonContext = JSON.parse(readFileSync(join(ROOT, 'cdk.json'), 'utf8')).context as Record<string, unknown>
  const devStack = (context: Record<string, unknown> = {}) => {
    const app = buildApp({context: {...cdkJsonContext, 'aws:cdk:bundling-stacks': [], 'devflow:stages': 'dev', ...context}, nag: false})
    return Template.fromStack(app.node.findChild(stackIdFor('dev')) as never)
  }
  type Resources = Record<string, {Properties: Record<string, unknown>}>
  const functionEnvironments = (template: Template) =>
    Object.values(template.findResources('AWS::Lambda::Function') as Resources)
      .map((fn) => (fn.Properties.Environment as {Variables?: Record<string, unknown>} | undefined)?.Variables)
      .filter((variables): variables is Record<string, unknown> => variables?.[LAMBDA_ENV.sessionsTable] !== undefined)
  const statements = (template: Template) =>
    Object.values(template.findResources('AWS::IAM::Policy') as Resources).flatMap((p) => (p.Properties.PolicyDocument as {Statement: Array<Record<string, unknown>>}).Statement)

  it('gives every API function and the reaper the budgets and the alert topic, and lets their role publish to it', () => {
    const template = devStack({'devflow:prices': '{"FARGATE": {"vcpuHourUsd": 0.05, "gbHourUsd": 0.005}}'})
    const [topicId] = Object.keys(template.findResources('AWS::SNS::Topic'))
    const environments = functionEnvironments(template)
    expect(environments.length).to.be.greaterThan(ROUTES.length) // the reaper too
    for (const variables of environments) {
      expect(JSON.parse(variables[LAMBDA_ENV.budgets] as string)).to.deep.equal(STAGES.dev.budgets)
      expect(JSON.parse(variables[LAMBDA_ENV.prices] as string)).to.deep.equal({FARGATE: {vcpuHourUsd: 0.05, gbHourUsd: 0.005}})
      expect(variables[LAMBDA_ENV.alertTopicArn]).to.deep.equal({Ref: topicId})
      expect(variables).to.not.have.property(LAMBDA_ENV.notifyWebhook)
    }
    const publish = statements(template).find((s) => s.Action === 'sns:Publish')
    expect(publish?.Resource).to.deep.equal({Ref: topicId})
    const [keyId] = Object.keys(template.findResources('AWS::KMS::Key'))
    const onKey = statements(template).find((s) => JSON.stringify(s.Resource).includes(keyId) && JSON.stringify(s.Action).includes('kms:GenerateDataKey'))
    expect(onKey?.Action).to.have.members(['kms:GenerateDataKey', 'kms:Decrypt'])
  })

  it('passes the webhook and lets the functions read its signing secret by name, never its value', () => {
    const template = devStack({'devflow:notifyWebhook': 'https://hooks.example.com/T1/B2', 'devflow:notifyFormat': 'json', 'devflow:notifySecret': 'devflow/notify-webhook'})
    for (const variables of functionEnvironments(template)) {
      expect(variables).to.include({[LAMBDA_ENV.notifyWebhook]: 'https://hooks.example.com/T1/B2', [LAMBDA_ENV.notifyFormat]: 'json', [LAMBDA_ENV.notifySecret]: 'devflow/notify-webhook'})
    }
    const read = statements(template).find((s) => JSON.stringify(s.Action).includes('secretsmanager:GetSecretValue') && JSON.stringify(s.Resource).includes('devflow/notify-webhook'))
    expect(read, 'a grant on the notify secret').to.not.equal(undefined)
  })

  it('refuses a webhook that is not https', async () => {
    expect((await rejection((async () => notificationSettingsFrom({'devflow:notifyWebhook': 'http://hooks.example.com/x'}))())).code).to.equal('INVALID_WEBHOOK_URL')
    expect(notificationSettingsFrom({})).to.deep.equal({})
  })
})
