import {SecretsAdmin} from '../adapters/aws/secrets-admin.js'
import {BaseCommand} from '../cli/base-command.js'
import {openDeliveryStore} from '../composition/aws.js'
import type {AwsEnvironment} from '../adapters/aws/environment.js'
import {githubCheck, githubStatus} from '../operations/github-status.js'
import {type CheckStatus, type DoctorReport, runDoctor} from '../operations/doctor.js'
import {paint, type Style} from '../cli/output.js'

const STYLES: Record<CheckStatus, Style> = {PASS: 'green', WARN: 'yellow', FAIL: 'red'}

export default class Doctor extends BaseCommand<typeof Doctor> {
  static summary = 'Check that this machine can deploy DevFlow and run sessions'
  static description = 'Checks Node.js, AWS credentials (STS), the Docker engine, session-manager-plugin, the config file and, for a deployed stage, the GitHub webhooks (App, webhook secret, last deliveries). Exits 0 only when no check failed.'
  static examples = ['<%= config.bin %> doctor', '<%= config.bin %> doctor --profile prod --json']

  async run(): Promise<DoctorReport> {
    const env = await this.awsEnvironmentEvenWithBrokenConfig()
    const report = await runDoctor(env, undefined, await this.githubCheckOfDeployedStage(env))
    for (const check of report.checks) {
      this.terminal.print(`${paint(check.status.padEnd(4), STYLES[check.status])}  ${check.name.padEnd(22)} ${check.message}`)
      if (check.hint && check.status !== 'PASS') this.terminal.print(`      ${' '.repeat(22)} ${paint(`Try this: ${check.hint}`, 'dim')}`)
    }
    process.exitCode = report.exitCode
    return report
  }

  /** `devflow github status` as a check, for a stage that `devflow deploy` saved; undefined otherwise. */
  private async githubCheckOfDeployedStage(env: AwsEnvironment) {
    let stage: string
    let deployment
    try {
      stage = await this.stage()
      deployment = (await this.configFile()).getStageData(stage, 'deployment')
    } catch {
      return undefined // the config check reports a broken config file
    }
    if (!deployment?.apiUrl) return undefined
    const apiUrl = deployment.apiUrl
    return async () => {
      const admin = await SecretsAdmin.create(env)
      const deliveries = await openDeliveryStore(env, deployment)
      try {
        return githubCheck(await githubStatus({stage, apiUrl, readApp: () => admin.githubAppSummary(), recentDeliveries: (limit) => deliveries.store.recent(limit)}))
      } finally {
        admin.close()
        deliveries.close()
      }
    }
  }

  /** A corrupt config file is one of the things doctor reports, so it must not stop the other checks. */
  private async awsEnvironmentEvenWithBrokenConfig() {
    try {
      return await this.awsEnvironment()
    } catch {
      return {region: this.flags.region ?? process.env.DEVFLOW_REGION, profile: this.flags.profile ?? process.env.DEVFLOW_PROFILE}
    }
  }
}
