/**
 * The local platform's secret store: `<data dir>/secrets.json`, readable by the owner only. It holds
 * what Secrets Manager holds for a deployed stage; today the Claude API key
 * (`devflow secrets set claude-api-key --stage local` calls setLocalSecret).
 */
import {chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync} from 'node:fs'

import {internalError, invalidInput} from '../../core/errors.js'
import {LocalPaths} from './paths.js'

/**
 * `notify-webhook-secret` signs the notification webhook's body (README "Guardrails");
 * `github-webhook-secret` is what the local server checks GitHub webhooks' X-Hub-Signature-256 with.
 */
export const LOCAL_SECRET_NAMES = ['claude-api-key', 'notify-webhook-secret', 'github-webhook-secret'] as const
export type LocalSecretName = (typeof LOCAL_SECRET_NAMES)[number]

function readAll(paths: LocalPaths): Record<string, string> {
  if (!existsSync(paths.secrets)) return {}
  try {
    return JSON.parse(readFileSync(paths.secrets, 'utf8')) as Record<string, string>
  } catch (error) {
    throw internalError('LOCAL_SECRETS_CORRUPT', `${paths.secrets} is not valid JSON.`, 'Delete the file and set the secrets again with `devflow secrets set … --stage local`.', {cause: error})
  }
}

export function getLocalSecret(dataDir: string, name: LocalSecretName): string | undefined {
  return readAll(new LocalPaths(dataDir))[name]
}

/** Stores a secret for the local stage (owner-only file, replaced atomically). */
export function setLocalSecret(dataDir: string, name: string, value: string): void {
  if (!(LOCAL_SECRET_NAMES as readonly string[]).includes(name)) {
    throw invalidInput('UNKNOWN_SECRET', `"${name}" is not a secret of the local platform.`, `Use one of: ${LOCAL_SECRET_NAMES.join(', ')}.`)
  }
  if (value.trim() === '') throw invalidInput('SECRET_EMPTY', `The value of ${name} is empty.`, 'Pass the value on stdin or as the argument.')
  const paths = new LocalPaths(dataDir)
  mkdirSync(paths.dataDir, {recursive: true, mode: 0o700})
  const next = {...readAll(paths), [name]: value.trim()}
  const temporary = `${paths.secrets}.${process.pid}.tmp`
  writeFileSync(temporary, JSON.stringify(next, undefined, 2), {mode: 0o600})
  chmodSync(temporary, 0o600)
  renameSync(temporary, paths.secrets)
}

/** The Claude API key the workspaces get: the environment's, else the local secret store's. */
export function claudeApiKey(dataDir: string, env: NodeJS.ProcessEnv): string | undefined {
  return env.ANTHROPIC_API_KEY || getLocalSecret(dataDir, 'claude-api-key')
}
