import {DynamoUsageStore} from '../../src/adapters/aws/dynamo-usage-store.js'
import {DynamoDBClient} from '@aws-sdk/client-dynamodb'
import {CreateSubnetCommand, CreateVpcCommand, EC2Client, ModifyVpcAttributeCommand} from '@aws-sdk/client-ec2'
import {CreateClusterCommand, DescribeTasksCommand, ECSClient, RegisterTaskDefinitionCommand, StopTaskCommand} from '@aws-sdk/client-ecs'
import {DynamoDBDocumentClient} from '@aws-sdk/lib-dynamodb'

import {DynamoPromptStore} from '../../src/adapters/aws/dynamo-prompt-store.js'
import {DynamoSessionStore} from '../../src/adapters/aws/dynamo-session-store.js'
import {DynamoWarmPoolStore} from '../../src/adapters/aws/dynamo-warm-pool-store.js'
import {ecsApi, EcsTaskRuntime} from '../../src/adapters/aws/ecs-task-runtime.js'
import {TABLE_NAMES} from '../../src/core/deployment.js'
import {moto, stopMoto, TEST_ACCOUNT, TEST_REGION} from '../helpers/moto.js'
import {createDevflowTables, createWarmPoolTable} from '../helpers/tables.js'
import {warmPoolContract} from './warm-pool-contract.js'

after(() => stopMoto())

const CLUSTER = 'devflow-warm'
const TASK_ROLE = 'devflow-workspace-task'

// DynamoDB and ECS on moto: warm tasks are real (moto) Fargate tasks, proving themselves with the
// task role's session named after the task id, as ECS names it.
warmPoolContract('DynamoDB with ECS (on moto)', async () => {
  const server = await moto()
  await server.reset()
  await server.setTransition('ecs::task', {progression: 'manual', times: 1_000_000})
  const config = {region: TEST_REGION, endpoint: server.url, credentials: {accessKeyId: 'test', secretAccessKey: 'test'}, maxAttempts: 1}
  const client = new DynamoDBClient(config)
  await createDevflowTables(client)
  await createWarmPoolTable(client)
  const ecs = new ECSClient(config)
  await ecs.send(new CreateClusterCommand({clusterName: CLUSTER}))
  await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'devflow-workspace',
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE'],
      cpu: '1024',
      memory: '4096',
      taskRoleArn: `arn:aws:iam::${TEST_ACCOUNT}:role/${TASK_ROLE}`,
      // moto's RunTask fails without a container-level memory limit.
      containerDefinitions: [{name: 'workspace', image: 'devflow-workspace:latest', memory: 4096, essential: true}],
    }),
  )
  const ec2 = new EC2Client(config)
  const vpc = await ec2.send(new CreateVpcCommand({CidrBlock: '10.30.0.0/16'}))
  // moto's RunTask names the task's network interface by its VPC's DNS host names.
  await ec2.send(new ModifyVpcAttributeCommand({VpcId: vpc.Vpc?.VpcId, EnableDnsHostnames: {Value: true}}))
  const subnet = await ec2.send(new CreateSubnetCommand({VpcId: vpc.Vpc?.VpcId, CidrBlock: '10.30.1.0/24'}))
  ec2.destroy()
  const doc = DynamoDBDocumentClient.from(client, {marshallOptions: {removeUndefinedValues: true}})
  const runtime = new EcsTaskRuntime(ecsApi(ecs), {cluster: CLUSTER, taskDefinition: 'devflow-workspace', containerName: 'workspace', subnets: [subnet.Subnet?.SubnetId as string], securityGroups: [], emulator: 'moto'})
  return {
    sessions: new DynamoSessionStore(doc, TABLE_NAMES.sessions),
    prompts: new DynamoPromptStore(doc, TABLE_NAMES.prompts, TABLE_NAMES.events),
    usage: new DynamoUsageStore(doc, TABLE_NAMES.usage),
    warm: new DynamoWarmPoolStore(doc, TABLE_NAMES.warmPool),
    runtime,
    settings: {workspaceRoleArn: `arn:aws:iam::${TEST_ACCOUNT}:role/${TASK_ROLE}`},
    async proofOf(record) {
      return {kind: 'task-role', principalArn: `arn:aws:sts::${TEST_ACCOUNT}:assumed-role/${TASK_ROLE}/${record.taskArn.split('/').at(-1)}`}
    },
    async kill(taskArn) {
      await ecs.send(new StopTaskCommand({cluster: CLUSTER, task: taskArn, reason: 'Essential container exited'}))
    },
    async isRunning(taskArn) {
      const out = await ecs.send(new DescribeTasksCommand({cluster: CLUSTER, tasks: [taskArn]}))
      return out.tasks?.[0]?.desiredStatus === 'RUNNING'
    },
    async cleanup() {
      client.destroy()
      ecs.destroy()
    },
  }
})
