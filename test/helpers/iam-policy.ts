/**
 * IAM as AWS would enforce it, for the calls a test recorded (aws-recorder.ts): each call becomes
 * the IAM requests AWS authorises for it (action, resource ARN, condition keys; implied ones such
 * as iam:PassRole and ecs:TagResource on RunTask), and each request is evaluated against a role's
 * statements from the synthesized template, with Refs and GetAtts resolved to the names the test
 * deployment really uses. Allow unless no statement allows it or one denies it; the condition
 * operators and the calls it does not know are errors, so nothing is allowed by omission.
 */
import type {AwsCall} from './aws-recorder.js'

type Json = unknown
type Template = {Resources: Record<string, {Type: string; Properties?: Record<string, Json>}>}

export interface Statement {
  readonly Effect: 'Allow' | 'Deny'
  readonly Action: string | string[]
  readonly Resource: string | string[]
  readonly Condition?: Record<string, Record<string, string | string[]>>
}

/** What the template's logical ids are in the deployment under test (matched by logical-id prefix). */
export interface Physical {
  readonly region: string
  readonly account: string
  /** Ref values, e.g. {WorkspacesCluster: 'devflow'}. */
  readonly names?: Record<string, string>
  /** Ref/Arn values that are ARNs, e.g. {SecretsGithubApp: 'arn:aws:secretsmanager:...'}. */
  readonly arns?: Record<string, string>
  /** The stack's name, for `AWS::StackId` (default devflow-dev). */
  readonly stackName?: string
}

export interface IamRequest {
  readonly action: string
  readonly resource: string
  readonly context: Record<string, string>
  /** Multivalued context keys (`aws:TagKeys`), for the ForAllValues / ForAnyValue operators. */
  readonly multiValued?: Record<string, readonly string[]>
  /** The recorded call it comes from, for messages. */
  readonly from: string
}

export class TemplateResolver {
  constructor(
    private readonly template: Template,
    private readonly physical: Physical,
  ) {}

  /** The logical id of the role a function runs with; `functionPrefix` is its logical id without CDK's hash. */
  roleOfFunction(functionPrefix: string): string {
    const exact = new RegExp(`^${functionPrefix}[0-9A-F]{8}$`)
    const functions = Object.entries(this.template.Resources).filter(([id, r]) => r.Type === 'AWS::Lambda::Function' && exact.test(id))
    if (functions.length !== 1) throw new Error(`expected one function ${functionPrefix}*, found ${functions.length}`)
    const role = functions[0][1].Properties?.Role as {'Fn::GetAtt'?: [string, string]} | undefined
    if (!role?.['Fn::GetAtt']) throw new Error(`${functions[0][0]} has no role of this template`)
    return role['Fn::GetAtt'][0]
  }

  /** The statements of every policy attached to the role whose logical id starts with `rolePrefix`. */
  statementsOfRole(rolePrefix: string): Statement[] {
    const roleIds = Object.entries(this.template.Resources)
      .filter(([id, r]) => r.Type === 'AWS::IAM::Role' && id.startsWith(rolePrefix))
      .map(([id]) => id)
    if (roleIds.length !== 1) throw new Error(`expected one role ${rolePrefix}*, found ${roleIds.length}`)
    const statements: Json[] = []
    for (const resource of Object.values(this.template.Resources)) {
      if (resource.Type !== 'AWS::IAM::Policy' && resource.Type !== 'AWS::IAM::ManagedPolicy') continue
      const roles = JSON.stringify(resource.Properties?.Roles ?? [])
      if (!roles.includes(`"${roleIds[0]}"`)) continue
      statements.push(...((resource.Properties?.PolicyDocument as {Statement: Json[]}).Statement ?? []))
    }
    const role = this.template.Resources[roleIds[0]]
    for (const inline of (role.Properties?.Policies as Array<{PolicyDocument: {Statement: Json[]}}> | undefined) ?? []) statements.push(...inline.PolicyDocument.Statement)
    return statements.map((s) => this.resolve(s) as Statement)
  }

