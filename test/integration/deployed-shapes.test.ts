/**
 * DevFlow as it runs on AWS, not only as moto answers it:
 *  - every lambda/ bundle, built as CDK builds it and run with only the AWS SDK on its module path,
 *    invoked with REST API proxy events (IAM identity, resource and pathParameters, base64 bodies,
 *    a custom domain's base path, a missing identity) against moto;
 *  - every AWS call those functions, the reaper and the CLI's admin mode made (recorded by a proxy
 *    in front of moto) is allowed by the statements of its role in the synthesized template;
 *  - the RunTask requests, field by field.
 */
import {createHmac} from 'node:crypto'
import {execFileSync} from 'node:child_process'
import {mkdir, readdir, readFile, writeFile} from 'node:fs/promises'
import {createServer, type IncomingHttpHeaders, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import {dirname, join} from 'node:path'

import {GetItemCommand, ScanCommand} from '@aws-sdk/client-dynamodb'
import {DescribeTasksCommand, ECSClient, ListTagsForResourceCommand} from '@aws-sdk/client-ecs'
import {CreateSecretCommand, SecretsManagerClient} from '@aws-sdk/client-secrets-manager'
import {expect} from 'chai'

import {ROUTES, WARM_POOL_KEEPER_TASK} from '../../src/api/routes.js'

import {DEVELOPER_SESSION_TAG} from '../../infra/constructs/access-roles.js'
import {LAMBDA_ENV, TABLE_NAMES, TASK_TAGS} from '../../src/core/deployment.js'
import {type AwsCall} from '../helpers/aws-recorder.js'
import {CliSandbox} from '../helpers/cli.js'
import {type CallContext, denial, iamRequests, type Statement, TemplateResolver} from '../helpers/iam-policy.js'
import {API_DOMAIN, bundleLambdas, type LambdaBundles, restEvent, STAGE} from '../helpers/lambda-bundles.js'
import {TEST_ACCOUNT, TEST_REGION} from '../helpers/moto.js'
import {CLUSTER, CONVERSATIONS_BUCKET, OPERATOR_ROLE_ARN, PlatformFixture, REPO, TASK_ROLES, taskRoleCaller, WEBHOOK_SECRET} from '../helpers/platform-fixture.js'
import {synthTemplate, type Template} from '../helpers/synth.js'
import {createWarmPoolTable} from '../helpers/tables.js'

/** Access keys: which component made a recorded call (each function has its own). */
const OPERATOR_KEY = 'AKIADEVFLOWOPERATOR'
const DEVELOPER_KEY = 'AKIADEVFLOWDEVELOPER'
const keyOf = (entry: string) => `AKIADEVFLOW${entry.replaceAll('-', '').toUpperCase()}`
/** The stage's notification webhook signing secret (`-c devflow:notifySecret`), which the operator creates. */
const NOTIFY_SECRET = 'devflow/notify-webhook'
const NOTIFY_SIGNING_KEY = 'notify-signing-key-0123456789abcdef'
const ALICE = 'arn:aws:sts::123456789012:assumed-role/devflow-dev-developer/alice@example.com'
/** The stage's warm pool (`-c devflow:warmTasks`): the keeper keeps this many tasks ready. */
const WARM_TASKS = 1
const BOB = 'arn:aws:sts::123456789012:assumed-role/devflow-dev-developer/bob@example.com'
const OPERATOR = 'arn:aws:sts::123456789012:assumed-role/devflow-dev-operator/ops@example.com'

/** The console API's shape: no IAM identity, the verified ID token's claims from the Cognito authorizer (every value a string). */
function cognitoRestEvent(method: string, resource: string, sub: string, groups?: string): ReturnType<typeof restEvent> {
  const event = restEvent(method, resource, null, {headers: {Authorization: 'eyJraWQiOi...', Origin: 'https://d111111abcdef8.cloudfront.net'}})
  const claims = {
    sub,
    aud: '4example0client0id',
    token_use: 'id',
    'cognito:username': sub,
    email: 'someone@example.com',
    email_verified: 'true',
    iss: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Example',
    auth_time: '1764619200',
    exp: 'Tue Dec 01 21:00:00 UTC 2026',
    iat: 'Tue Dec 01 20:00:00 UTC 2026',
    ...(groups === undefined ? {} : {'cognito:groups': groups}),
  }
  return {...event, requestContext: {...event.requestContext, authorizer: {claims}}} as ReturnType<typeof restEvent>
}

interface Response {
  statusCode: number
  headers?: Record<string, string>
  body: string
}
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response JSON, asserted field by field
const body = (response: unknown): any => JSON.parse((response as Response).body || 'null')
const status = (response: unknown) => (response as Response).statusCode
/** "start-session" -> "StartSession", as the CDK construct names the function. */
const functionId = (entry: string) => entry.replace(/(^|-)([a-z])/g, (_, _dash: string, letter: string) => letter.toUpperCase())

describe('deployed shapes on moto: the bundled Lambdas, IAM as AWS enforces it, RunTask requests', function () {
  this.timeout(120_000)
  // Started by hand, not by usePlatform(), to bundle the Lambdas while moto is being set up.
  const h = new PlatformFixture('in-process')
  let lambdas: LambdaBundles
  let template: Promise<Template>
  let lambdaEnv: Record<string, string>
  const sessions: {first?: string; expiring?: string; token?: string; prompt?: string; task?: string} = {}

  before(async () => {
    // A stage with a signed notification webhook (test-notification reads the signing secret) and a warm pool of one task.
    template = synthTemplate('dev', {
      'devflow:notifyWebhook': 'https://hooks.example.com/devflow',
      'devflow:notifyFormat': 'json',
      'devflow:notifySecret': NOTIFY_SECRET,
      'devflow:warmTasks': String(WARM_TASKS),
    })
    template.catch(() => undefined)
    ;[, lambdas] = await Promise.all([h.start(), bundleLambdas()])
    // Straight to moto, not through the recorder: it is the operator's setup, not a function's call.
    const secrets = new SecretsManagerClient({region: TEST_REGION, endpoint: h.moto.url, credentials: {accessKeyId: 'testing', secretAccessKey: 'testing'}})
    await secrets.send(new CreateSecretCommand({Name: NOTIFY_SECRET, SecretString: JSON.stringify({secret: NOTIFY_SIGNING_KEY})}))
    secrets.destroy()
    const config = h.config
    lambdaEnv = {
      AWS_REGION: TEST_REGION,
      AWS_ENDPOINT_URL: h.recorder.url,
      AWS_SECRET_ACCESS_KEY: 'secret',
      [LAMBDA_ENV.sessionsTable]: config.sessionsTable,
      [LAMBDA_ENV.promptsTable]: config.promptsTable,
      [LAMBDA_ENV.eventsTable]: config.eventsTable,
      [LAMBDA_ENV.cluster]: config.cluster,
      [LAMBDA_ENV.taskDefinition]: config.taskDefinition,
      [LAMBDA_ENV.containerName]: config.containerName,
      [LAMBDA_ENV.subnets]: config.subnets.join(','),
      [LAMBDA_ENV.securityGroups]: config.securityGroups.join(','),
      [LAMBDA_ENV.capacity]: config.capacity,
      [LAMBDA_ENV.emulator]: config.emulator ?? '',
      [LAMBDA_ENV.taskRoleArn]: config.taskRoleArn ?? '',
      [LAMBDA_ENV.githubAppSecretArn]: config.githubAppSecretArn,
      [LAMBDA_ENV.pageTokenKeySecretArn]: config.pageTokenKeySecretArn,
      [LAMBDA_ENV.maxActiveSessionsPerUser]: '2',
      [LAMBDA_ENV.stage]: STAGE,
      [LAMBDA_ENV.version]: '0.0.0-test',
      [LAMBDA_ENV.repositories]: JSON.stringify(config.repositoryAccess),
      [LAMBDA_ENV.conversationsBucket]: config.conversationsBucket ?? '',
      [LAMBDA_ENV.adminRoleArns]: OPERATOR_ROLE_ARN,
    }
  })
  after(async () => {
    await h.close()
    await lambdas?.cleanup()
  })

  const invoke = (entry: string, events: unknown[], env: Record<string, string> = {}) => lambdas.invoke(entry, events, {...lambdaEnv, ...env, AWS_ACCESS_KEY_ID: keyOf(entry)})
  const taskOf = async (taskArn: string) => (await h.ecs.send(new DescribeTasksCommand({cluster: CLUSTER, tasks: [taskArn]}))).tasks?.[0]
  const envOf = async (taskArn: string) =>
    Object.fromEntries(((await taskOf(taskArn))?.overrides?.containerOverrides?.[0]?.environment ?? []).map((e) => [e.name ?? '', e.value ?? '']))
  const apiCalls = (action: string) => h.recorder.calls.filter((c) => c.action === action && c.accessKey.startsWith('AKIADEVFLOW') && c.accessKey !== OPERATOR_KEY && c.accessKey !== DEVELOPER_KEY)

  describe('the bundled Lambdas invoked as API Gateway invokes them', () => {
    it('one asset, dist/lambda, holds every function: the AWS SDK left out, no source map, nothing else on the module path', async () => {
      // One per route, and the reaper.
      expect(lambdas.entries).to.have.length(ROUTES.length + 1)
      const files = await readdir(join(lambdas.dir, 'fn'), {recursive: true})
      expect(files.filter((f) => f.endsWith('.map'))).to.deep.equal([])
      const code = (await Promise.all(files.filter((f) => f.endsWith('.mjs')).map((f) => readFile(join(lambdas.dir, 'fn', f), 'utf8')))).join('\n')
      expect(code).to.match(/from"@aws-sdk\/client-dynamodb"/)
      expect(code).not.to.match(/from"zod"|require\("zod"\)|sourceMappingURL/)
      const resolves = (name: string) =>
        execFileSync(process.execPath, ['--input-type=module', '-e', `import(${JSON.stringify(name)}).then(() => console.log('yes'), () => console.log('no'))`], {cwd: join(lambdas.dir, 'fn'), encoding: 'utf8'}).trim()
      expect([resolves('@aws-sdk/client-ecs'), resolves('zod'), resolves('@smithy/signature-v4')]).to.deep.equal(['yes', 'no', 'no'])
    })

    it('every function of the template finds its handler in that asset, as the nodejs22.x runtime looks it up', async () => {
      const functions = Object.entries((await template).Resources).filter(([id, r]) => r.Type === 'AWS::Lambda::Function' && id.startsWith('ControlPlane'))
      expect(functions).to.have.length(ROUTES.length + 1)
      const assets = new Set<string>()
      for (const [id, fn] of functions) {
        const handler = fn.Properties?.Handler as string
        // "<file>.<export>": the runtime imports <file>.mjs from the code's root and calls <export>.
        const [file, name] = handler.split('.')
        expect(lambdas.entries, `${id}: ${handler}`).to.include(file)
        expect(name, id).to.equal('handler')
        assets.add(JSON.stringify((fn.Properties?.Code as {S3Key?: unknown})?.S3Key))
      }
      expect(assets.size, 'one code asset for every function').to.equal(1)
    })

    it('start-session: base64 bodies, a custom domain\'s base path, the stage URL, a missing identity, bad JSON, the per-user quota', async () => {
      const start = (extra: Parameters<typeof restEvent>[3]) => restEvent('POST', '/sessions', null, {userArn: ALICE, base64: true, ...extra})
      const [onDomain, onStage, anonymous, notJson, overQuota] = await invoke('start-session', [
        start({body: JSON.stringify({repo: REPO, cpu: 1, memory: '2GB'}), domain: 'api.example.com', basePath: '/devflow'}),
        start({body: JSON.stringify({repo: REPO, ttl: '1s'})}),
        start({body: JSON.stringify({repo: REPO}), userArn: null, noIdentity: true}),
        start({body: '{"repo": '}),
        start({body: JSON.stringify({repo: REPO})}),
      ])
      expect(status(onDomain), JSON.stringify(body(onDomain))).to.equal(201)
      expect(body(onDomain)).to.include({userId: ALICE, repo: REPO, status: 'PROVISIONING', memory: 2048})
      expect(status(onStage)).to.equal(201)
      expect([status(anonymous), body(anonymous).error.code]).to.deep.equal([401, 'UNAUTHENTICATED'])
      expect([status(notJson), body(notJson).error.code]).to.deep.equal([400, 'INVALID_JSON'])
      expect([status(overQuota), body(overQuota).error.code]).to.deep.equal([409, 'SESSION_QUOTA_EXCEEDED'])
      sessions.first = body(onDomain).id
      sessions.expiring = body(onStage).id
      // The agent calls back where the user called: the custom domain's base path, or the stage URL.
      const firstEnv = await envOf(body(onDomain).taskArn)
      expect(firstEnv.DEVFLOW_API_URL).to.equal('https://api.example.com/devflow')
      expect((await envOf(body(onStage).taskArn)).DEVFLOW_API_URL).to.equal(`https://${API_DOMAIN}/${STAGE}`)
      sessions.task = body(onDomain).taskArn
    })

    it('agent-bootstrap: AWS_IAM as the task role\'s session named after the task, once', async () => {
      const bootstrap = (userArn: string | null) => restEvent('POST', '/agent/sessions/{id}/bootstrap', {id: sessions.first ?? ''}, {userArn, ...(userArn ? {} : {noIdentity: true})})
      const [anonymous, asUser, first, again] = await invoke('agent-bootstrap', [bootstrap(null), bootstrap(ALICE), bootstrap(taskRoleCaller(sessions.task ?? '')), bootstrap(taskRoleCaller(sessions.task ?? ''))])
      expect([status(anonymous), body(anonymous).error.code]).to.deep.equal([401, 'BOOTSTRAP_PROOF_MISSING'])
      expect([status(asUser), body(asUser).error.code]).to.deep.equal([403, 'BOOTSTRAP_REFUSED'])
      expect(status(first), JSON.stringify(body(first))).to.equal(200)
      expect([status(again), body(again).error.code]).to.deep.equal([409, 'BOOTSTRAP_USED'])
      sessions.token = body(first).token
    })

    it('agent-heartbeat: no IAM identity, the session\'s bearer token', async () => {
      const beat = (token: string) =>
        restEvent('POST', '/agent/sessions/{id}/heartbeat', {id: sessions.first ?? ''}, {body: '{"state":"idle"}', headers: {Authorization: `Bearer ${token}`}})
      const [ok, wrong] = await invoke('agent-heartbeat', [beat(sessions.token ?? ''), beat('not-the-token')])
      expect([status(ok), body(ok)]).to.deep.equal([200, {status: 'RUNNING'}])
      expect([status(wrong), body(wrong).error.code]).to.deep.equal([401, 'AGENT_TOKEN_INVALID'])
    })

    it('github-webhook: no IAM identity; a base64 body checked against the App\'s webhook secret, then claimed once', async () => {
      const payload = JSON.stringify({zen: 'Approachable is better than simple.', hook_id: 7})
      const signature = `sha256=${createHmac('sha256', WEBHOOK_SECRET).update(payload).digest('hex')}`
      const hook = (headers: Record<string, string>) =>
        restEvent('POST', '/github/webhook', null, {body: payload, base64: true, headers: {'X-GitHub-Event': 'ping', 'X-GitHub-Delivery': 'shapes-ping-1', 'Content-Type': 'application/json', ...headers}})
      const [signed, again, forged] = await invoke('github-webhook', [hook({'X-Hub-Signature-256': signature}), hook({'X-Hub-Signature-256': signature}), hook({'X-Hub-Signature-256': `sha256=${'0'.repeat(64)}`})])
      expect([status(signed), body(signed).outcome], JSON.stringify(body(signed))).to.deep.equal([202, 'ignore'])
      expect([status(again), body(again).duplicate]).to.deep.equal([200, true])
      expect([status(forged), body(forged).error.code]).to.deep.equal([401, 'WEBHOOK_SIGNATURE_INVALID'])
    })

    it('get-session and list-sessions: owners only, page tokens bound to the caller', async () => {
      const id = {id: sessions.first ?? ''}
      const [mine, theirs] = await invoke('get-session', [restEvent('GET', '/sessions/{id}', id, {userArn: ALICE}), restEvent('GET', '/sessions/{id}', id, {userArn: BOB})])
      expect([status(mine), body(mine).status]).to.deep.equal([200, 'RUNNING'])
      expect([status(theirs), body(theirs).error.code]).to.deep.equal([404, 'SESSION_NOT_FOUND'])

      const [first] = await invoke('list-sessions', [restEvent('GET', '/sessions', null, {userArn: ALICE, query: {limit: '1'}})])
      expect(body(first).items).to.have.length(1)
      const nextToken = body(first).nextToken as string
      expect(nextToken).to.be.a('string')
      const forged = `${nextToken.slice(0, -4)}AAAA`
      const [second, asBob, tampered, typed] = await invoke('list-sessions', [
        restEvent('GET', '/sessions', null, {userArn: ALICE, query: {limit: '1', nextToken}}),
        restEvent('GET', '/sessions', null, {userArn: BOB, query: {limit: '1', nextToken}}),
        restEvent('GET', '/sessions', null, {userArn: ALICE, query: {nextToken: forged}}),
        restEvent('GET', '/sessions', null, {userArn: ALICE, query: {nextToken: Buffer.from('{"session_id":{"N":"1"}}').toString('base64url')}}),
      ])
      expect(status(second)).to.equal(200)
      expect(body(second).items.map((s: {id: string}) => s.id)).to.have.length(1).and.not.include(body(first).items[0].id)
      for (const refused of [asBob, tampered, typed]) expect([status(refused), body(refused).error.code]).to.deep.equal([400, 'INVALID_NEXT_TOKEN'])
    })

    it('list-all-sessions: the operator role through AWS_IAM and the devflow-admins group through Cognito; anyone else 403', async () => {
      const [asOperator, asConsoleAdmin, asTwoGroups, asDeveloper, asConsoleUser, anonymous] = await invoke('list-all-sessions', [
        restEvent('GET', '/admin/sessions', null, {userArn: OPERATOR}),
        cognitoRestEvent('GET', '/admin/sessions', '0a9b8c7d-6e5f-4a3b-9c2d-1e0f9a8b7c6d', 'devflow-admins'),
        cognitoRestEvent('GET', '/admin/sessions', '0a9b8c7d-6e5f-4a3b-9c2d-1e0f9a8b7c6d', 'readers,devflow-admins'),
        restEvent('GET', '/admin/sessions', null, {userArn: ALICE}),
        cognitoRestEvent('GET', '/admin/sessions', 'e2d4f6a8-1b3c-4d5e-8f70-9a1b2c3d4e5f', 'readers'),
        restEvent('GET', '/admin/sessions', null, {userArn: null, noIdentity: true}),
      ])
      for (const allowed of [asOperator, asConsoleAdmin, asTwoGroups]) {
        expect(status(allowed), JSON.stringify(body(allowed))).to.equal(200)
        expect(body(allowed).items.map((s: {id: string}) => s.id)).to.include(sessions.first)
      }
      for (const refused of [asDeveloper, asConsoleUser]) {
        expect([status(refused), body(refused).error.code]).to.deep.equal([403, 'ADMIN_ONLY'])
        expect(body(refused).error.hint).to.include(OPERATOR_ROLE_ARN).and.to.include('devflow-admins')
      }
      expect([status(anonymous), body(anonymous).error.code]).to.deep.equal([401, 'UNAUTHENTICATED'])
    })

    it('list-repositories: the allow-list as it applies to an IAM and a console caller', async () => {
      const [iam, consoleUser] = await invoke('list-repositories', [restEvent('GET', '/repositories', null, {userArn: ALICE}), cognitoRestEvent('GET', '/repositories', 'e2d4f6a8-1b3c-4d5e-8f70-9a1b2c3d4e5f')])
      for (const answered of [iam, consoleUser]) {
        expect(status(answered)).to.equal(200)
        expect(body(answered)).to.deep.equal({items: [], any: true})
      }
    })

    it('create-prompt, list-prompts and the agent\'s claim: a lone surrogate is a 400, not a 502', async () => {
      const id = {id: sessions.first ?? ''}
      const [queued, surrogate] = await invoke('create-prompt', [
        restEvent('POST', '/sessions/{id}/prompts', id, {userArn: ALICE, base64: true, body: JSON.stringify({text: 'Add a health endpoint'})}),
        restEvent('POST', '/sessions/{id}/prompts', id, {userArn: ALICE, body: '{"text": "half a pair: \\ud800"}'}),
      ])
      expect(status(queued), JSON.stringify(body(queued))).to.equal(202)
      expect([status(surrogate), body(surrogate).error.code]).to.deep.equal([400, 'INVALID_UNICODE'])
      sessions.prompt = body(queued).id
      const [listed] = await invoke('list-prompts', [restEvent('GET', '/sessions/{id}/prompts', id, {userArn: ALICE})])
      expect(body(listed).items.map((p: {id: string}) => p.id)).to.deep.equal([sessions.prompt])
      const [claimed] = await invoke('agent-next-prompt', [
        restEvent('GET', '/agent/sessions/{id}/prompts/next', id, {query: {wait: '0'}, headers: {Authorization: `Bearer ${sessions.token}`}}),
      ])
      expect([status(claimed), body(claimed).id]).to.deep.equal([200, sessions.prompt])
    })

    it('agent-prompt-events and get-prompt-events: any JSON `data` is stored and read back as sent; cursors are bounded', async () => {
      const params = {id: sessions.first ?? '', pid: sessions.prompt ?? ''}
      const agent = {Authorization: `Bearer ${sessions.token}`}
      const events = [
        {type: 'log', text: 'reading', data: {'': ''}},
        {type: 'tool', data: {big: 1e300, nested: [[[{'a.b': null}]]], empty: {}}},
      ]
      const [appended] = await invoke('agent-prompt-events', [
        restEvent('POST', '/agent/sessions/{id}/prompts/{pid}/events', params, {base64: true, body: JSON.stringify({events}), headers: agent}),
      ])
      expect([status(appended), body(appended)]).to.deep.equal([200, {accepted: 2, lastSeq: 2}])
      const [read, huge] = await invoke('get-prompt-events', [
        restEvent('GET', '/sessions/{id}/prompts/{pid}/events', params, {userArn: ALICE, query: {after: '0'}}),
        restEvent('GET', '/sessions/{id}/prompts/{pid}/events', params, {userArn: ALICE, query: {after: '99999999999999999999'}}),
      ])
      expect(status(read)).to.equal(200)
      expect(body(read).items.map((e: {data: unknown}) => e.data)).to.deep.equal(events.map((e) => e.data))
      expect([status(huge), body(huge).error.code]).to.deep.equal([400, 'INVALID_PARAMETER'])
    })

    it('get-prompt-events as a long poll: `wait` from the query string, answered at once when events are there, empty after the wait, a bad wait refused', async () => {
      const params = {id: sessions.first ?? '', pid: sessions.prompt ?? ''}
      const started = performance.now()
      const [ready, waited, clamped, bad] = await invoke('get-prompt-events', [
        restEvent('GET', '/sessions/{id}/prompts/{pid}/events', params, {userArn: ALICE, query: {after: '0', wait: '20'}}),
        restEvent('GET', '/sessions/{id}/prompts/{pid}/events', params, {userArn: ALICE, query: {after: '2', wait: '1'}}),
        restEvent('GET', '/sessions/{id}/prompts/{pid}/events', params, {userArn: ALICE, query: {after: '1', wait: '3600'}}),
        restEvent('GET', '/sessions/{id}/prompts/{pid}/events', params, {userArn: ALICE, query: {after: '0', wait: 'soon'}}),
      ])
      // The events are there (and the last one after seq 1): no wait of 20 s or more happened.
      expect(performance.now() - started).to.be.below(15_000)
      expect([status(ready), body(ready).items.length, body(ready).status]).to.deep.equal([200, 2, 'RUNNING'])
      expect([status(waited), body(waited)]).to.deep.equal([200, {items: [], status: 'RUNNING'}])
      expect([status(clamped), body(clamped).items.map((e: {seq: number}) => e.seq)]).to.deep.equal([200, [2]])
      expect([status(bad), body(bad).error.code]).to.deep.equal([400, 'INVALID_PARAMETER'])
    })

    it('agent-prompt-result, get-prompt, agent-github-token, get-editor, health and stop-session', async () => {
      const params = {id: sessions.first ?? '', pid: sessions.prompt ?? ''}
      const id = {id: sessions.first ?? ''}
      const agent = {Authorization: `Bearer ${sessions.token}`}
      const [result] = await invoke('agent-prompt-result', [
        restEvent('POST', '/agent/sessions/{id}/prompts/{pid}/result', params, {headers: agent, body: JSON.stringify({status: 'SUCCEEDED', summary: 'Added it.', turns: 2})}),
      ])
      expect([status(result), body(result).status]).to.deep.equal([200, 'SUCCEEDED'])
      const [prompt] = await invoke('get-prompt', [restEvent('GET', '/sessions/{id}/prompts/{pid}', params, {userArn: ALICE})])
      expect(body(prompt).result).to.include({summary: 'Added it.', turns: 2})
      const [token] = await invoke('agent-github-token', [restEvent('POST', '/agent/sessions/{id}/github-token', id, {headers: agent})])
      expect(body(token).token).to.match(/^ghs_/)
      const [editor] = await invoke('get-editor', [restEvent('GET', '/sessions/{id}/editor', id, {userArn: ALICE})])
      expect(body(editor)).to.include({status: 'RUNNING', port: 8080})
      expect(body(editor).password).to.be.a('string')
      const [health] = await invoke('health', [restEvent('GET', '/health', null, {userArn: ALICE})])
      expect([status(health), body(health).status], JSON.stringify(body(health))).to.deep.equal([200, 'ok'])
      const [budget] = await invoke('add-session-budget', [restEvent('POST', '/sessions/{id}/budget', id, {userArn: ALICE, body: JSON.stringify({addUsd: 5})})])
      expect(status(budget), JSON.stringify(body(budget))).to.equal(200)
      const [usage] = await invoke('get-usage', [restEvent('GET', '/usage', null, {userArn: ALICE, query: {since: '30d'}})])
      expect(status(usage), JSON.stringify(body(usage))).to.equal(200)
      const [stopped] = await invoke('stop-session', [restEvent('DELETE', '/sessions/{id}', id, {userArn: ALICE})])
      expect([status(stopped), body(stopped).status]).to.deep.equal([200, 'STOPPED'])
    })

    it('agent-save-checkpoint, agent-get-checkpoint and resume-session: the stopped task\'s checkpoint, its conversation through presigned S3 URLs, the resumed task\'s restore', async () => {
      const id = {id: sessions.first ?? ''}
      const checkpoint = (userArn: string, requestBody: Record<string, unknown>) =>
        restEvent('POST', '/agent/sessions/{id}/checkpoint', id, {userArn, base64: true, body: JSON.stringify(requestBody)})
      const request = {branch: `devflow/${sessions.first}`, commit: 'abc1234def', claudeSessionId: '0b6f3c1e-2a4d-4e8f-9c71-5d2e8a1b3f40'}
      const [asUser, saved] = await invoke('agent-save-checkpoint', [checkpoint(ALICE, request), checkpoint(taskRoleCaller(sessions.task ?? ''), request)])
      expect([status(asUser), body(asUser).error.code]).to.deep.equal([403, 'CHECKPOINT_REFUSED'])
      expect(status(saved), JSON.stringify(body(saved))).to.equal(200)
      expect(body(saved).checkpoint).to.include({branch: request.branch, commit: request.commit, conversation: true})
      const upload = body(saved).upload as {url: string; method: string; headers: Record<string, string>}
      expect(upload.method).to.equal('PUT')
      const transcript = Buffer.from('{"type":"user","message":"the conversation"}\n')
      expect((await fetch(upload.url, {method: 'PUT', headers: upload.headers, body: transcript})).status).to.equal(200)

      const [theirs, resumed] = await invoke('resume-session', [
        restEvent('POST', '/sessions/{id}/resume', id, {userArn: BOB, body: '{}'}),
        restEvent('POST', '/sessions/{id}/resume', id, {userArn: ALICE, body: '{}'}),
      ])
      expect([status(theirs), body(theirs).error.code]).to.deep.equal([404, 'SESSION_NOT_FOUND'])
      expect(status(resumed), JSON.stringify(body(resumed))).to.equal(200)
      expect(body(resumed)).to.include({id: sessions.first, status: 'PROVISIONING', resumeCount: 1})
      expect(body(resumed).taskArn).to.be.a('string').and.not.equal(sessions.task)

      const restore = (userArn: string) => restEvent('GET', '/agent/sessions/{id}/checkpoint', id, {userArn})
      const [oldTask, newTask] = await invoke('agent-get-checkpoint', [restore(taskRoleCaller(sessions.task ?? '')), restore(taskRoleCaller(body(resumed).taskArn))])
      expect([status(oldTask), body(oldTask).error.code]).to.deep.equal([403, 'CHECKPOINT_REFUSED'])
      expect(status(newTask), JSON.stringify(body(newTask))).to.equal(200)
      expect(body(newTask).checkpoint).to.include({branch: request.branch, claudeSessionId: request.claudeSessionId})
      const download = await fetch(body(newTask).download.url)
      expect(Buffer.from(await download.arrayBuffer()).equals(transcript)).to.equal(true)
      const [stopped] = await invoke('stop-session', [restEvent('DELETE', '/sessions/{id}', id, {userArn: ALICE})])
      expect(body(stopped).status).to.equal('STOPPED')
    })

    it('test-notification: posts to the stage\'s webhook, signed with the secret it reads from Secrets Manager', async () => {
      const received: Array<{headers: IncomingHttpHeaders; body: string}> = []
      const webhook: Server = createServer((req, res) => {
        const chunks: Buffer[] = []
        req.on('data', (chunk: Buffer) => chunks.push(chunk))
        req.on('end', () => {
          received.push({headers: req.headers, body: Buffer.concat(chunks).toString('utf8')})
          res.writeHead(200).end('ok')
        })
      })
      await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve))
      try {
        const url = `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/hook`
        const env = {[LAMBDA_ENV.notifyWebhook]: url, [LAMBDA_ENV.notifyFormat]: 'json', [LAMBDA_ENV.notifySecret]: NOTIFY_SECRET}
        const [sent, anonymous] = await invoke('test-notification', [restEvent('POST', '/notifications/test', null, {userArn: ALICE}), restEvent('POST', '/notifications/test', null, {userArn: null, noIdentity: true})], env)
        expect(status(sent), JSON.stringify(body(sent))).to.equal(200)
        expect(body(sent)).to.include({delivered: true})
        expect(status(anonymous)).to.equal(401)
      } finally {
        await new Promise<void>((resolve) => webhook.close(() => resolve()))
      }
      expect(received).to.have.length(1)
      const signature = `sha256=${createHmac('sha256', NOTIFY_SIGNING_KEY).update(received[0].body).digest('hex')}`
      expect(received[0].headers['x-devflow-signature-256']).to.equal(signature)
      expect(JSON.parse(received[0].body)).to.include({event: 'test'})
    })

    it('reap-sessions: the scheduled event stops the session past its TTL', async () => {
      await new Promise((resolve) => setTimeout(resolve, 1100))
      const [report] = (await invoke('reap-sessions', [{'detail-type': 'Scheduled Event', source: 'aws.events', detail: {}}])) as Array<{stopped: Array<{sessionId: string}>}>
      expect(report.stopped).to.deep.include({sessionId: sessions.expiring, reason: 'EXPIRED'})
    })

    // The stage keeps a warm pool (devflow:warmTasks above): these functions get the pool's settings, as the stack sets them.
    describe('the warm pool: the keeper\'s task registers as the task role, polls with its token, and is handed the session a start gave it', () => {
      const warmEnv = {[LAMBDA_ENV.warmPoolTable]: TABLE_NAMES.warmPool, [LAMBDA_ENV.warmTasks]: String(WARM_TASKS)}
      const warm: {id?: string; taskArn?: string; pollToken?: string; session?: string; agentToken?: string} = {}
      const warmItem = async (id: string) => (await h.dynamo.send(new GetItemCommand({TableName: TABLE_NAMES.warmPool, Key: {warm_id: {S: id}}, ConsistentRead: true}))).Item
      const claim = (token: string) => restEvent('POST', '/agent/warm/{id}/claim', {id: warm.id ?? ''}, {query: {wait: '0'}, headers: {Authorization: `Bearer ${token}`}})
      before(async () => {
        // The operator's stack creates the table; the fixture's platform has none.
        await createWarmPoolTable(h.dynamo)
      })

      it('reap-sessions with the keeper\'s event: runs one warm task, recorded STARTING', async () => {
        // The reaper function of a stage with a pool has the API's URL, where its warm tasks call back.
        const [report] = (await invoke('reap-sessions', [{task: WARM_POOL_KEEPER_TASK}], {...warmEnv, [LAMBDA_ENV.agentApiUrl]: `https://${API_DOMAIN}/${STAGE}/`})) as Array<{checked: number}>
        // The keeper's event reaps nothing: only the pool is kept.
        expect(report.checked).to.equal(0)
        const items = ((await h.dynamo.send(new ScanCommand({TableName: TABLE_NAMES.warmPool, ConsistentRead: true}))).Items ?? []).filter((i) => i.warm_id?.S?.startsWith('w-'))
        expect(items.map((i) => i.status?.S)).to.deep.equal(['STARTING'])
        warm.id = items[0].warm_id?.S
        warm.taskArn = items[0].task_arn?.S
        const task = await taskOf(warm.taskArn ?? '')
        expect(task?.lastStatus).to.equal('RUNNING')
        const env = await envOf(warm.taskArn ?? '')
        expect(env).to.include({DEVFLOW_WARM_ID: warm.id, DEVFLOW_API_URL: `https://${API_DOMAIN}/${STAGE}`})
        expect(env).not.to.have.property('SESSION_ID')
      })

      it('agent-warm-register: the warm task\'s own task-role session only, once', async () => {
        const register = (userArn: string | null) => restEvent('POST', '/agent/warm/{id}/register', {id: warm.id ?? ''}, {userArn, ...(userArn ? {} : {noIdentity: true})})
        const [anonymous, asUser, asAnotherTask, first, again] = await invoke(
          'agent-warm-register',
          [register(null), register(ALICE), register(taskRoleCaller(sessions.task ?? '')), register(taskRoleCaller(warm.taskArn ?? '')), register(taskRoleCaller(warm.taskArn ?? ''))],
          warmEnv,
        )
        expect([status(anonymous), body(anonymous).error.code]).to.deep.equal([401, 'BOOTSTRAP_PROOF_MISSING'])
        for (const refused of [asUser, asAnotherTask]) expect([status(refused), body(refused).error.code]).to.deep.equal([403, 'WARM_REGISTER_REFUSED'])
        expect(status(first), JSON.stringify(body(first))).to.equal(200)
        expect(body(first).pollToken).to.be.a('string')
        expect(body(first).editorPassword).to.be.a('string')
        expect([status(again), body(again).error.code]).to.deep.equal([409, 'WARM_TASK_REGISTERED'])
        warm.pollToken = body(first).pollToken
        const item = await warmItem(warm.id ?? '')
        expect(item?.status?.S).to.equal('WARM')
        expect(item?.editor_password?.S).to.equal(body(first).editorPassword)
        // Only the token's hash is kept.
        expect(JSON.stringify(item)).not.to.contain(warm.pollToken)
      })

      it('agent-warm-claim: nothing before a start takes the task (204), a wrong token refused', async () => {
        const [empty, wrong] = await invoke('agent-warm-claim', [claim(warm.pollToken ?? ''), claim('not-the-poll-token')], warmEnv)
        expect([status(empty), (empty as Response).body]).to.deep.equal([204, ''])
        expect([status(wrong), body(wrong).error.code]).to.deep.equal([401, 'WARM_TOKEN_INVALID'])
        expect((await warmItem(warm.id ?? ''))?.last_seen_at?.S).to.be.a('string')
      })

      it('start-session takes the warm task (warm: true, no RunTask), and the task\'s next claim is handed the session', async () => {
        const runTasksBefore = apiCalls('RunTask').length
        const [started] = await invoke('start-session', [restEvent('POST', '/sessions', null, {userArn: BOB, body: JSON.stringify({repo: REPO})})], warmEnv)
        expect(status(started), JSON.stringify(body(started))).to.equal(201)
        expect(body(started)).to.include({userId: BOB, status: 'PROVISIONING', taskArn: warm.taskArn})
        // A hit runs no task for the session; the start refills the pool with one warm task in its place.
        const refills = apiCalls('RunTask').slice(runTasksBefore)
        expect(refills).to.have.length(1)
        const refillEnv = (refills[0].request as {overrides: {containerOverrides: Array<{environment?: Array<{name: string; value: string}>}>}}).overrides.containerOverrides[0].environment ?? []
        expect(refillEnv.map((e) => e.name)).to.include('DEVFLOW_WARM_ID').and.not.include('SESSION_ID')
        warm.session = body(started).id
        const stored = (await h.dynamo.send(new GetItemCommand({TableName: h.config.sessionsTable, Key: {session_id: {S: warm.session ?? ''}}, ConsistentRead: true}))).Item
        expect(stored?.warm?.BOOL).to.equal(true)
        expect(stored?.task_arn?.S).to.equal(warm.taskArn)
        const assigned = await warmItem(warm.id ?? '')
        expect([assigned?.status?.S, assigned?.session_id?.S]).to.deep.equal(['ASSIGNED', warm.session])
        // The task now carries its owner and session: the developer role's ECS access follows them.
        const tags = Object.fromEntries(((await h.ecs.send(new ListTagsForResourceCommand({resourceArn: warm.taskArn ?? ''}))).tags ?? []).map((t) => [t.key ?? '', t.value ?? '']))
        expect(tags).to.include({[TASK_TAGS.owner]: BOB, [TASK_TAGS.session]: warm.session})

        const [handedOver] = await invoke('agent-warm-claim', [claim(warm.pollToken ?? '')], warmEnv)
        expect(status(handedOver), JSON.stringify(body(handedOver))).to.equal(200)
        expect(body(handedOver)).to.include({sessionId: warm.session, repo: REPO})
        expect(body(handedOver).githubToken.token).to.match(/^ghs_/)
        expect(body(handedOver).environment).to.include({SESSION_ID: warm.session, REPO: REPO})
        warm.agentToken = body(handedOver).token
        // Handed over once: the record is gone, and the session's agent token is the one the claim answered.
        expect(await warmItem(warm.id ?? '')).to.equal(undefined)
        const [beat] = await invoke('agent-heartbeat', [
          restEvent('POST', '/agent/sessions/{id}/heartbeat', {id: warm.session ?? ''}, {body: '{"state":"idle"}', headers: {Authorization: `Bearer ${warm.agentToken}`}}),
        ])
        expect([status(beat), body(beat)]).to.deep.equal([200, {status: 'RUNNING'}])
        const [stopped] = await invoke('stop-session', [restEvent('DELETE', '/sessions/{id}', {id: warm.session ?? ''}, {userArn: BOB})])
        expect(body(stopped).status).to.equal('STOPPED')
      })
    })
  })

  describe('admin mode: the CLI as a process, as the operator', () => {
    let cli: CliSandbox
    before(async () => {
      cli = await CliSandbox.create()
      // What `devflow deploy` saved for the emulated stage.
      const deployment = h.deployment()
      await mkdir(dirname(cli.configFile), {recursive: true})
      await writeFile(cli.configFile, JSON.stringify({stages: {dev: {deployment}}}))
    })
    after(() => cli?.cleanup())

    it('starts, lists every user\'s sessions page by page, and stops', async () => {
      const env = {AWS_ENDPOINT_URL: h.recorder.url, AWS_ACCESS_KEY_ID: OPERATOR_KEY, AWS_SECRET_ACCESS_KEY: 'secret', AWS_REGION: TEST_REGION}
      const started = await cli.run(['session', 'start', '--admin', '--repo', REPO, '--json'], {env})
      expect(started.exitCode, started.stdout + started.stderr).to.equal(0)
      const id = started.json<{id: string}>().id
      const listed = await cli.run(['session', 'list', '--admin', '--all', '--limit', '1', '--json'], {env})
      expect(listed.exitCode, listed.stdout + listed.stderr).to.equal(0)
      const stopped = await cli.run(['session', 'stop', id, '--admin', '--json'], {env})
      expect(stopped.exitCode, stopped.stdout + stopped.stderr).to.equal(0)
      expect(h.recorder.by(OPERATOR_KEY).map((c) => c.action)).to.include.members(['GetCallerIdentity', 'RunTask', 'StopTask', 'Scan', 'GetSecretValue'])
    })
  })

  describe('IAM: every recorded call is allowed by its role in the synthesized template', () => {
    let resolver: TemplateResolver
    before(async () => {
      resolver = new TemplateResolver(await template, {
        region: TEST_REGION,
        account: TEST_ACCOUNT,
        names: {WorkspacesCluster: CLUSTER, ConversationsBucket: CONVERSATIONS_BUCKET},
        arns: {
          SecretsGithubApp: h.secrets.githubApp,
          SecretsPageTokenKey: h.secrets.pageTokenKey,
          WorkspacesTaskRole: TASK_ROLES.task,
          WorkspacesExecutionRole: TASK_ROLES.execution,
          ConversationsKey: h.secrets.conversationsKey,
        },
      })
    })

    const denials = (calls: AwsCall[], statements: Statement[], extra: Partial<CallContext> = {}) =>
      calls
        .flatMap((call) =>
          iamRequests(call, {
            region: TEST_REGION,
            account: TEST_ACCOUNT,
            taskDefinitionRoles: [TASK_ROLES.execution, TASK_ROLES.task],
            bucketKeys: {[CONVERSATIONS_BUCKET]: h.secrets.conversationsKey},
            ...extra,
          }),
        )
        .map((request) => ({request, why: denial(statements, request)}))
        .filter((d) => d.why !== undefined)
        .map(({request, why}) => `${request.from}: ${request.action} on ${request.resource} ${JSON.stringify(request.context)}: ${why}`)

    it('each function\'s calls, by the role it runs with (GET /health\'s DescribeClusters included)', () => {
      const actions = new Set<string>()
      // list-repositories answers from its settings alone: it makes no AWS call to check.
      for (const entry of lambdas.entries.filter((e) => e !== 'list-repositories')) {
        const calls = h.recorder.by(keyOf(entry))
        expect(calls, `${entry} made no AWS call`).not.to.deep.equal([])
        for (const call of calls) actions.add(`${entry} ${call.action}`)
        const role = resolver.roleOfFunction(`ControlPlane${functionId(entry)}`)
        expect(denials(calls, resolver.statementsOfRole(role)), `${entry} (${role})`).to.deep.equal([])
      }
      expect([...actions]).to.include.members(['agent-save-checkpoint PutObject', 'agent-get-checkpoint HeadObject', 'agent-get-checkpoint GetObject', 'resume-session RunTask', 'health DescribeClusters', 'start-session RunTask', 'stop-session StopTask', 'get-session DescribeTasks', 'agent-prompt-events TransactWriteItems', 'list-sessions GetSecretValue', 'reap-sessions Scan', 'test-notification GetSecretValue', 'reap-sessions RunTask', 'agent-warm-register UpdateItem', 'agent-warm-claim DeleteItem', 'start-session TagResource'])
    })

    it('the CLI\'s admin-mode calls, by the operator role', () => {
      expect(denials(h.recorder.by(OPERATOR_KEY), resolver.statementsOfRole('AccessOperator'))).to.deep.equal([])
    })

    // `session open` as a developer: DescribeTasks (the container's runtime id) and SSM StartSession
    // on the ECS Exec target. moto implements neither StartSession nor runtime ids, so DescribeTasks
    // is sent to moto through the recorder and StartSession is the request port-forward.ts builds.
    it('the developer role: session open reaches the caller\'s own task, never another owner\'s', async () => {
      const taskArn = sessions.task ?? ''
      const taskId = taskArn.split('/').at(-1) ?? ''
      const ecs = new ECSClient({region: TEST_REGION, endpoint: h.recorder.url, credentials: {accessKeyId: DEVELOPER_KEY, secretAccessKey: 'secret'}, maxAttempts: 1})
      await ecs.send(new DescribeTasksCommand({cluster: CLUSTER, tasks: [taskArn]}))
      const tags = Object.fromEntries(((await ecs.send(new ListTagsForResourceCommand({resourceArn: taskArn}))).tags ?? []).map((t) => [t.key ?? '', t.value ?? '']))
      ecs.destroy()
      expect(tags[TASK_TAGS.owner], 'the task carries its owner').to.equal(ALICE)
      const startSession: AwsCall = {
        accessKey: DEVELOPER_KEY,
        service: 'ssm',
        action: 'StartSession',
        request: {Target: `ecs:${CLUSTER}_${taskId}_${taskId}-0`, DocumentName: 'AWS-StartPortForwardingSession', Parameters: {portNumber: ['8080'], localPortNumber: ['8080']}},
        status: 200,
      }
      const calls = [...h.recorder.by(DEVELOPER_KEY).filter((c) => c.action === 'DescribeTasks'), startSession]
      expect(calls.map((c) => c.action)).to.deep.equal(['DescribeTasks', 'StartSession'])
      const statements = resolver.statementsOfRole('AccessDeveloper')
      const resourceTags = (arn: string) => (arn === taskArn ? tags : undefined)
      // The role's trust policy makes whoever assumes it carry their user name as session name and as this tag.
      const as = (sessionName?: string): Partial<CallContext> => ({resourceTags, principal: sessionName ? {[`aws:PrincipalTag/${DEVELOPER_SESSION_TAG}`]: sessionName} : {}})
      expect(denials(calls, statements, as('alice@example.com')), 'the owner').to.deep.equal([])
      const asBob = denials(calls, statements, as('bob@example.com'))
      expect(asBob, 'another developer').to.have.length(2)
      expect(asBob.join('\n')).to.contain('ecs:DescribeTasks').and.contain(`ssm:StartSession on ${taskArn}`)
      expect(denials(calls, statements, as()), 'a session without the tag').to.have.length(2)
      // The session document alone is no way in: without the task the session cannot start.
      expect(asBob.join('\n')).not.to.contain('document/AWS-StartPortForwardingSession')
    })

    it('the evaluator refuses what the role does not grant', () => {
      const statements = resolver.statementsOfRole('ControlPlaneFunctionRole')
      const deleteItem: AwsCall = {accessKey: 'x', service: 'dynamodb', action: 'DeleteItem', request: {TableName: 'devflow-sessions'}, status: 200}
      const otherCluster: AwsCall = {accessKey: 'x', service: 'ecs', action: 'StopTask', request: {cluster: 'other', task: 'abc'}, status: 200}
      const githubKeyOfAnotherStack: AwsCall = {accessKey: 'x', service: 'secretsmanager', action: 'GetSecretValue', request: {SecretId: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:other-AbCdEf'}, status: 200}
      const outsideThePrefix: AwsCall = {accessKey: 'x', service: 's3', action: 'GetObject', request: {Bucket: CONVERSATIONS_BUCKET, Key: 'elsewhere/secret.txt'}, status: 200}
      // A task tagged after its start: the owner and session tags only (a warm task's hand-over).
      const retag = (keys: string[]): AwsCall => ({accessKey: 'x', service: 'ecs', action: 'TagResource', request: {resourceArn: `arn:aws:ecs:${TEST_REGION}:${TEST_ACCOUNT}:task/${CLUSTER}/abc`, tags: keys.map((key) => ({key, value: 'v'}))}, status: 200})
      const anotherTag = retag([TASK_TAGS.owner, 'devflow:admin'])
      expect(denials([retag([TASK_TAGS.owner, TASK_TAGS.session])], statements)).to.deep.equal([])
      expect(denials([deleteItem, otherCluster, githubKeyOfAnotherStack, outsideThePrefix, anotherTag], statements)).to.have.length(5)
    })
  })

  describe('RunTask requests', () => {
    const runTasks = () => apiCalls('RunTask').map((c) => c.request as {overrides: {memory?: string; containerOverrides: Array<{memory?: number; environment?: Array<{name: string; value: string}>}>}; tags?: Array<{key: string; value: string}>; propagateTags?: string})

    it('propagate the task definition\'s tags and tag the task with its session', () => {
      expect(runTasks()).to.have.length.greaterThan(0)
      for (const request of runTasks()) {
        expect(request.propagateTags).to.equal('TASK_DEFINITION')
        expect(request.tags?.map((t) => t.key)).to.include('devflow:session')
      }
    })

    // Defect 4 of issue 11: the agent token and editor password come from the bootstrap call.
    it('carry no secret in the overrides, and tag the task with its owner (issue 11, defect 4)', () => {
      for (const request of runTasks()) {
        const names = request.overrides.containerOverrides.flatMap((o) => o.environment ?? []).map((e) => e.name)
        expect(names).not.to.include.oneOf(['DEVFLOW_SESSION_TOKEN', 'EDITOR_PASSWORD', 'ANTHROPIC_API_KEY'])
        expect(request.tags?.map((t) => t.key)).to.include('devflow:owner')
      }
    })

    // Defect 2 of issue 11: the container follows the session's size.
    it('size the container with the session (issue 11, defect 2)', () => {
      const request = runTasks()[0]
      expect(request.overrides.memory).to.equal('2048')
      expect(request.overrides.containerOverrides[0].memory).to.equal(2048)
    })
  })
})
