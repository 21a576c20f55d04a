/** The values `devflow secrets set` writes: a .pem file named by flags, or a key on stdin (or typed without echo). */
import {readFile} from 'node:fs/promises'

import {githubAppSecretValue, webhookSecretValue} from '../adapters/aws/secrets-admin.js'
import {invalidInput} from '../core/errors.js'
import type {SecretInput} from '../operations/stage-secrets.js'

export interface SecretFlags {
  readonly 'app-id'?: string
  readonly 'private-key-file'?: string
  readonly 'installation-id'?: string
  readonly 'webhook-secret-file'?: string
}

async function readFlagFile(file: string, hint: string): Promise<string> {
  try {
    return await readFile(file, 'utf8')
  } catch (error) {
    throw invalidInput('FILE_UNREADABLE', `Cannot read ${file}: ${(error as Error).message}`, hint, {cause: error})
  }
}

export function secretInput(flags: SecretFlags, canPrompt: () => boolean): SecretInput {
  return {
    async githubApp() {
      const appId = flags['app-id']
      const file = flags['private-key-file']
      if (!appId || !file) {
        throw invalidInput('MISSING_FLAGS', 'github-app needs --app-id and --private-key-file.', 'Run `devflow secrets set github-app --app-id 123456 --private-key-file key.pem`.')
      }
      const privateKeyPem = await readFlagFile(file, 'Check the path of the .pem file.')
      return githubAppSecretValue({appId, privateKeyPem, installationId: flags['installation-id']})
    },

    hasAppCredentials: () => Boolean(flags['app-id'] || flags['private-key-file'] || flags['installation-id']),

    async webhookSecret() {
      const file = flags['webhook-secret-file']
      if (file === undefined) return undefined
      return webhookSecretValue(await readFlagFile(file, 'Check the path of the webhook secret file.'))
    },

    async claudeApiKey() {
      if (flags['app-id'] || flags['private-key-file'] || flags['installation-id'] || flags['webhook-secret-file']) {
        throw invalidInput('UNEXPECTED_FLAGS', 'claude-api-key takes no --app-id, --private-key-file, --installation-id or --webhook-secret-file.', 'Pipe the key on stdin: `devflow secrets set claude-api-key < key.txt`.')
      }
      if (!process.stdin.isTTY) {
        const chunks: Buffer[] = []
        for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk))
        return Buffer.concat(chunks).toString('utf8')
      }
      if (!canPrompt()) {
        throw invalidInput('KEY_REQUIRED', 'No Claude API key on stdin, and this command may not prompt.', 'Pipe the key on stdin: `devflow secrets set claude-api-key < key.txt`.')
      }
      const {password} = await import('@inquirer/prompts')
      return password({message: 'Claude API key', mask: false}, {output: process.stderr})
    },
  }
}
