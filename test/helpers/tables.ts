/** The DynamoDB tables of DESIGN.md "Data", created in moto the way the CDK stack creates them. */
import {CreateTableCommand, type DynamoDBClient} from '@aws-sdk/client-dynamodb'

import {DELIVERIES_BY_TIME_INDEX, SESSIONS_BY_USER_INDEX as USER_INDEX, TABLE_NAMES} from '../../src/core/deployment.js'

export async function createDevflowTables(dynamo: DynamoDBClient, names: {sessions: string; prompts: string; events: string; usage?: string} = TABLE_NAMES): Promise<void> {
  await createUsageTable(dynamo, names.usage ?? TABLE_NAMES.usage)
  await dynamo.send(
    new CreateTableCommand({
      TableName: names.sessions,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        {AttributeName: 'session_id', AttributeType: 'S'},
        {AttributeName: 'user_id', AttributeType: 'S'},
        {AttributeName: 'created_at', AttributeType: 'S'},
      ],
      KeySchema: [{AttributeName: 'session_id', KeyType: 'HASH'}],
      GlobalSecondaryIndexes: [
        {
          IndexName: USER_INDEX,
          KeySchema: [
            {AttributeName: 'user_id', KeyType: 'HASH'},
            {AttributeName: 'created_at', KeyType: 'RANGE'},
          ],
          Projection: {ProjectionType: 'ALL'},
        },
      ],
    }),
  )
  for (const [name, key] of [
    [names.prompts, 'session_id'],
    [names.events, 'prompt_id'],
  ]) {
    await dynamo.send(
      new CreateTableCommand({
        TableName: name,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          {AttributeName: key, AttributeType: 'S'},
          {AttributeName: 'seq', AttributeType: 'N'},
        ],
        KeySchema: [
          {AttributeName: key, KeyType: 'HASH'},
          {AttributeName: 'seq', KeyType: 'RANGE'},
        ],
      }),
    )
  }
}

/** The webhook deliveries table (src/adapters/aws/dynamo-delivery-store.ts): PK delivery_id, GSI kind + received_at. */
export async function createDeliveriesTable(dynamo: DynamoDBClient, name: string = TABLE_NAMES.githubDeliveries): Promise<void> {
  await dynamo.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        {AttributeName: 'delivery_id', AttributeType: 'S'},
        {AttributeName: 'kind', AttributeType: 'S'},
        {AttributeName: 'received_at', AttributeType: 'S'},
      ],
      KeySchema: [{AttributeName: 'delivery_id', KeyType: 'HASH'}],
      GlobalSecondaryIndexes: [
        {
          IndexName: DELIVERIES_BY_TIME_INDEX,
          KeySchema: [
            {AttributeName: 'kind', KeyType: 'HASH'},
            {AttributeName: 'received_at', KeyType: 'RANGE'},
          ],
          Projection: {ProjectionType: 'ALL'},
        },
      ],
    }),
  )
}

/** The usage ledger (src/adapters/aws/dynamo-usage-store.ts): PK scope, SK period. */
export async function createUsageTable(dynamo: DynamoDBClient, name: string = TABLE_NAMES.usage): Promise<void> {
  await dynamo.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        {AttributeName: 'scope', AttributeType: 'S'},
        {AttributeName: 'period', AttributeType: 'S'},
      ],
      KeySchema: [
        {AttributeName: 'scope', KeyType: 'HASH'},
        {AttributeName: 'period', KeyType: 'RANGE'},
      ],
    }),
  )
}

/** The warm pool's table (src/adapters/aws/dynamo-warm-pool-store.ts): PK warm_id. */
export async function createWarmPoolTable(dynamo: DynamoDBClient, name: string = TABLE_NAMES.warmPool): Promise<void> {
  await dynamo.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{AttributeName: 'warm_id', AttributeType: 'S'}],
      KeySchema: [{AttributeName: 'warm_id', KeyType: 'HASH'}],
    }),
  )
}
