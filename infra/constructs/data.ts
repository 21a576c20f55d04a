import {aws_dynamodb as dynamodb, aws_iam as iam, RemovalPolicy, Validations} from 'aws-cdk-lib'
import {Construct} from 'constructs'

import {DELIVERIES_BY_TIME_INDEX, SESSIONS_BY_USER_INDEX, TABLE_NAMES} from '../../src/core/deployment.js'


export interface SessionDataProps {
  /** @default false */
  readonly pointInTimeRecovery?: boolean
  /** @default false */
  readonly deletionProtection?: boolean
  /** @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy
}

/**
 * Seed I-5 and DESIGN.md "Data": sessions, prompts and prompt events, on-demand, encrypted, with
 * TTL so finished sessions age out; and the GitHub webhook deliveries (one item per
 * X-GitHub-Delivery, so a redelivery does nothing twice; newest first through a GSI). The tables hold the control plane's state only; no workspace
 * task can reach them (its role has no DynamoDB access).
 */
export class SessionData extends Construct {
  readonly sessions: dynamodb.Table
  readonly prompts: dynamodb.Table
  readonly promptEvents: dynamodb.Table
  readonly githubDeliveries: dynamodb.Table
  /** The usage ledger (src/core/usage-ledger.ts): running sums per owner-month, stage-month and day, kept without TTL. */
  readonly usage: dynamodb.Table
  /** The warm pool's tasks and its hit/miss counters (src/adapters/aws/dynamo-warm-pool-store.ts). */
  readonly warmPool: dynamodb.Table

  constructor(scope: Construct, id: string, props: SessionDataProps = {}) {
    super(scope, id)
    const common = {
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      timeToLiveAttribute: 'ttl',
      pointInTimeRecoverySpecification: {pointInTimeRecoveryEnabled: props.pointInTimeRecovery ?? false},
      deletionProtection: props.deletionProtection ?? false,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    }
    this.sessions = new dynamodb.Table(this, 'Sessions', {
      ...common,
      tableName: TABLE_NAMES.sessions,
      partitionKey: {name: 'session_id', type: dynamodb.AttributeType.STRING},
    })
    this.sessions.addGlobalSecondaryIndex({
      indexName: SESSIONS_BY_USER_INDEX,
      partitionKey: {name: 'user_id', type: dynamodb.AttributeType.STRING},
      sortKey: {name: 'created_at', type: dynamodb.AttributeType.STRING},
      projectionType: dynamodb.ProjectionType.ALL,
    })
    this.prompts = new dynamodb.Table(this, 'Prompts', {
      ...common,
      tableName: TABLE_NAMES.prompts,
      partitionKey: {name: 'session_id', type: dynamodb.AttributeType.STRING},
      sortKey: {name: 'seq', type: dynamodb.AttributeType.NUMBER},
    })
    this.promptEvents = new dynamodb.Table(this, 'PromptEvents', {
      ...common,
      tableName: TABLE_NAMES.events,
      partitionKey: {name: 'prompt_id', type: dynamodb.AttributeType.STRING},
      sortKey: {name: 'seq', type: dynamodb.AttributeType.NUMBER},
    })
    this.githubDeliveries = new dynamodb.Table(this, 'GithubDeliveries', {
      ...common,
      tableName: TABLE_NAMES.githubDeliveries,
      partitionKey: {name: 'delivery_id', type: dynamodb.AttributeType.STRING},
    })
    this.githubDeliveries.addGlobalSecondaryIndex({
      indexName: DELIVERIES_BY_TIME_INDEX,
      partitionKey: {name: 'kind', type: dynamodb.AttributeType.STRING},
      sortKey: {name: 'received_at', type: dynamodb.AttributeType.STRING},
      projectionType: dynamodb.ProjectionType.ALL,
    })
    const {timeToLiveAttribute: _noTtl, ...untimed} = common
    this.usage = new dynamodb.Table(this, 'Usage', {
      ...untimed,
      tableName: TABLE_NAMES.usage,
      partitionKey: {name: 'scope', type: dynamodb.AttributeType.STRING},
      sortKey: {name: 'period', type: dynamodb.AttributeType.STRING},
    })
    this.warmPool = new dynamodb.Table(this, 'WarmPool', {
      ...common,
      tableName: TABLE_NAMES.warmPool,
      partitionKey: {name: 'warm_id', type: dynamodb.AttributeType.STRING},
    })
    if (!props.pointInTimeRecovery) {
      Validations.of(this).acknowledge({id: 'AwsSolutions-DDB3', reason: 'Point-in-time recovery is a prod setting (infra/stages.ts); other stages hold disposable data.'})
    }
  }

  /**
   * The item calls the control plane makes, and nothing more: GetItem, PutItem, UpdateItem, Query
   * and Scan on the five tables, Query on the sessions GSI and the deliveries GSI. No DeleteItem (TTL removes items), no
   * batch writes, no stream reads, no table management.
   */
  grantItemAccess(grantee: iam.IGrantable): void {
    const tables = [this.sessions, this.prompts, this.promptEvents, this.githubDeliveries, this.usage]
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ITEM_ACTIONS.map((action) => `dynamodb:${action}`),
        resources: [...tables.map((t) => t.tableArn), `${this.sessions.tableArn}/index/${SESSIONS_BY_USER_INDEX}`, `${this.githubDeliveries.tableArn}/index/${DELIVERIES_BY_TIME_INDEX}`],
      }),
    )
  }

  grantWarmPoolAccess(grantee: iam.IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({actions: WARM_POOL_ACTIONS.map((action) => `dynamodb:${action}`), resources: [this.warmPool.tableArn]}))
  }
}

/** The warm pool store's calls: its records are removed once handed over or stopped, so DeleteItem too. */
export const WARM_POOL_ACTIONS = ['GetItem', 'PutItem', 'UpdateItem', 'Scan', 'DeleteItem'] as const

/** What the stores in src/adapters/aws send (a TransactWriteItems of Puts is authorised as PutItem). */
export const ITEM_ACTIONS = ['GetItem', 'PutItem', 'UpdateItem', 'Query', 'Scan'] as const
