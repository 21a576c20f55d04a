import {
  aws_cloudwatch as cloudwatch,
  Duration,
  type aws_ec2 as ec2,
  aws_logs as logs,
  RemovalPolicy,
  aws_route53resolver as resolver,
} from 'aws-cdk-lib'
import {Construct} from 'constructs'

export interface EgressFirewallProps {
  readonly vpc: ec2.IVpc
  /**
   * Every domain a workspace may resolve: exact names and `*.suffix` patterns (src/core/egress.ts),
   * CDK tokens allowed (the region, the API's id).
   */
  readonly allow: readonly string[]
  /** Retention of the DNS query logs. */
  readonly logRetention: logs.RetentionDays
  /** @default RemovalPolicy.DESTROY */
  readonly logRemovalPolicy?: RemovalPolicy
  /** Used in the resources' names. */
  readonly namePrefix: string
}

/** CloudWatch namespace and name of the blocked-look-up count. */
export const BLOCKED_DNS_METRIC = {namespace: 'DevFlow', metricName: 'BlockedDnsQueries'} as const

/** The rule priorities within the group: the allow-list first, then block everything else. */
const ALLOW_PRIORITY = 100
const BLOCK_ALL_PRIORITY = 200

/**
 * Issue 15: the egress allow-list for every process in the workspaces, enforced where they resolve
 * names: Route 53 Resolver DNS Firewall on the workspace VPC. One rule group, associated with the
 * VPC: ALLOW the stage's domains (CNAME chains they point to are trusted, so a CDN behind an
 * allowed name still resolves), then BLOCK `*` with NXDOMAIN. Every query is logged to CloudWatch
 * Logs; a metric filter counts the blocked ones (`DevFlow/BlockedDnsQueries`).
 *
 * A process that skips DNS and dials an IP address is not stopped here; the workspace security
 * group's 443/80-only egress (Network) narrows that to web ports.
 */
export class EgressFirewall extends Construct {
  readonly domainList: resolver.CfnFirewallDomainList
  readonly blockAllList: resolver.CfnFirewallDomainList
  readonly ruleGroup: resolver.CfnFirewallRuleGroup
  readonly association: resolver.CfnFirewallRuleGroupAssociation
  readonly queryLogGroup: logs.LogGroup
  readonly queryLogging: resolver.CfnResolverQueryLoggingConfig
  readonly blockedQueriesFilter: logs.MetricFilter

  constructor(scope: Construct, id: string, props: EgressFirewallProps) {
    super(scope, id)
    this.domainList = new resolver.CfnFirewallDomainList(this, 'AllowList', {name: `${props.namePrefix}-egress-allow`, domains: [...props.allow]})
    this.blockAllList = new resolver.CfnFirewallDomainList(this, 'Everything', {name: `${props.namePrefix}-egress-everything`, domains: ['*']})
    this.ruleGroup = new resolver.CfnFirewallRuleGroup(this, 'RuleGroup', {
      name: `${props.namePrefix}-egress`,
      firewallRules: [
        {
          priority: ALLOW_PRIORITY,
          action: 'ALLOW',
          firewallDomainListId: this.domainList.attrId,
          firewallDomainRedirectionAction: 'TRUST_REDIRECTION_DOMAIN',
        },
        {priority: BLOCK_ALL_PRIORITY, action: 'BLOCK', blockResponse: 'NXDOMAIN', firewallDomainListId: this.blockAllList.attrId},
      ],
    })
    this.association = new resolver.CfnFirewallRuleGroupAssociation(this, 'Association', {
      name: `${props.namePrefix}-egress`,
      firewallRuleGroupId: this.ruleGroup.attrId,
      vpcId: props.vpc.vpcId,
      // Any value from 101 to 9899; only this group is associated.
      priority: 101,
      mutationProtection: 'DISABLED',
    })

    this.queryLogGroup = new logs.LogGroup(this, 'QueryLogs', {retention: props.logRetention, removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.DESTROY})
    this.queryLogging = new resolver.CfnResolverQueryLoggingConfig(this, 'QueryLogging', {
      name: `${props.namePrefix}-dns-queries`,
      destinationArn: this.queryLogGroup.logGroupArn,
    })
    new resolver.CfnResolverQueryLoggingConfigAssociation(this, 'QueryLoggingAssociation', {
      resolverQueryLogConfigId: this.queryLogging.attrId,
      resourceId: props.vpc.vpcId,
    })
    // Query log records are JSON; a look-up the firewall blocked carries firewall_rule_action BLOCK.
    this.blockedQueriesFilter = new logs.MetricFilter(this, 'BlockedQueries', {
      logGroup: this.queryLogGroup,
      filterPattern: logs.FilterPattern.stringValue('$.firewall_rule_action', '=', 'BLOCK'),
      metricNamespace: BLOCKED_DNS_METRIC.namespace,
      metricName: BLOCKED_DNS_METRIC.metricName,
      metricValue: '1',
      defaultValue: 0,
    })
  }

  /** The count of blocked look-ups, for the dashboard. */
  metricBlockedQueries(props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.blockedQueriesFilter.metric({statistic: 'Sum', period: Duration.minutes(5), label: 'blocked DNS look-ups', ...props})
  }
}
