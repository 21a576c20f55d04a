import {getCallerIdentity} from '../adapters/aws/identity.js'
import {toolVersion} from '../adapters/host/tool-version.js'
import {BaseCommand} from '../cli/base-command.js'
import {ConfigFile, configPath} from '../cli/config.js'
import {doctorLines} from '../cli/doctor-format.js'
import {type DoctorReport, runDoctor} from '../operations/doctor.js'

export default class Doctor extends BaseCommand<typeof Doctor> {
  static summary = 'Check that this machine can deploy DevFlow and run sessions'
  static description = 'Checks Node.js, AWS credentials (STS), the Docker engine, session-manager-plugin and the config file. Exits 0 only when no check failed.'
  static examples = ['<%= config.bin %> doctor', '<%= config.bin %> doctor --profile prod --json']

  async run(): Promise<DoctorReport> {
    const aws = await this.awsEnvironmentEvenWithBrokenConfig()
    const report = await runDoctor({
      nodeVersion: process.versions.node,
      configPath: configPath(),
      loadConfig: (path) => ConfigFile.load(path),
      callerIdentity: () => getCallerIdentity(aws),
      dockerEngineVersion: () => toolVersion('docker', ['version', '--format', '{{.Server.Version}}']),
      sessionManagerPluginVersion: () => toolVersion('session-manager-plugin', ['--version']),
    })
    for (const line of doctorLines(report)) this.terminal.print(line)
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
