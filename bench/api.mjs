#!/usr/bin/env node
// p50/p99 of GET /sessions/{id} through `devflow api serve` beside a raw DynamoDB GetItem of the
// same item on the same moto_server, and their ratio. Starts its own moto_server (or uses
// DEVFLOW_TEST_MOTO_URL) and the built CLI (run `npm run build` first). REQUESTS sets the count.
import {spawn} from 'node:child_process'
import {createServer} from 'node:net'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {CreateTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand} from '@aws-sdk/client-dynamodb'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const requests = Number(process.env.REQUESTS ?? 300)
const children = []

function freePort() {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const {port} = server.address()
      server.close(() => resolve(port))
    })
  })
}

async function waitFor(url) {
  for (let i = 0; i < 100; i++) {
    try {
      await fetch(url)
      return
    } catch {
      await new Promise((r) => setTimeout(r, 100))
    }
  }
  throw new Error(`${url} did not answer`)
}

function percentile(samples, p) {
  const sorted = [...samples].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
}

async function measure(fn) {
  for (let i = 0; i < 20; i++) await fn() // warm-up
  const samples = []
  for (let i = 0; i < requests; i++) {
    const start = performance.now()
    await fn()
    samples.push(performance.now() - start)
  }
  return {p50: percentile(samples, 50), p99: percentile(samples, 99)}
}

try {
  let motoUrl = process.env.DEVFLOW_TEST_MOTO_URL
  if (!motoUrl) {
    const port = await freePort()
    children.push(spawn('moto_server', ['-p', String(port)], {stdio: 'ignore'}))
    motoUrl = `http://localhost:${port}`
    await waitFor(`${motoUrl}/moto-api/data.json`)
  }
  const awsEnv = {AWS_ENDPOINT_URL: motoUrl, AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_REGION: 'us-east-1'}
  const dynamo = new DynamoDBClient({region: 'us-east-1', endpoint: motoUrl, credentials: {accessKeyId: 'testing', secretAccessKey: 'testing'}})
  const table = `bench-sessions-${Date.now()}`
  await dynamo.send(
    new CreateTableCommand({
      TableName: table,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{AttributeName: 'session_id', AttributeType: 'S'}],
      KeySchema: [{AttributeName: 'session_id', KeyType: 'HASH'}],
    }),
  )
  const id = 's-benchbenchbenchbench'
  const now = new Date().toISOString()
  await dynamo.send(
    new PutItemCommand({
      TableName: table,
      Item: {
        session_id: {S: id}, user_id: {S: 'alice'}, repo: {S: 'octo/hello'}, branch: {S: 'main'}, status: {S: 'STOPPED'},
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
  const api = `http://127.0.0.1:${port}`
  await waitFor(`${api}/health`)

  const viaApi = await measure(async () => {
    const response = await fetch(`${api}/sessions/${id}`)
    if (response.status !== 200) throw new Error(`GET /sessions/${id}: ${response.status} ${await response.text()}`)
    await response.arrayBuffer()
  })
  const raw = await measure(() => dynamo.send(new GetItemCommand({TableName: table, Key: {session_id: {S: id}}, ConsistentRead: true})))
  const fmt = (t) => `p50 ${t.p50.toFixed(2)} ms  p99 ${t.p99.toFixed(2)} ms`
  console.log(`GET /sessions/{id} via api serve  ${fmt(viaApi)}`)
  console.log(`raw DynamoDB GetItem             ${fmt(raw)}`)
  console.log(`ratio                            p50 ${(viaApi.p50 / raw.p50).toFixed(2)}x  p99 ${(viaApi.p99 / raw.p99).toFixed(2)}x  (${requests} requests each)`)
  dynamo.destroy()
} finally {
  for (const child of children) child.kill('SIGTERM')
}
