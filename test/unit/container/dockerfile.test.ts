import {expect} from 'chai'
import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'

import {EDITOR_PORT} from '../../../src/core/deployment.js'
import {ROOT} from '../../helpers/cli.js'

const CONTAINER_DIR = join(ROOT, 'container')

interface Instruction {
  readonly keyword: string
  readonly args: string
}

/** Dockerfile instructions with continuation lines joined and comments dropped. */
function parseDockerfile(text: string): Instruction[] {
  const logical: string[] = []
  let current = ''
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    if (current === '' && (line === '' || line.startsWith('#'))) continue
    if (line.startsWith('#')) continue
    if (line.endsWith('\\')) {
      current += `${line.slice(0, -1)} `
      continue
    }
    logical.push(current + line)
    current = ''
  }
  return logical.map((line) => {
    const [keyword, ...rest] = line.split(/\s+/)
    return {keyword: keyword.toUpperCase(), args: rest.join(' ')}
  })
}

/** ARG defaults declared anywhere in the file. */
function argDefaults(instructions: Instruction[]): Map<string, string> {
  const defaults = new Map<string, string>()
  for (const {keyword, args} of instructions.filter((i) => i.keyword === 'ARG')) {
    const [name, value = ''] = args.split('=')
    if (keyword === 'ARG') defaults.set(name, value)
  }
  return defaults
}

/** The names set by ENV, in both `ENV A=1 B=2` and `ENV A 1` forms. */
function envNames(instructions: Instruction[]): string[] {
  return instructions
    .filter((i) => i.keyword === 'ENV')
    .flatMap(({args}) => (args.includes('=') ? [...args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=/g)].map((m) => m[1]) : [args.split(/\s+/)[0]]))
}

describe('container/Dockerfile', () => {
  const instructions = parseDockerfile(readFileSync(join(CONTAINER_DIR, 'Dockerfile'), 'utf8'))
  const defaults = argDefaults(instructions)
  const expand = (value: string) => value.replace(/\$\{(\w+)(:[+-][^}]*\})?\}?/g, (_, name: string) => defaults.get(name) ?? '')

  it('builds on code-server pinned to an exact version, with a digest argument', () => {
    // The base images are build arguments (stand-ins where Docker Hub is out of reach): their defaults.
    const bases = instructions.filter((i) => i.keyword === 'FROM').map((i) => i.args.split(/\s+/)[0]).map((base) => /^\$\{(\w+)\}$/.exec(base)?.[1]).map((name) => defaults.get(name ?? '') ?? '')
    const final = bases.at(-1) ?? ''
    expect(final).to.match(/^codercom\/code-server:\$\{CODE_SERVER_VERSION\}/)
    expect(final).to.contain('CODE_SERVER_DIGEST')
    expect(defaults.get('CODE_SERVER_VERSION')).to.match(/^\d+\.\d+\.\d+$/)
    expect(defaults.has('CODE_SERVER_DIGEST')).to.equal(true)
    for (const base of bases) {
      const image = expand(base)
      expect(image, base).to.match(/:[\w.-]*\d+\.\d+\.\d+[\w.-]*/)
      expect(image, base).not.to.match(/:latest\b/)
    }
  })

  it('pins the Claude Code CLI and Node to exact versions', () => {
    expect(defaults.get('CLAUDE_CODE_VERSION')).to.match(/^\d+\.\d+\.\d+$/)
    expect(defaults.get('NODE_VERSION')).to.match(/^\d+\.\d+\.\d+$/)
    const installs = instructions.filter((i) => i.keyword === 'RUN' && i.args.includes('@anthropic-ai/claude-code'))
    expect(installs).to.have.length(1)
    expect(installs[0].args).to.contain('@anthropic-ai/claude-code@${CLAUDE_CODE_VERSION}')
  })

  it('ends as the non-root user coder', () => {
    const users = instructions.filter((i) => i.keyword === 'USER').map((i) => i.args)
    expect(users.at(-1)).to.equal('coder')
    expect(['root', '0']).not.to.include(users.at(-1))
  })

  it('declares no secret-looking ENV or ARG', () => {
    const names = [...envNames(instructions), ...defaults.keys()]
    expect(names.length).to.be.greaterThan(3)
    for (const name of names) expect(name, name).not.to.match(/SECRET|TOKEN|PASSWORD|PASSWD|API_KEY|PRIVATE|CREDENTIAL/i)
  })

  it('exposes the editor port of the task definition and checks /healthz on it', () => {
    expect(instructions.filter((i) => i.keyword === 'EXPOSE').map((i) => i.args)).to.deep.equal([String(EDITOR_PORT)])
    const healthchecks = instructions.filter((i) => i.keyword === 'HEALTHCHECK')
    expect(healthchecks).to.have.length(1)
    expect(healthchecks[0].args).to.contain(`127.0.0.1:${EDITOR_PORT}/healthz`)
  })

  it('runs the entrypoint under dumb-init so signals reach the scripts', () => {
    const entrypoint = instructions.filter((i) => i.keyword === 'ENTRYPOINT').at(-1)
    expect(JSON.parse(entrypoint?.args ?? '[]')).to.deep.equal(['/usr/bin/dumb-init', '--', '/opt/devflow/entrypoint.sh'])
  })

  it('copies only files that exist, after the slow layers', () => {
    const copies = instructions.filter((i) => i.keyword === 'COPY' && !i.args.includes('--from'))
    const sources = copies.flatMap((c) => c.args.split(/\s+/).filter((a) => !a.startsWith('--')).slice(0, -1))
    expect(sources).to.include.members(['lib/', 'entrypoint.sh', 'ai-workflow.sh', 'devflow-git-credential'])
    for (const source of sources) expect(existsSync(join(CONTAINER_DIR, source)), source).to.equal(true)
    const index = (i: Instruction) => instructions.indexOf(i)
    const lastInstall = Math.max(...instructions.filter((i) => i.keyword === 'RUN' && /apt-get|npm install/.test(i.args)).map(index))
    for (const copy of copies) expect(index(copy)).to.be.greaterThan(lastInstall)
  })
})
