import {readFile} from 'node:fs/promises'

import {Args, Flags} from '@oclif/core'

import {claudeApiKeyValue, githubAppSecretValue, SecretsAdmin, type SecretStatus, webhookSecretValue} from '../../adapters/aws/secrets-admin.js'
import {BaseCommand} from '../../cli/base-command.js'
import {invalidInput} from '../../core/errors.js'
import {resolveDataDir} from '../../local/command-support.js'
import {LOCAL_STAGE} from '../../local/paths.js'
import {setLocalSecret} from '../../local/secrets.js'

const SECRETS = ['github-app', 'claude-api-key'] as const

export default class SecretsSet extends BaseCommand<typeof SecretsSet> {
  static summary = 'Write the GitHub App credentials or the Claude API key'
  static description =
    'github-app: --app-id, --private-key-file and optionally --installation-id and --webhook-secret-file; the key is checked to be an RSA PEM before anything is written. --webhook-secret-file alone adds or replaces the webhook secret of the App already set; a new key without it keeps the stored webhook secret. claude-api-key: the key is read from stdin, or asked for without echo on a terminal; never from the command line.'
  static examples = [
    '<%= config.bin %> secrets set github-app --app-id 123456 --private-key-file ./devflow.private-key.pem',
    '<%= config.bin %> secrets set github-app --webhook-secret-file ./webhook-secret',
    '<%= config.bin %> secrets set claude-api-key < ~/.anthropic-key',
  ]
  static args = {name: Args.string({description: 'which secret', options: [...SECRETS], required: true})}
  static flags = {
    'app-id': Flags.string({description: 'GitHub App ID (github-app)'}),
    'private-key-file': Flags.string({description: 'the GitHub App\'s private key, a .pem file (github-app)'}),
    'installation-id': Flags.string({description: 'installation id, when the app is installed once (github-app)'}),
    'webhook-secret-file': Flags.string({description: "a file holding the GitHub App's webhook secret, one line (github-app)"}),
  }

  async run(): Promise<SecretStatus> {
    if ((await this.stage()) === LOCAL_STAGE) return this.setLocal()
    const admin = await SecretsAdmin.create(await this.awsEnvironment())
    try {
      const status = this.args.name === 'github-app' ? await this.putGithubApp(admin) : await admin.putClaudeApiKey(claudeApiKeyValue(await this.readKey()))
      this.terminal.print(`Set ${status.name}.`)
      return status
    } finally {
      admin.close()
    }
  }

  /** The local platform keeps its secrets in its data dir; it uses your own GitHub token, not an App. */
  private async setLocal(): Promise<SecretStatus> {
    if (this.args.name !== 'claude-api-key') {
      throw invalidInput(
        'NOT_FOR_LOCAL_STAGE',
        'The local platform does not use a GitHub App.',
        'It uses your own token: set GITHUB_TOKEN (or log in with `gh auth login`) before `devflow local up`.',
      )
    }
    const dataDir = resolveDataDir(undefined, await this.configFile())
    setLocalSecret(dataDir, 'claude-api-key', claudeApiKeyValue(await this.readKey()))
    this.terminal.print('Set claude-api-key for the local platform.')
    return {key: 'claudeApiKey', name: 'claude-api-key', exists: true, set: true, updatedAt: new Date().toISOString()}
  }

  private async putGithubApp(admin: SecretsAdmin): Promise<SecretStatus> {
    const webhookSecret = await this.webhookSecret()
    if (webhookSecret !== undefined && !this.flags['app-id'] && !this.flags['private-key-file'] && !this.flags['installation-id']) {
      return admin.putGithubWebhookSecret(webhookSecret)
    }
    return admin.putGithubApp({...(await this.githubApp()), ...(webhookSecret === undefined ? {} : {webhookSecret})})
  }

  private async webhookSecret(): Promise<string | undefined> {
    const file = this.flags['webhook-secret-file']
    if (file === undefined) return undefined
    return webhookSecretValue(await readFlagFile(file, 'Check the path of the webhook secret file.'))
  }

  private async githubApp() {
    const appId = this.flags['app-id']
    const file = this.flags['private-key-file']
    if (!appId || !file) {
      throw invalidInput('MISSING_FLAGS', 'github-app needs --app-id and --private-key-file.', 'Run `devflow secrets set github-app --app-id 123456 --private-key-file key.pem`.')
    }
    const privateKeyPem = await readFlagFile(file, 'Check the path of the .pem file.')
    return githubAppSecretValue({appId, privateKeyPem, installationId: this.flags['installation-id']})
  }

  private async readKey(): Promise<string> {
    if (this.flags['app-id'] || this.flags['private-key-file'] || this.flags['installation-id'] || this.flags['webhook-secret-file']) {
      throw invalidInput('UNEXPECTED_FLAGS', 'claude-api-key takes no --app-id, --private-key-file, --installation-id or --webhook-secret-file.', 'Pipe the key on stdin: `devflow secrets set claude-api-key < key.txt`.')
    }
    if (!process.stdin.isTTY) {
      const chunks: Buffer[] = []
      for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk))
      return Buffer.concat(chunks).toString('utf8')
    }
    if (!this.canPrompt()) {
      throw invalidInput('KEY_REQUIRED', 'No Claude API key on stdin, and this command may not prompt.', 'Pipe the key on stdin: `devflow secrets set claude-api-key < key.txt`.')
    }
    const {password} = await import('@inquirer/prompts')
    return password({message: 'Claude API key', mask: false}, {output: process.stderr})
  }
}

async function readFlagFile(file: string, hint: string): Promise<string> {
  try {
    return await readFile(file, 'utf8')
  } catch (error) {
    throw invalidInput('FILE_UNREADABLE', `Cannot read ${file}: ${(error as Error).message}`, hint, {cause: error})
  }
}