  /** The value with every intrinsic function resolved. */
  resolve(value: Json): Json {
    if (Array.isArray(value)) return value.map((v) => this.resolve(v))
    if (typeof value !== 'object' || value === null) return value
    const entries = Object.entries(value)
    if (entries.length === 1) {
      const [fn, arg] = entries[0] as [string, Json]
      if (fn === 'Ref') return this.ref(arg as string)
      if (fn === 'Fn::GetAtt') return this.getAtt(...(arg as [string, string]))
      if (fn === 'Fn::Join') {
        const [separator, parts] = arg as [string, Json[]]
        return (this.resolve(parts) as Json[]).flat().join(separator)
      }
      if (fn === 'Fn::Select') {
        const [index, list] = arg as [string | number, Json]
        return (this.resolve(list) as Json[])[Number(index)]
      }
      if (fn === 'Fn::Split') {
        const [separator, text] = arg as [string, Json]
        return String(this.resolve(text)).split(separator)
      }
      if (fn === 'Fn::Sub') return String(arg).replace(/\$\{([^}]+)\}/g, (_, name: string) => String(name.includes('.') ? this.getAtt(...(name.split('.') as [string, string])) : this.ref(name)))
      if (fn.startsWith('Fn::')) throw new Error(`cannot resolve ${fn}`)
    }
    return Object.fromEntries(entries.map(([k, v]) => [k, this.resolve(v)]))
  }

  private ref(id: string): string {
    const {region, account} = this.physical
    if (id === 'AWS::Partition') return 'aws'
    if (id === 'AWS::Region') return region
    if (id === 'AWS::AccountId') return account
    if (id === 'AWS::URLSuffix') return 'amazonaws.com'
    if (id === 'AWS::StackId') return `arn:aws:cloudformation:${region}:${account}:stack/${this.physical.stackName ?? 'devflow-dev'}/00000000-0000-4000-8000-000000000000`
    const resource = this.resource(id)
    const bound = this.bound(id)
    switch (resource.Type) {
      case 'AWS::DynamoDB::Table':
        return String(resource.Properties?.TableName)
      case 'AWS::SecretsManager::Secret':
        return bound.arn ?? `arn:aws:secretsmanager:${region}:${account}:secret:${String(resource.Properties?.Name)}-AAAAAA`
      case 'AWS::Logs::LogGroup':
        return String(resource.Properties?.LogGroupName ?? bound.name ?? id)
      default:
        return bound.name ?? String(resource.Properties?.ClusterName ?? resource.Properties?.RoleName ?? id)
    }
  }

  private getAtt(id: string, attribute: string): string {
    const {region, account} = this.physical
    const resource = this.resource(id)
    const bound = this.bound(id)
    if (attribute !== 'Arn') return `${id}.${attribute}`
    if (bound.arn) return bound.arn
    const name = this.ref(id)
    switch (resource.Type) {
      case 'AWS::DynamoDB::Table':
        return `arn:aws:dynamodb:${region}:${account}:table/${name}`
      case 'AWS::ECS::Cluster':
        return `arn:aws:ecs:${region}:${account}:cluster/${name}`
      case 'AWS::IAM::Role':
        return `arn:aws:iam::${account}:role/${name}`
      case 'AWS::Logs::LogGroup':
        return `arn:aws:logs:${region}:${account}:log-group:${name}:*`
      case 'AWS::Lambda::Function':
        return `arn:aws:lambda:${region}:${account}:function:${name}`
      case 'AWS::S3::Bucket':
        return `arn:aws:s3:::${name}`
      default:
        return `arn:aws:unresolved:${region}:${account}:${resource.Type}/${id}`
    }
  }

  private resource(id: string) {
    const resource = this.template.Resources[id]
    if (!resource) throw new Error(`the template has no resource ${id}`)
    return resource
  }

  private bound(id: string): {name?: string; arn?: string} {
    const pick = (map: Record<string, string> | undefined) => Object.entries(map ?? {}).find(([prefix]) => id.startsWith(prefix))?.[1]
    return {name: pick(this.physical.names), arn: pick(this.physical.arns)}
  }
}

export interface CallContext {
  readonly region: string
  readonly account: string
  /** The roles of the task definition RunTask runs (ECS checks iam:PassRole on them). */
  readonly taskDefinitionRoles?: readonly string[]
  /** Buckets encrypted by default with a KMS key (SSE-KMS): a write needs kms:GenerateDataKey on it, a read kms:Decrypt. */
  readonly bucketKeys?: Readonly<Record<string, string>>
  /** The tags of a resource the call acts on (a task), as AWS reads them for `aws:ResourceTag/...`. */
  readonly resourceTags?: (arn: string) => Record<string, string> | undefined
  /**
   * The caller's keys in every request context, e.g. {'aws:PrincipalTag/devflow-user': 'alice',
   * 'aws:username': 'alice'}: what policy variables such as `${aws:PrincipalTag/devflow-user}` read.
   */
  readonly principal?: Record<string, string>
  /** The KMS key of an encrypted SNS topic: publishing to it needs the key's data-key actions too. */
  readonly topicKeys?: Record<string, string>
}

