import {CreateTableCommand, DynamoDBClient} from '@aws-sdk/client-dynamodb'
import {DynamoDBDocumentClient} from '@aws-sdk/lib-dynamodb'

import {DynamoPromptStore} from '../../src/adapters/aws/dynamo-prompt-store.js'
import {DynamoSessionStore, USER_INDEX} from '../../src/adapters/aws/dynamo-session-store.js'
import {TABLE_NAMES} from '../../src/core/deployment.js'
import {moto, stopMoto, TEST_REGION} from '../helpers/moto.js'
import {storeContract} from './store-contract.js'

/** The tables of DESIGN.md "Data", as the CDK stack creates them. */
async function createTables(client: DynamoDBClient): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: TABLE_NAMES.sessions,
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
  await client.send(
    new CreateTableCommand({
      TableName: TABLE_NAMES.prompts,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        {AttributeName: 'session_id', AttributeType: 'S'},
        {AttributeName: 'seq', AttributeType: 'N'},
      ],
      KeySchema: [
        {AttributeName: 'session_id', KeyType: 'HASH'},
        {AttributeName: 'seq', KeyType: 'RANGE'},
      ],
    }),
  )
  await client.send(
    new CreateTableCommand({
      TableName: TABLE_NAMES.events,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        {AttributeName: 'prompt_id', AttributeType: 'S'},
        {AttributeName: 'seq', AttributeType: 'N'},
      ],
      KeySchema: [
        {AttributeName: 'prompt_id', KeyType: 'HASH'},
        {AttributeName: 'seq', KeyType: 'RANGE'},
      ],
    }),
  )
}

// The global teardown's stopMoto may hold another instance of the helper module than this file
// (loaded through --require): stop the moto_server this file started so mocha can exit.
after(() => stopMoto())

storeContract('DynamoDB (on moto)', async () => {
  const server = await moto()
  await server.reset()
  const client = new DynamoDBClient({region: TEST_REGION, endpoint: server.url, credentials: {accessKeyId: 'test', secretAccessKey: 'test'}, maxAttempts: 1})
  await createTables(client)
  const doc = DynamoDBDocumentClient.from(client, {marshallOptions: {removeUndefinedValues: true}})
  return {
    sessions: new DynamoSessionStore(doc, TABLE_NAMES.sessions),
    prompts: new DynamoPromptStore(doc, TABLE_NAMES.prompts, TABLE_NAMES.events),
    cleanup: async () => client.destroy(),
  }
})
