/**
 * Records what the pinned Claude Code CLI prints (`-p --output-format stream-json --verbose`) in
 * each case the agent loop handles, into container/test/fixtures/claude-stream/, for the stub
 * `claude` of the bats tests to replay. Run after changing container/CLAUDE_CODE_VERSION:
 *
 *   npx tsx test/fakes/record-claude-fixtures.ts
 *
 * The CLI talks to the scripted Messages API (anthropic-messages-api.ts). Paths, the session id and
 * the API's address become placeholders (@CWD@, @HOME@, @SESSION_ID@, @API_HOST@) that the stub
 * fills in; everything else is byte for byte what the CLI printed. recorded.json keeps the CLI
 * version and each case's exit status and environment.
 */
import {spawn} from 'node:child_process'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {ROOT} from '../helpers/cli.js'
import {ensureClaudeCode} from '../helpers/claude-code.js'
import {apiError, FakeMessagesApi, reply, text, toolUse, type ScriptedReply} from './anthropic-messages-api.js'

const FIXTURE_DIR = join(ROOT, 'container', 'test', 'fixtures', 'claude-stream')

interface Case {
  readonly name: string
  readonly script?: readonly ScriptedReply[]
  readonly fallback?: ScriptedReply
  readonly args?: readonly string[]
  readonly env?: Readonly<Record<string, string>>
  /** Point the CLI at a closed port instead of the fake. */
  readonly unreachable?: boolean
  /** Send TERM once the CLI has printed this many lines. */
  readonly killAfterLines?: number
}

const CASES: readonly Case[] = [
  {
    name: 'success',
    script: [reply(text('Writing the file.'), toolUse('Write', {file_path: 'devflow-fixture.txt', content: 'fixture content\n'})), reply(text('Created devflow-fixture.txt.'))],
  },
  {name: 'max-turns', args: ['--max-turns', '1'], fallback: reply(toolUse('Bash', {command: 'echo fixture', description: 'Print a word'}))},
  {name: 'budget', args: ['--max-budget-usd', '0.001'], fallback: reply(toolUse('Bash', {command: 'echo fixture', description: 'Print a word'}))},
  {name: 'api-400', fallback: apiError(400, 'messages.0.content: Input should be a valid list'), env: {CLAUDE_CODE_MAX_RETRIES: '2'}},
  {name: 'api-401', fallback: apiError(401), env: {CLAUDE_CODE_MAX_RETRIES: '2'}},
  {name: 'api-403', fallback: apiError(403), env: {CLAUDE_CODE_MAX_RETRIES: '2'}},
  {name: 'api-429', fallback: apiError(429), env: {CLAUDE_CODE_MAX_RETRIES: '2'}},
  {name: 'api-529', fallback: apiError(529), env: {CLAUDE_CODE_MAX_RETRIES: '2'}},
  {name: 'network', unreachable: true, env: {CLAUDE_CODE_MAX_RETRIES: '1'}},
  {name: 'killed', fallback: {kind: 'hang'}, killAfterLines: 1},
]

interface Recorded {
  readonly exitCode: number | null
  readonly signal: string | null
  readonly env: Readonly<Record<string, string>>
  readonly args: readonly string[]
}

async function record(bin: string, version: string): Promise<void> {
  mkdirSync(FIXTURE_DIR, {recursive: true})
  const summary: Record<string, Recorded> = {}
  for (const testCase of CASES) {
    const fake = await FakeMessagesApi.start()
    if (testCase.script) fake.setScript(...testCase.script)
    if (testCase.fallback) fake.fallback = testCase.fallback
    const root = mkdtempSync(join(tmpdir(), 'devflow-fixture-'))
    const cwd = join(root, 'demo')
    const home = join(root, 'home')
    mkdirSync(cwd)
    mkdirSync(home)
    const baseUrl = testCase.unreachable ? 'http://127.0.0.1:9' : fake.url
    const args = ['-p', '--output-format', 'stream-json', '--verbose', '--model', 'sonnet', '--permission-mode', 'acceptEdits', '--allowedTools', 'Bash,Read,Edit,Write,NotebookEdit', ...(testCase.args ?? ['--max-turns', '10'])]
    const child = spawn(bin, args, {
      cwd,
      env: {PATH: process.env.PATH, HOME: home, ANTHROPIC_API_KEY: 'sk-ant-fixture', ANTHROPIC_BASE_URL: baseUrl, DISABLE_AUTOUPDATER: '1', CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1', ...testCase.env},
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    child.stdin.end('Create devflow-fixture.txt')
    let out = ''
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8')
      if (testCase.killAfterLines && out.split('\n').length > testCase.killAfterLines) setTimeout(() => child.kill('SIGTERM'), 1000)
    })
    const [exitCode, signal] = await new Promise<[number | null, string | null]>((resolve) => child.on('close', (code, sig) => resolve([code, sig])))
    await fake.close()
    const sessionId = /"session_id":"([^"]+)"/.exec(out)?.[1] ?? '@SESSION_ID@'
    const host = new URL(baseUrl).host
    const normalised = out
      .split(cwd).join('@CWD@')
      .split(home).join('@HOME@')
      .split(sessionId).join('@SESSION_ID@')
      .split(host).join('@API_HOST@')
    writeFileSync(join(FIXTURE_DIR, `${testCase.name}.jsonl`), normalised)
    summary[testCase.name] = {exitCode, signal, env: testCase.env ?? {}, args}
    rmSync(root, {recursive: true, force: true})
    console.log(`${testCase.name}: exit ${exitCode ?? signal}, ${normalised.split('\n').filter(Boolean).length} lines`)
  }
  writeFileSync(join(FIXTURE_DIR, 'recorded.json'), `${JSON.stringify({claudeCodeVersion: version, recordedAt: new Date().toISOString(), cases: summary}, null, 2)}\n`)
}

const install = await ensureClaudeCode()
if ('skipped' in install) {
  console.error(install.skipped)
  process.exit(1)
}
await record(install.bin, install.version)
