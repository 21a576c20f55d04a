import {
  type aws_apigateway as apigateway,
  aws_cloudwatch as cloudwatch,
  aws_cloudwatch_actions as actions,
  Duration,
  type aws_ecs as ecs,
  aws_events as events,
  aws_events_targets as targets,
  aws_iam as iam,
  aws_kms as kms,
  type aws_lambda as lambda,
  aws_sns as sns,
  aws_sns_subscriptions as subscriptions,
  Stack,
} from 'aws-cdk-lib'
import {Construct} from 'constructs'

export interface MonitoringProps {
  readonly dashboardName: string
  readonly functions: ReadonlyArray<{readonly name: string; readonly fn: lambda.IFunction}>
  readonly api: apigateway.RestApi
  readonly cluster: ecs.ICluster
  /** Percent of a function's invocations over 5 minutes that raises its alarm. */
  readonly lambdaErrorRateThreshold: number
  /** Subscribed to the alarm topic when set. */
  readonly alarmEmail?: string
  /**
   * Put the alarms on the dashboard too. moto_server's CloudFormation cannot resolve a dashboard
   * widget that refers to an alarm. @default true
   */
  readonly alarmWidgets?: boolean
}

/**
 * Seed I-13: a dashboard, an alarm per function on its error rate, one on the API's 5xx, and
 * workspace task failures (a non-zero exit or a Spot interruption) from ECS task state changes,
 * all notifying one SNS topic.
 */
export class Monitoring extends Construct {
  readonly topic: sns.Topic
  readonly dashboard: cloudwatch.Dashboard
  readonly functionAlarms: cloudwatch.Alarm[]
  readonly apiServerErrorAlarm: cloudwatch.Alarm
  readonly taskFailureRule: events.Rule

  private readonly topicKey: kms.Key

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id)
    const key = new kms.Key(this, 'TopicKey', {description: 'DevFlow alarm topic', enableKeyRotation: true})
    this.topic = new sns.Topic(this, 'Alarms', {displayName: 'DevFlow alarms', masterKey: key, enforceSSL: true})
    this.topicKey = key
    // CloudWatch alarms publish to the encrypted topic (the EventBridge target grants itself).
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
        conditions: {StringEquals: {'aws:SourceAccount': Stack.of(this).account}},
      }),
    )
    if (props.alarmEmail) this.topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail))
    const notify = new actions.SnsAction(this.topic)

    this.functionAlarms = props.functions.map(({name, fn}) => {
      const errorRate = new cloudwatch.MathExpression({
        label: `${name} error %`,
        expression: '100 * errors / MAX([errors, invocations])',
        usingMetrics: {errors: fn.metricErrors({statistic: 'Sum'}), invocations: fn.metricInvocations({statistic: 'Sum'})},
        period: Duration.minutes(5),
      })
      const alarm = errorRate.createAlarm(this, `${pascal(name)}ErrorRate`, {
        alarmDescription: `DevFlow ${name}: more than ${props.lambdaErrorRateThreshold}% of invocations failed in 5 minutes`,
        threshold: props.lambdaErrorRateThreshold,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      })
      alarm.addAlarmAction(notify)
      return alarm
    })

    this.apiServerErrorAlarm = props.api.metricServerError({period: Duration.minutes(5), statistic: 'Sum'}).createAlarm(this, 'Api5xx', {
      alarmDescription: 'DevFlow API: 5xx responses in the last 5 minutes',
      threshold: 5,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    })
    this.apiServerErrorAlarm.addAlarmAction(notify)

    this.taskFailureRule = new events.Rule(this, 'WorkspaceTaskFailures', {
      description: 'A DevFlow workspace task stopped with a non-zero exit or a Spot interruption',
      eventPattern: {
        source: ['aws.ecs'],
        detailType: ['ECS Task State Change'],
        detail: {
          clusterArn: [props.cluster.clusterArn],
          lastStatus: ['STOPPED'],
          $or: [{containers: {exitCode: [{'anything-but': 0}]}}, {stopCode: ['SpotInterruption']}],
        },
      },
      targets: [
        new targets.SnsTopic(this.topic, {
          message: events.RuleTargetInput.fromText(
            `DevFlow workspace task ${events.EventField.fromPath('$.detail.taskArn')} stopped: ${events.EventField.fromPath('$.detail.stoppedReason')} (${events.EventField.fromPath('$.detail.stopCode')})`,
          ),
        }),
      ],
    })

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {dashboardName: props.dashboardName})
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'API requests and errors',
        left: [props.api.metricCount({period: Duration.minutes(5)})],
        right: [props.api.metricClientError({period: Duration.minutes(5)}), props.api.metricServerError({period: Duration.minutes(5)})],
        width: 12,
      }),
      new cloudwatch.GraphWidget({title: 'API latency (p90)', left: [props.api.metricLatency({statistic: 'p90', period: Duration.minutes(5)})], width: 12}),
      new cloudwatch.GraphWidget({
        title: 'Function errors',
        left: props.functions.map(({name, fn}) => fn.metricErrors({label: name, period: Duration.minutes(5)})),
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Function duration (p90)',
        left: props.functions.map(({name, fn}) => fn.metricDuration({label: name, statistic: 'p90', period: Duration.minutes(5)})),
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Workspace tasks',
        left: [
          new cloudwatch.Metric({
            namespace: 'ECS/ContainerInsights',
            metricName: 'RunningTaskCount',
            dimensionsMap: {ClusterName: props.cluster.clusterName},
            statistic: 'Maximum',
            period: Duration.minutes(5),
          }),
        ],
        right: [
          new cloudwatch.Metric({
            namespace: 'AWS/Events',
            metricName: 'TriggeredRules',
            dimensionsMap: {RuleName: this.taskFailureRule.ruleName},
            label: 'task failures',
            statistic: 'Sum',
            period: Duration.minutes(5),
          }),
        ],
        width: 12,
      }),
    )
    if (props.alarmWidgets ?? true) {
      this.dashboard.addWidgets(
        new cloudwatch.AlarmStatusWidget({title: 'Alarms', alarms: [this.apiServerErrorAlarm, ...this.functionAlarms], width: 24}),
      )
    }
  }

  /** Lets `grantee` publish to the topic (budget alerts, session failures): sns:Publish and the topic key's two data-key actions, no wildcard. */
  grantPublish(grantee: iam.IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({actions: ['sns:Publish'], resources: [this.topic.topicArn]}))
    this.topicKey.grant(grantee, 'kms:GenerateDataKey', 'kms:Decrypt')
  }
}

function pascal(name: string): string {
  return name.replace(/(^|-)([a-z])/g, (_, _dash: string, letter: string) => letter.toUpperCase())
}
