import {SecretsAdmin} from '../../adapters/aws/secrets-admin.js'
import {BaseCommand} from '../../cli/base-command.js'
import {paint, relativeTime, table} from '../../cli/output.js'
import {LOCAL_STAGE} from '../../adapters/local/paths.js'
import {resolveDataDir} from '../../cli/local-flags.js'
import {openDeliveryStore} from '../../composition/aws.js'
import {openLocalGithubStatus} from '../../composition/local.js'
import {type GithubStatus, githubStatus} from '../../operations/github-status.js'

export default class GithubStatusCommand extends BaseCommand<typeof GithubStatusCommand> {
  static summary = 'Show whether the stage takes work from GitHub: the App, the webhook URL and secret, the last deliveries'
  static description =
    'The webhook URL is what to paste into the GitHub App\'s settings (the API\'s URL + /github/webhook). The App needs the events Issues, Issue comment, Pull request and Pull request review comment, and the permissions Contents, Issues and Pull requests (write) and Metadata (read).'
  static examples = ['<%= config.bin %> github status', '<%= config.bin %> github status --stage prod --json']

  async run(): Promise<GithubStatus> {
    const stage = await this.stage()
    if (stage === LOCAL_STAGE) return this.local()
    const env = await this.awsEnvironment()
    const deployment = (await this.configFile()).getStageData(stage, 'deployment')
    const admin = await SecretsAdmin.create(env)
    const deliveries = await openDeliveryStore(env, deployment)
    try {
      const status = await githubStatus({
        stage,
        ...(deployment?.apiUrl ? {apiUrl: deployment.apiUrl} : {}),
        readApp: () => admin.githubAppSummary(),
        recentDeliveries: (limit) => deliveries.store.recent(limit),
      })
      this.print(status)
      return status
    } finally {
      admin.close()
      deliveries.close()
    }
  }

  /** The local platform: no App (the user's own token answers), the local secret, the deliveries in its database. */
  private async local(): Promise<GithubStatus> {
    const config = await this.configFile()
    const local = openLocalGithubStatus(resolveDataDir(undefined, config))
    try {
      const apiUrl = config.getStageData(LOCAL_STAGE, 'deployment')?.apiUrl
      const status = await githubStatus({stage: LOCAL_STAGE, ...(apiUrl ? {apiUrl} : {}), readApp: async () => ({set: false, webhookSecretSet: local.webhookSecretSet}), recentDeliveries: local.recentDeliveries})
      this.print(status)
      return status
    } finally {
      local.close()
    }
  }

  private print(status: GithubStatus): void {
    const yes = (ok: boolean, text: string) => (ok ? paint(text, 'green') : paint(text, 'yellow'))
    const local = status.stage === LOCAL_STAGE
    const app = local ? 'none: the local platform answers with your own GitHub token (GITHUB_TOKEN or `gh auth token`)' : status.app.set ? yes(true, `set (app id ${status.app.appId})`) : yes(false, 'not set: `devflow secrets set github-app ...`')
    this.terminal.print(`App:            ${app}`)
    this.terminal.print(`Webhook URL:    ${status.webhook.url ?? paint(local ? 'not started yet: `devflow local up`' : 'not deployed yet: `devflow deploy`', 'yellow')}`)
    this.terminal.print(`Webhook secret: ${yes(status.webhook.secretSet, status.webhook.secretSet ? 'set' : `not set: \`devflow secrets set github-app --webhook-secret-file FILE${local ? ' --stage local' : ''}\``)}`)
    this.terminal.print(`Events:         ${status.events.join(', ')}`)
    this.terminal.print(`Permissions:    ${Object.entries(status.permissions).map(([k, v]) => `${k}: ${v}`).join(', ')}`)
    if (status.deliveries.length === 0) {
      this.terminal.print('Deliveries:     none yet')
      return
    }
    this.terminal.print('')
    this.terminal.print(table(['received', 'event', 'repo', 'status', 'outcome', 'detail'], status.deliveries.map((d) => [relativeTime(d.receivedAt), d.action ? `${d.event}.${d.action}` : d.event, d.repo ?? '', d.status, d.outcome ?? '', d.detail ?? ''])))
  }
}
