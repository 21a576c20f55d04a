/**
 * Issue 15's egress allow-list on AWS: the DNS Firewall on the workspace VPC, its rules, its
 * association, the query logs with their blocked-look-up count, and the 443-only security group;
 * the stage settings that shape them. The full dev stack is synthesized with cdk-nag on and its
 * template checked by cfn-lint.
 */
import {execFile} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {promisify} from 'node:util'

import {Match, Template} from 'aws-cdk-lib/assertions'
import {expect} from 'chai'

import {buildApp, stackIdFor} from '../../infra/app.js'
import {BLOCKED_DNS_METRIC} from '../../infra/constructs/egress-firewall.js'
import {isDevflowError} from '../../src/core/errors.js'
import {BASE_EGRESS_ALLOW, DEFAULT_REGISTRIES} from '../../src/core/egress.js'
import {ROOT} from '../helpers/cli.js'

const run = promisify(execFile)
const cdkJsonContext = JSON.parse(readFileSync(join(ROOT, 'cdk.json'), 'utf8')).context as Record<string, unknown>

function devStack(context: Record<string, unknown> = {}): Template {
  const app = buildApp({context: {...cdkJsonContext, 'aws:cdk:bundling-stacks': [], 'devflow:stages': 'dev', ...context}, nag: false})
  return Template.fromStack(app.node.findChild(stackIdFor('dev')) as never)
}

type Resources = Record<string, {Type: string; Properties: Record<string, unknown>}>

function only(template: Template, type: string): [string, Record<string, unknown>] {
  const found = Object.entries(template.findResources(type) as Resources)
  expect(found, type).to.have.length(1)
  return [found[0][0], found[0][1].Properties]
}

function domainLists(template: Template): Array<[string, unknown[]]> {
  return Object.entries(template.findResources('AWS::Route53Resolver::FirewallDomainList') as Resources).map(([id, r]) => [id, r.Properties.Domains as unknown[]])
}

function workspaceEgress(template: Template): unknown {
  return only(template, 'AWS::EC2::SecurityGroup')[1].SecurityGroupEgress
}

