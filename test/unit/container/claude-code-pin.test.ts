import {expect} from 'chai'
import {readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'

import {ROOT} from '../../helpers/cli.js'
import {pinnedClaudeCodeVersion} from '../../helpers/claude-code.js'

const FIXTURES = join(ROOT, 'container', 'test', 'fixtures', 'claude-stream')

describe('the Claude Code CLI pin (container/CLAUDE_CODE_VERSION)', () => {
  const version = pinnedClaudeCodeVersion()

  it('is one exact version', () => {
    expect(version).to.match(/^\d+\.\d+\.\d+$/)
  })

  it('is the default of the Dockerfile build argument', () => {
    const dockerfile = readFileSync(join(ROOT, 'container', 'Dockerfile'), 'utf8')
    const defaults = [...dockerfile.matchAll(/^ARG CLAUDE_CODE_VERSION=(\S+)$/gm)].map((match) => match[1])
    expect(defaults).to.deep.equal([version])
  })

  it('is the version the stub replays: every recorded run came from it', () => {
    const recorded = JSON.parse(readFileSync(join(FIXTURES, 'recorded.json'), 'utf8')) as {claudeCodeVersion: string; cases: Record<string, unknown>}
    expect(recorded.claudeCodeVersion).to.equal(version)
    const streams = readdirSync(FIXTURES).filter((name) => name.endsWith('.jsonl'))
    expect(streams.map((name) => name.replace(/\.jsonl$/, ''))).to.have.members(Object.keys(recorded.cases))
    for (const name of streams) {
      const init = JSON.parse(readFileSync(join(FIXTURES, name), 'utf8').split('\n')[0]) as {type: string; subtype: string; claude_code_version: string}
      expect([init.type, init.subtype, init.claude_code_version], name).to.deep.equal(['system', 'init', version])
    }
  })

  it('is the version the README names', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8').replace(/\s+/g, ' ')
    expect(readme).to.contain(`\`container/CLAUDE_CODE_VERSION\` (today ${version})`)
  })
})
