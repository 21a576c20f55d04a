/**
 * The pinned Claude Code CLI for the tests: the version from container/CLAUDE_CODE_VERSION (the one
 * place the pin lives), installed from the npm registry into a cache directory outside
 * node_modules (so `npm ci` keeps it) and reused by every later run. The package ships its native
 * binary through optional dependencies (`@anthropic-ai/claude-code-linux-x64`, ...), which its
 * postinstall copies over `bin/claude.exe`.
 */
import {existsSync, mkdirSync, readFileSync} from 'node:fs'
import {homedir} from 'node:os'
import {join} from 'node:path'

import {execa} from 'execa'

import {ROOT} from './cli.js'

export const CLAUDE_CODE_PACKAGE = '@anthropic-ai/claude-code'

export function pinnedClaudeCodeVersion(): string {
  return readFileSync(join(ROOT, 'container', 'CLAUDE_CODE_VERSION'), 'utf8').trim()
}

/** Where the pinned CLI is installed: $DEVFLOW_CLAUDE_CODE_CACHE, else ~/.cache/devflow. */
export function claudeCodeCacheDir(version = pinnedClaudeCodeVersion()): string {
  const base = process.env.DEVFLOW_CLAUDE_CODE_CACHE || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'devflow')
  return join(base, `claude-code-${version}`)
}

export type ClaudeCodeInstall = {readonly bin: string; readonly version: string} | {readonly skipped: string}

let installing: Promise<ClaudeCodeInstall> | undefined

/** The pinned CLI's binary, installing it on first use; `skipped` only when the registry cannot be reached. */
export function ensureClaudeCode(): Promise<ClaudeCodeInstall> {
  installing ??= install()
  return installing
}

async function install(): Promise<ClaudeCodeInstall> {
  const version = pinnedClaudeCodeVersion()
  const dir = claudeCodeCacheDir(version)
  const bin = join(dir, 'node_modules', '@anthropic-ai', 'claude-code', 'bin', 'claude.exe')
  if (await answersVersion(bin, version)) return {bin, version}
  mkdirSync(dir, {recursive: true})
  const result = await execa('npm', ['install', '--prefix', dir, '--no-audit', '--no-fund', '--no-save', '--loglevel=error', `${CLAUDE_CODE_PACKAGE}@${version}`], {
    reject: false,
    timeout: 300_000,
    env: {npm_config_update_notifier: 'false'},
  })
  if (result.exitCode !== 0) {
    const output = `${result.stderr}\n${result.stdout}`
    if (/ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|ECONNRESET|network/i.test(output)) {
      return {skipped: `the npm registry is unreachable, so ${CLAUDE_CODE_PACKAGE}@${version} cannot be installed: ${output.trim().split('\n').at(-1)}`}
    }
    throw new Error(`npm install ${CLAUDE_CODE_PACKAGE}@${version} failed:\n${output}`)
  }
  if (!(await answersVersion(bin, version))) {
    throw new Error(`${bin} was installed but does not answer --version with ${version} (the native binary of the optional dependency may be missing for ${process.platform}-${process.arch})`)
  }
  return {bin, version}
}

async function answersVersion(bin: string, version: string): Promise<boolean> {
  if (!existsSync(bin)) return false
  const result = await execa(bin, ['--version'], {reject: false, timeout: 30_000})
  return result.exitCode === 0 && result.stdout.startsWith(`${version} `)
}