describe('infra: the egress allow-list (DNS Firewall, query logs, 443-only security group)', function () {
  this.timeout(180_000)
  let template: Template
  let templateFile: string
  let outdir: string

  before(async () => {
    outdir = await mkdtemp(join(tmpdir(), 'devflow-egress-synth-'))
    const app = buildApp({context: {...cdkJsonContext, 'aws:cdk:bundling-stacks': [], 'devflow:stages': 'dev'}, outdir})
    const artifact = app.synth().getStackArtifact(stackIdFor('dev')) // throws on an unacknowledged cdk-nag finding
    template = Template.fromJSON(artifact.template as Record<string, unknown>)
    templateFile = artifact.templateFullPath
  })
  after(() => rm(outdir, {recursive: true, force: true}))

  it('allows GitHub, the Anthropic API, the stage\'s registries, the task\'s AWS endpoints and the DevFlow API, and nothing else', () => {
    const lists = domainLists(template)
    expect(lists).to.have.length(2)
    const [allowId, allow] = lists.find(([, domains]) => domains.length > 1) ?? ['', []]
    expect(allow).to.include.members([...BASE_EGRESS_ALLOW, ...DEFAULT_REGISTRIES])
    const text = JSON.stringify(allow)
    for (const endpoint of ['api.ecr.', '*.dkr.ecr.', '*.s3.', 'logs.', 'secretsmanager.', 'ssmmessages.', 'sts.']) {
      expect(allow, endpoint).to.deep.include({'Fn::Join': ['', [endpoint, {Ref: 'AWS::Region'}, '.amazonaws.com']]})
    }
    expect(text).to.match(/"Ref":"ControlPlaneApi[0-9A-F]+"\},".execute-api."/)
    expect(text, 'the task has no business with the tables').not.to.contain('dynamodb')
    const [everythingId, everything] = lists.find(([id]) => id !== allowId) ?? ['', []]
    expect(everything).to.deep.equal(['*'])

    const [, group] = only(template, 'AWS::Route53Resolver::FirewallRuleGroup')
    expect(group.FirewallRules).to.deep.equal([
      {Priority: 100, Action: 'ALLOW', FirewallDomainListId: {'Fn::GetAtt': [allowId, 'Id']}, FirewallDomainRedirectionAction: 'TRUST_REDIRECTION_DOMAIN'},
      {Priority: 200, Action: 'BLOCK', BlockResponse: 'NXDOMAIN', FirewallDomainListId: {'Fn::GetAtt': [everythingId, 'Id']}},
    ])
  })

  it('associates the rule group with the workspace VPC', () => {
    const [vpcId] = only(template, 'AWS::EC2::VPC')
    const [groupId] = only(template, 'AWS::Route53Resolver::FirewallRuleGroup')
    const [, association] = only(template, 'AWS::Route53Resolver::FirewallRuleGroupAssociation')
    expect(association).to.deep.include({VpcId: {Ref: vpcId}, FirewallRuleGroupId: {'Fn::GetAtt': [groupId, 'Id']}, MutationProtection: 'DISABLED'})
    expect(association.Priority).to.be.within(101, 9899)
  })

  it('logs every look-up of the VPC to CloudWatch Logs and counts the blocked ones, on the dashboard', () => {
    const [configId, config] = only(template, 'AWS::Route53Resolver::ResolverQueryLoggingConfig')
    const destination = (config.DestinationArn as {'Fn::GetAtt': [string, string]})['Fn::GetAtt']
    expect(destination[1]).to.equal('Arn')
    template.hasResource('AWS::Logs::LogGroup', Match.objectLike({Properties: {RetentionInDays: 7}}))
    expect(Object.keys(template.findResources('AWS::Logs::LogGroup'))).to.include(destination[0])
    const [vpcId] = only(template, 'AWS::EC2::VPC')
    template.hasResourceProperties('AWS::Route53Resolver::ResolverQueryLoggingConfigAssociation', {
      ResolverQueryLogConfigId: {'Fn::GetAtt': [configId, 'Id']},
      ResourceId: {Ref: vpcId},
    })
    template.hasResourceProperties('AWS::Logs::MetricFilter', {
      LogGroupName: {Ref: destination[0]},
      FilterPattern: '{ $.firewall_rule_action = "BLOCK" }',
      MetricTransformations: [{MetricNamespace: BLOCKED_DNS_METRIC.namespace, MetricName: BLOCKED_DNS_METRIC.metricName, MetricValue: '1', DefaultValue: 0}],
    })
    const [, dashboard] = only(template, 'AWS::CloudWatch::Dashboard')
    expect(JSON.stringify(dashboard.DashboardBody)).to.contain(BLOCKED_DNS_METRIC.metricName)
  })

  it('lets the workspaces out on 443 only', () => {
    const rules = (workspaceEgress(template) as Array<Record<string, unknown>>).map(({CidrIp, FromPort, IpProtocol, ToPort}) => ({CidrIp, FromPort, IpProtocol, ToPort}))
    expect(rules).to.deep.equal([{CidrIp: '0.0.0.0/0', FromPort: 443, IpProtocol: 'tcp', ToPort: 443}])
  })

  it('cfn-lint finds 0 errors in the template', async () => {
    const result = await run('cfn-lint', ['--format', 'parseable', templateFile]).catch((error: {code: number; stdout: string}) => error)
    const lines = String(result.stdout).split('\n').filter((line) => /:E\d{4}:/.test(line))
    expect(lines, lines.join('\n')).to.deep.equal([])
  })

  it('adds the -c devflow:egressAllow domains (a list, or per stage) and opens port 80 with devflow:egressHttp', () => {
    const listed = devStack({'devflow:egressAllow': 'mirror.example.org, *.corp.example', 'devflow:egressHttp': 'true'})
    const allow = domainLists(listed).find(([, domains]) => domains.length > 1)?.[1]
    expect(allow).to.include.members(['mirror.example.org', '*.corp.example', ...DEFAULT_REGISTRIES])
    expect((workspaceEgress(listed) as Array<{FromPort: number}>).map((rule) => rule.FromPort).sort()).to.deep.equal([443, 80])
    const perStage = devStack({'devflow:egressAllow': {dev: ['dev-only.example'], prod: ['prod-only.example']}})
    const devAllow = JSON.stringify(domainLists(perStage))
    expect(devAllow).to.contain('dev-only.example')
    expect(devAllow).not.to.contain('prod-only.example')
  })

  it('devflow:egress=open leaves out the firewall and opens the security group', () => {
    const open = devStack({'devflow:egress': 'open'})
    for (const type of ['FirewallDomainList', 'FirewallRuleGroup', 'FirewallRuleGroupAssociation', 'ResolverQueryLoggingConfig']) open.resourceCountIs(`AWS::Route53Resolver::${type}`, 0)
    open.resourceCountIs('AWS::Logs::MetricFilter', 0)
    expect(workspaceEgress(open)).to.deep.equal([{CidrIp: '0.0.0.0/0', Description: 'Allow all outbound traffic by default', IpProtocol: '-1'}])
  })

  it('publishes the egress policy as the EgressPolicy output (devflow doctor) and to every function (DEVFLOW_EGRESS): filtered or open, with repository additions as set', () => {
    const policyOf = (template: Template) => {
      const output = template.toJSON().Outputs.EgressPolicy as {Value: string}
      const variables = Object.values(template.findResources('AWS::Lambda::Function') as Resources).map((fn) => (fn.Properties.Environment as {Variables?: Record<string, unknown>} | undefined)?.Variables ?? {})
      const sessionFunctions = variables.filter((vars) => vars.DEVFLOW_SESSIONS_TABLE !== undefined)
      expect(sessionFunctions).to.not.be.empty
      expect(new Set(sessionFunctions.map((vars) => vars.DEVFLOW_EGRESS)), 'every session-service function the same policy').to.deep.equal(new Set([output.Value]))
      return JSON.parse(output.Value) as {mode: string; allow: string[]; repositoryAdditions: boolean}
    }
    expect(policyOf(template)).to.deep.equal({mode: 'allowList', allow: [...DEFAULT_REGISTRIES], repositoryAdditions: true})
    const open = devStack({'devflow:egress': 'open', 'devflow:egressRepositoryAdditions': 'false'})
    expect(policyOf(open)).to.deep.include({mode: 'open', repositoryAdditions: false})
    // Open: no association of any rule group with the VPC, so nothing filters the workspaces' look-ups.
    open.resourceCountIs('AWS::Route53Resolver::FirewallRuleGroupAssociation', 0)
    template.resourceCountIs('AWS::Route53Resolver::FirewallRuleGroupAssociation', 1)
  })

  it('moto mode leaves out the Route53Resolver resources (moto\'s CloudFormation has none) but keeps the 443-only group', () => {
    const moto = devStack({'devflow:emulator': 'moto'})
    expect(Object.values(moto.toJSON().Resources as Resources).filter((r) => r.Type.startsWith('AWS::Route53Resolver::'))).to.deep.equal([])
    moto.resourceCountIs('AWS::Logs::MetricFilter', 0)
    expect((workspaceEgress(moto) as Array<{FromPort: number}>).map((rule) => rule.FromPort)).to.deep.equal([443])
  })

  it('refuses a bad pattern or setting with a DevflowError naming it', () => {
    const codeOf = (context: Record<string, unknown>) => {
      try {
        devStack(context)
      } catch (error) {
        return isDevflowError(error) ? `${error.code}: ${error.message}` : String(error)
      }
      return 'no error'
    }
    expect(codeOf({'devflow:egressAllow': 'http://example.com'})).to.match(/^INVALID_EGRESS_PATTERN: "http:\/\/example.com"/)
    expect(codeOf({'devflow:egress': 'closed'})).to.match(/^INVALID_CONTEXT: devflow:egress must be open or allowList/)
    expect(codeOf({'devflow:egressHttp': 'yes'})).to.match(/^INVALID_CONTEXT: devflow:egressHttp must be true or false/)
    expect(codeOf({'devflow:egressAllow': '[oops'})).to.match(/^INVALID_CONTEXT: devflow:egressAllow is not JSON/)
  })
})
