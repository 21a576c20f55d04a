import {Args, Flags} from '@oclif/core'

import {SecretsAdmin, type SecretStatus} from '../../adapters/aws/secrets-admin.js'
import {BaseCommand} from '../../cli/base-command.js'
import {LOCAL_STAGE} from '../../adapters/local/paths.js'
import {resolveDataDir} from '../../cli/local-flags.js'
import {secretInput} from '../../cli/secret-input.js'
import {SECRET_NAMES, setStageSecret} from '../../operations/stage-secrets.js'

export default class SecretsSet extends BaseCommand<typeof SecretsSet> {
  static summary = 'Write the GitHub App credentials or the Claude API key'
  static description =
    'github-app: --app-id, --private-key-file and optionally --installation-id and --webhook-secret-file; the key is checked to be an RSA PEM before anything is written. --webhook-secret-file alone adds or replaces the webhook secret of the App already set (on the local stage: the secret the local server checks webhooks with); a new key without it keeps the stored webhook secret. claude-api-key: the key is read from stdin, or asked for without echo on a terminal; never from the command line.'
  static examples = [
    '<%= config.bin %> secrets set github-app --app-id 123456 --private-key-file ./devflow.private-key.pem',
    '<%= config.bin %> secrets set github-app --webhook-secret-file ./webhook-secret',
    '<%= config.bin %> secrets set claude-api-key < ~/.anthropic-key',
  ]
  static args = {name: Args.string({description: 'which secret', options: [...SECRET_NAMES], required: true})}
  static flags = {
    'app-id': Flags.string({description: 'GitHub App ID (github-app)'}),
    'private-key-file': Flags.string({description: 'the GitHub App\'s private key, a .pem file (github-app)'}),
    'installation-id': Flags.string({description: 'installation id, when the app is installed once (github-app)'}),
    'webhook-secret-file': Flags.string({description: "a file holding the GitHub App's webhook secret, one line (github-app)"}),
  }

  async run(): Promise<SecretStatus> {
    const stage = await this.stage()
    const deps = {openAdmin: async () => SecretsAdmin.create(await this.awsEnvironment()), localDataDir: async () => resolveDataDir(undefined, await this.configFile())}
    const name = this.args.name as (typeof SECRET_NAMES)[number]
    const status = await setStageSecret(deps, stage, name, secretInput(this.flags, () => this.canPrompt()))
    this.terminal.print(stage === LOCAL_STAGE ? `Set ${status.name} for the local platform.` : `Set ${status.name}.`)
    return status
  }
}
