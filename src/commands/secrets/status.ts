import {SecretsAdmin, type SecretStatus} from '../../adapters/aws/secrets-admin.js'
import {BaseCommand} from '../../cli/base-command.js'
import {paint, relativeTime, table} from '../../cli/output.js'
import {stageSecretsStatus} from '../../operations/stage-secrets.js'

export default class SecretsStatus extends BaseCommand<typeof SecretsStatus> {
  static summary = 'Show which DevFlow secrets are set (never their values)'
  static examples = ['<%= config.bin %> secrets status', '<%= config.bin %> secrets status --json']

  async run(): Promise<{secrets: SecretStatus[]}> {
    const secrets = await stageSecretsStatus({openAdmin: async () => SecretsAdmin.create(await this.awsEnvironment())})
    this.terminal.print(
      table(
        ['secret', 'state', 'updated'],
        secrets.map((s) => [s.name, s.set ? paint('set', 'green') : paint(s.exists ? 'not set' : 'missing (deploy first)', 'yellow'), s.updatedAt ? relativeTime(s.updatedAt) : '']),
      ),
    )
    return {secrets}
  }
}
