// What the API benchmarks share: a moto_server (DEVFLOW_TEST_MOTO_URL or one of their own), a
// sessions table holding one STOPPED session of alice's, and `devflow api serve --user alice`
// (the built CLI) over it. close() stops what it started.
import {spawn} from 'node:child_process'
import {createServer} from 'node:net'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {CreateTableCommand, DynamoDBClient, PutItemCommand} from '@aws-sdk/client-dynamodb'

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const SESSION_ID = 's-benchbenchbenchbench'

export function freePort() {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const {port} = server.address()
      server.close(() => resolve(port))
    })
  })
}

export async function waitFor(url) {
  for (let i = 0; i < 200; i++) {
    try {
      await fetch(url)
      return
    } catch {
      await new Promise((r) => setTimeout(r, 100))
    }
  }
  throw new Error(`${url} did not answer`)
}

export async function startApiFixture() {
  const children = []
  let motoUrl = process.env.DEVFLOW_TEST_MOTO_URL
  if (!motoUrl) {
    const port = await freePort()
    children.push(spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], {stdio: 'ignore'}))
    motoUrl = `http://localhost:${port}`
    await waitFor(`${motoUrl}/moto-api/data.json`)
  }
  const awsEnv = {AWS_ENDPOINT_URL: motoUrl, AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_REGION: 'us-east-1', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true'}
  const dynamo = new DynamoDBClient({region: 'us-east-1', endpoint: motoUrl, credentials: {accessKeyId: 'testing', secretAccessKey: 'testing'}})
  const table = `bench-sessions-${Date.now()}`
  await dynamo.send(
    new CreateTableCommand({
      TableName: table,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        {AttributeName: 'session_id', AttributeType: 'S'},
        {AttributeName: 'user_id', AttributeType: 'S'},
        {AttributeName: 'created_at', AttributeType: 'S'},
      ],
      KeySchema: [{AttributeName: 'session_id', KeyType: 'HASH'}],
      GlobalSecondaryIndexes: [
        {IndexName: 'user_id-created_at-index', KeySchema: [{AttributeName: 'user_id', KeyType: 'HASH'}, {AttributeName: 'created_at', KeyType: 'RANGE'}], Projection: {ProjectionType: 'ALL'}},
      ],
    }),
  )
  const now = new Date().toISOString()
  await dynamo.send(
    new PutItemCommand({
      TableName: table,
      Item: {
        session_id: {S: SESSION_ID}, user_id: {S: 'alice'}, repo: {S: 'octo/hello'}, branch: {S: 'main'}, status: {S: 'STOPPED'},
        capacity: {S: 'FARGATE'}, cpu: {N: '1024'}, memory: {N: '4096'}, created_at: {S: now}, updated_at: {S: now},
        expires_at: {S: now}, idle_timeout_seconds: {N: '1800'}, agent_token_hash: {S: 'x'}, version: {N: '1'},
      },
    }),
  )
  const port = await freePort()
  const serve = spawn(process.execPath, [join(root, 'bin', 'run.js'), 'api', 'serve', '--port', String(port), '--user', 'alice'], {
    env: {
      ...process.env, ...awsEnv, DEVFLOW_SESSIONS_TABLE: table, DEVFLOW_CLUSTER: 'bench', DEVFLOW_TASK_DEFINITION: 'bench:1',
      DEVFLOW_SUBNETS: 'subnet-1', DEVFLOW_GITHUB_APP_SECRET_ARN: 'bench',
    },
    stdio: ['ignore', 'ignore', 'ignore'],
  })
  children.push(serve)
  const url = `http://127.0.0.1:${port}`
  await waitFor(`${url}/health`)
  return {
    url, motoUrl, table, dynamo, awsEnv,
    close() {
      dynamo.destroy()
      for (const child of children) child.kill('SIGTERM')
    },
  }
}