/** The IAM requests AWS authorises for one call. */
export function iamRequests(call: AwsCall, ctx: CallContext): IamRequest[] {
  const {region, account} = ctx
  const from = `${call.service}:${call.action}`
  const req = call.request
  const one = (action: string, resource: string, context: Record<string, string> = {}): IamRequest => ({action, resource, context: {...ctx.principal, ...context}, from})
  /** `aws:ResourceTag/<key>` (and the service's own `<prefix>:ResourceTag/<key>`) of a tagged resource. */
  const tagsOf = (arn: string, prefixes: readonly string[]) =>
    Object.fromEntries(Object.entries(ctx.resourceTags?.(arn) ?? {}).flatMap(([key, value]) => prefixes.map((prefix) => [`${prefix}:ResourceTag/${key}`, value])))
  const table = (name: unknown) => `arn:aws:dynamodb:${region}:${account}:table/${String(name)}`
  const cluster = (value: unknown) => (String(value).startsWith('arn:') ? String(value) : `arn:aws:ecs:${region}:${account}:cluster/${String(value ?? 'default')}`)
  const clusterName = (value: unknown) => cluster(value).split('/').at(-1)
  const task = (value: unknown) => (String(value).startsWith('arn:') ? String(value) : `arn:aws:ecs:${region}:${account}:task/${clusterName(req.cluster)}/${String(value)}`)
  switch (call.service) {
    case 'dynamodb': {
      if (call.action === 'TransactWriteItems') {
        const kinds: Record<string, string> = {Put: 'PutItem', Update: 'UpdateItem', Delete: 'DeleteItem', ConditionCheck: 'ConditionCheckItem'}
        return (req.TransactItems as Array<Record<string, {TableName: string}>>).flatMap((item) =>
          Object.entries(item).map(([kind, op]) => one(`dynamodb:${kinds[kind]}`, table(op.TableName))),
        )
      }
      if (call.action === 'TransactGetItems') return (req.TransactItems as Array<{Get: {TableName: string}}>).map((item) => one('dynamodb:GetItem', table(item.Get.TableName)))
      if (call.action === 'BatchWriteItem' || call.action === 'BatchGetItem') {
        return Object.keys(req.RequestItems as Record<string, unknown>).map((name) => one(`dynamodb:${call.action}`, table(name)))
      }
      const resource = req.IndexName ? `${table(req.TableName)}/index/${String(req.IndexName)}` : table(req.TableName)
      return [one(`dynamodb:${call.action}`, resource)]
    }
    case 'ecs': {
      const onCluster = {'ecs:cluster': cluster(req.cluster)}
      if (call.action === 'RunTask') {
        const started = (call.response?.tasks as Array<{taskArn?: string; taskDefinitionArn?: string}> | undefined)?.[0]
        const definition = started?.taskDefinitionArn ?? String(req.taskDefinition)
        const requests = [one('ecs:RunTask', definition.startsWith('arn:') ? definition : `arn:aws:ecs:${region}:${account}:task-definition/${definition}`, onCluster)]
        const tagged = (Array.isArray(req.tags) && req.tags.length > 0) || req.propagateTags !== undefined
        if (tagged) requests.push(one('ecs:TagResource', started?.taskArn ?? `arn:aws:ecs:${region}:${account}:task/${clusterName(req.cluster)}/unknown`, {'ecs:CreateAction': 'RunTask'}))
        for (const role of ctx.taskDefinitionRoles ?? []) requests.push(one('iam:PassRole', role, {'iam:PassedToService': 'ecs-tasks.amazonaws.com'}))
        return requests
      }
      const onTask = (t: unknown) => ({...onCluster, ...tagsOf(task(t), ['aws', 'ecs'])})
      if (call.action === 'StopTask') return [one('ecs:StopTask', task(req.task), onTask(req.task))]
      if (call.action === 'ExecuteCommand') return [one('ecs:ExecuteCommand', task(req.task), {...onTask(req.task), 'ecs:task': task(req.task)})]
      if (call.action === 'DescribeTasks') return (req.tasks as string[]).map((t) => one('ecs:DescribeTasks', task(t), onTask(t)))
      if (call.action === 'TagResource') {
        // Tags added after creation (no ecs:CreateAction): each tag as aws:RequestTag, their keys as the multivalued aws:TagKeys.
        const arn = String(req.resourceArn)
        const tags = (req.tags as Array<{key: string; value: string}> | undefined) ?? []
        const request = one('ecs:TagResource', arn, {...tagsOf(arn, ['aws', 'ecs']), ...Object.fromEntries(tags.map((t) => [`aws:RequestTag/${t.key}`, t.value]))})
        return [{...request, multiValued: {'aws:TagKeys': tags.map((t) => t.key)}}]
      }
      if (call.action === 'DescribeTaskDefinition') return [one('ecs:DescribeTaskDefinition', '*')] // no resource-level permissions
      if (call.action === 'RegisterTaskDefinition') {
        const registered = (call.response?.taskDefinition as {taskDefinitionArn?: string} | undefined)?.taskDefinitionArn ?? `arn:aws:ecs:${region}:${account}:task-definition/${String(req.family)}:*`
        const requests = [one('ecs:RegisterTaskDefinition', registered)]
        if (Array.isArray(req.tags) && req.tags.length > 0) requests.push(one('ecs:TagResource', registered, {'ecs:CreateAction': 'RegisterTaskDefinition'}))
        for (const role of [req.taskRoleArn, req.executionRoleArn].filter((r): r is string => typeof r === 'string')) {
          requests.push(one('iam:PassRole', role, {'iam:PassedToService': 'ecs-tasks.amazonaws.com'}))
        }
        return requests
      }
      if (call.action === 'DescribeClusters') return ((req.clusters as string[] | undefined) ?? ['default']).map((c) => one('ecs:DescribeClusters', cluster(c)))
      break
    }
    case 'secretsmanager': {
      const id = String(req.SecretId)
      const arn = id.startsWith('arn:') ? id : String(call.response?.ARN ?? `arn:aws:secretsmanager:${region}:${account}:secret:${id}-AAAAAA`)
      return [one(`secretsmanager:${call.action}`, arn)]
    }
    case 's3': {
      const bucket = String(req.Bucket)
      const object = `arn:aws:s3:::${bucket}/${String(req.Key)}`
      const key = ctx.bucketKeys?.[bucket]
      if (key === undefined) throw new Error(`iam-policy.ts does not know how the bucket ${bucket} is encrypted: name it in bucketKeys`)
      // HEAD reads the metadata only; GET decrypts, PUT encrypts with a new data key.
      if (call.action === 'HeadObject') return [one('s3:GetObject', object)]
      if (call.action === 'GetObject') return [one('s3:GetObject', object), one('kms:Decrypt', key)]
      if (call.action === 'PutObject') return [one('s3:PutObject', object), one('kms:GenerateDataKey', key)]
      break
    }
    case 'ecr': {
      const repository = `arn:aws:ecr:${region}:${String(req.registryId ?? account)}:repository/${String(req.repositoryName)}`
      if (call.action === 'GetAuthorizationToken') return [one('ecr:GetAuthorizationToken', '*')] // no resource-level permissions
      if (call.action === 'DescribeImages') return [one('ecr:DescribeImages', repository)]
      // The fake docker's PutImage stands for `docker push`, which the registry authorises as these.
      if (call.action === 'PutImage') {
        return ['BatchCheckLayerAvailability', 'InitiateLayerUpload', 'UploadLayerPart', 'CompleteLayerUpload', 'PutImage'].map((action) => one(`ecr:${action}`, repository))
      }
      break
    }
    case 'sns':
      if (call.action === 'Publish') {
        const topic = String(req.TopicArn)
        const key = ctx.topicKeys?.[topic]
        // Publishing to an SSE-KMS topic also needs the publisher's own data-key permissions on its key.
        return [one('sns:Publish', topic), ...(key ? [one('kms:GenerateDataKey', key), one('kms:Decrypt', key)] : [])]
      }
      break
    case 'ssm':
      if (call.action === 'StartSession') {
        // Session Manager authorises the target and the session document, each on its own. An ECS
        // Exec target is `ecs:<cluster>_<task id>_<container runtime id>`, checked as the task's ARN
        // (whose tags SSM reads as aws:ResourceTag; it has no ssm:resourceTag for tasks).
        const target = String(req.Target)
        const ecsTarget = /^ecs:([^_]+)_([^_]+)_/.exec(target)
        if (!ecsTarget) break
        const taskArn = `arn:aws:ecs:${region}:${account}:task/${ecsTarget[1]}/${ecsTarget[2]}`
        const document = `arn:aws:ssm:${region}::document/${String(req.DocumentName ?? 'SSM-SessionManagerRunShell')}`
        return [one('ssm:StartSession', taskArn, tagsOf(taskArn, ['aws'])), one('ssm:StartSession', document)]
      }
      break
    case 'sts':
      // GetCallerIdentity needs no permission; anything else must be listed here first.
      if (call.action === 'GetCallerIdentity') return []
      break
    case 'cloudformation':
      if (call.action === 'DescribeStacks') return [one('cloudformation:DescribeStacks', `arn:aws:cloudformation:${region}:${account}:stack/${String(req.StackName)}/*`)]
      break
  }
  throw new Error(`iam-policy.ts does not know how IAM authorises ${from}: add it before relying on the check`)
}

