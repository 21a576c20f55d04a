import {BaseCommand} from '../cli/base-command.js'
import {type CheckStatus, type DoctorReport, runDoctor} from '../operations/doctor.js'
import {paint, type Style} from '../cli/output.js'

const STYLES: Record<CheckStatus, Style> = {PASS: 'green', WARN: 'yellow', FAIL: 'red'}

export default class Doctor extends BaseCommand<typeof Doctor> {
  static summary = 'Check that this machine can deploy DevFlow and run sessions'
  static description = 'Checks Node.js, AWS credentials (STS), the Docker engine, session-manager-plugin and the config file. Exits 0 only when no check failed.'
  static examples = ['<%= config.bin %> doctor', '<%= config.bin %> doctor --profile prod --json']

  async run(): Promise<DoctorReport> {
    const report = await runDoctor(await this.awsEnvironmentEvenWithBrokenConfig())
    for (const check of report.checks) {
      this.terminal.print(`${paint(check.status.padEnd(4), STYLES[check.status])}  ${check.name.padEnd(22)} ${check.message}`)
      if (check.hint && check.status !== 'PASS') this.terminal.print(`      ${' '.repeat(22)} ${paint(`Try this: ${check.hint}`, 'dim')}`)
    }
    process.exitCode = report.exitCode
    return report
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
