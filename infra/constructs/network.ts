import {aws_ec2 as ec2, aws_logs as logs, RemovalPolicy} from 'aws-cdk-lib'
import {Construct} from 'constructs'

import type {NetworkSettings} from '../stages.js'

export interface NetworkProps {
  readonly settings: NetworkSettings
  /** Retention of the VPC flow logs. */
  readonly flowLogRetention: logs.RetentionDays
  /** @default RemovalPolicy.DESTROY */
  readonly logRemovalPolicy?: RemovalPolicy
  /**
   * Give the workspace subnets internet egress through NAT gateways in public subnets. Only the
   * moto emulator turns this off: moto_server's CloudFormation deletes neither a NAT gateway nor an
   * internet gateway attachment before the VPC, so the stack could not be destroyed. @default true
   */
  readonly natEgress?: boolean
  /**
   * The only TCP ports the workspaces may connect out on (issue 15's allow-list: [443] or
   * [443, 80]). @default every port (the allow-list turned off)
   */
  readonly workspaceEgressPorts?: readonly number[]
}

/**
 * Seed I-2: a VPC with public subnets (NAT gateways only) and private subnets for the workspace
 * tasks, plus the workspaces' security group: no inbound rule at all (the editor is reached through
 * ECS Exec), outbound open so git, npm and the Anthropic and DevFlow APIs answer.
 */
export class Network extends Construct {
  readonly vpc: ec2.Vpc
  readonly workspaceSecurityGroup: ec2.SecurityGroup
  readonly workspaceSubnetType: ec2.SubnetType

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id)
    const {cidr, maxAzs} = props.settings
    const natEgress = props.natEgress ?? true
    this.workspaceSubnetType = natEgress ? ec2.SubnetType.PRIVATE_WITH_EGRESS : ec2.SubnetType.PRIVATE_ISOLATED
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(cidr),
      maxAzs,
      natGateways: natEgress ? props.settings.natGateways : 0,
      // Public subnets only hold the NAT gateways.
      subnetConfiguration: [
        ...(natEgress ? [{name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24}] : []),
        {name: 'workspaces', subnetType: this.workspaceSubnetType, cidrMask: 20},
      ],
    })
    const flowLogGroup = new logs.LogGroup(this, 'FlowLogs', {
      retention: props.flowLogRetention,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.DESTROY,
    })
    this.vpc.addFlowLog('FlowLog', {destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogGroup)})
    this.workspaceSecurityGroup = new ec2.SecurityGroup(this, 'WorkspaceSecurityGroup', {
      vpc: this.vpc,
      description: 'DevFlow workspace tasks: no inbound, outbound to the internet through NAT',
      allowAllOutbound: props.workspaceEgressPorts === undefined,
    })
    for (const port of props.workspaceEgressPorts ?? []) {
      this.workspaceSecurityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(port), `Workspaces out on ${port} (names limited by the DNS Firewall)`)
    }
  }

  get workspaceSubnetIds(): string[] {
    return this.vpc.selectSubnets({subnetType: this.workspaceSubnetType}).subnetIds
  }
}