/** Why the request is refused, or undefined when the statements allow it. */
export function denial(statements: readonly Statement[], request: IamRequest): string | undefined {
  const applies = (s: Statement) =>
    [s.Action].flat().some((a) => glob(a, request.action, true)) && [s.Resource].flat().some((r) => glob(r, request.resource, false)) && conditionsHold(s, request)
  if (statements.some((s) => s.Effect === 'Deny' && applies(s))) return 'explicitly denied'
  if (statements.some((s) => s.Effect === 'Allow' && applies(s))) return undefined
  return 'no statement allows it'
}

function conditionsHold(statement: Statement, request: IamRequest): boolean {
  for (const [operator, keys] of Object.entries(statement.Condition ?? {})) {
    for (const [key, expected] of Object.entries(keys)) {
      if (operator.startsWith('ForAllValues:') || operator.startsWith('ForAnyValue:')) {
        if (!setConditionHolds(operator, request.multiValued?.[key], [expected].flat())) return false
        continue
      }
      const actual = request.context[key]
      const resolved = [expected].flat().map((value) => withPolicyVariables(value, request.context))
      if (actual === undefined || resolved.includes(undefined)) return false
      const values = resolved as string[]
      if (operator === 'StringEquals') {
        if (!values.includes(actual)) return false
      } else if (operator === 'StringLike' || operator === 'ArnLike' || operator === 'ArnEquals') {
        // IAM's Arn operators both take wildcards.
        if (!values.some((v) => glob(v, actual, false))) return false
      } else {
        throw new Error(`iam-policy.ts does not evaluate the condition operator ${operator}`)
      }
    }
  }
  return true
}

