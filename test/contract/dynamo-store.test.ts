import {DynamoDBClient} from '@aws-sdk/client-dynamodb'
import {DynamoDBDocumentClient} from '@aws-sdk/lib-dynamodb'

import {DynamoPromptStore} from '../../src/adapters/aws/dynamo-prompt-store.js'
import {DynamoSessionStore} from '../../src/adapters/aws/dynamo-session-store.js'
import {TABLE_NAMES} from '../../src/core/deployment.js'
import {moto, stopMoto, TEST_REGION} from '../helpers/moto.js'
import {createDevflowTables} from '../helpers/tables.js'
import {storeContract} from './store-contract.js'


// The global teardown's stopMoto may hold another instance of the helper module than this file
// (loaded through --require): stop the moto_server this file started so mocha can exit.
after(() => stopMoto())

storeContract('DynamoDB (on moto)', async () => {
  const server = await moto()
  await server.reset()
  const client = new DynamoDBClient({region: TEST_REGION, endpoint: server.url, credentials: {accessKeyId: 'test', secretAccessKey: 'test'}, maxAttempts: 1})
  await createDevflowTables(client)
  const doc = DynamoDBDocumentClient.from(client, {marshallOptions: {removeUndefinedValues: true}})
  return {
    sessions: new DynamoSessionStore(doc, TABLE_NAMES.sessions),
    prompts: new DynamoPromptStore(doc, TABLE_NAMES.prompts, TABLE_NAMES.events),
    cleanup: async () => client.destroy(),
  }
})