/**
 * IAM's set operators over a multivalued key: ForAllValues holds when every value of the request is
 * among the policy's (also when the request has none, as in IAM); ForAnyValue when one is.
 */
function setConditionHolds(operator: string, actual: readonly string[] | undefined, expected: readonly string[]): boolean {
  const [qualifier, base] = operator.split(':')
  if (base !== 'StringEquals') throw new Error(`iam-policy.ts does not evaluate the condition operator ${operator}`)
  const values = actual ?? []
  return qualifier === 'ForAllValues' ? values.every((v) => expected.includes(v)) : values.some((v) => expected.includes(v))
}

/**
 * A condition value with its policy variables (`${aws:username}`, `${aws:PrincipalTag/key}`) replaced
 * from the request context; undefined when one has no value there (IAM then matches nothing).
 */
function withPolicyVariables(value: string, context: Record<string, string>): string | undefined {
  let missing = false
  const resolved = value.replace(/\$\{([^}]+)\}/g, (_, name: string) => {
    if (name === '*' || name === '?' || name === '$') return name
    const found = context[name]
    if (found === undefined) missing = true
    return found ?? ''
  })
  return missing ? undefined : resolved
}

function glob(pattern: string, value: string, ignoreCase: boolean): boolean {
  const source = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')
  return new RegExp(`^${source}$`, ignoreCase ? 'i' : '').test(value)
}
