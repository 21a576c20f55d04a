import type {AwsEnvironment} from '../adapters/aws/environment.js'
import {getCallerIdentity} from '../adapters/aws/identity.js'
import {SecretsAdmin} from '../adapters/aws/secrets-admin.js'
import {openDeliveryStore} from '../composition/aws.js'
import {githubCheck, githubStatus} from '../operations/github-status.js'
import {toolVersion} from '../adapters/host/tool-version.js'
import {BaseCommand} from '../cli/base-command.js'
import {ConfigFile, configPath, resolveSettings} from '../cli/config.js'
import {LOCAL_STAGE} from '../adapters/local/paths.js'
import {DEFAULT_LOCAL_EGRESS, parseEgressPolicy} from '../core/egress-policy.js'
import {egressCheck} from '../operations/egress-check.js'
import type {CheckResult} from '../operations/doctor.js'
import {doctorLines} from '../cli/doctor-format.js'
import {openSessionClient} from '../cli/session-client.js'
import {type DoctorReport, runDoctor} from '../operations/doctor.js'

export default class Doctor extends BaseCommand<typeof Doctor> {
  static summary = 'Check that this machine can deploy DevFlow and run sessions'
  static description = 'Checks Node.js, AWS credentials (STS), the Docker engine, session-manager-plugin, the config file and, for a deployed stage, the GitHub webhooks (App, webhook secret, last deliveries) and whether the stage\'s egress is filtered (and with which list) or open. Exits 0 only when no check failed.'
  static examples = ['<%= config.bin %> doctor', '<%= config.bin %> doctor --profile prod --json']

  async run(): Promise<DoctorReport> {
    const aws = await this.awsEnvironmentEvenWithBrokenConfig()
    const github = await this.githubCheckOfDeployedStage(aws)
    const egress = await this.egressCheckOfStage()
    const warmPool = await this.warmPoolOfDeployedStage(aws)
    const report = await runDoctor({
      nodeVersion: process.versions.node,
      configPath: configPath(),
      loadConfig: (path) => ConfigFile.load(path),
      callerIdentity: () => getCallerIdentity(aws),
      dockerEngineVersion: () => toolVersion('docker', ['version', '--format', '{{.Server.Version}}']),
      sessionManagerPluginVersion: () => toolVersion('session-manager-plugin', ['--version']),
      ...(github ? {githubWebhooks: github} : {}),
      ...(egress ? {egress} : {}),
      ...(warmPool ? {warmPool} : {}),
    })
    for (const line of doctorLines(report)) this.terminal.print(line)
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

  /**
   * The egress policy of the stage: the local stage's `egress` setting (or its default), or the
   * EgressPolicy output `devflow deploy` saved for a deployed stage; undefined when neither is known.
   */
  private async egressCheckOfStage(): Promise<(() => CheckResult) | undefined> {
    let stage: string
    let config: ConfigFile
    try {
      stage = await this.stage()
      config = await this.configFile()
    } catch {
      return undefined
    }
    if (stage === LOCAL_STAGE) {
      const setting = resolveSettings(config, {stage}, process.env).egress?.value
      return () => egressCheck({stage, enforcer: 'session-proxy', policy: setting ? parseEgressPolicy(setting) : DEFAULT_LOCAL_EGRESS})
    }
    const saved = config.getStageData(stage, 'deployment')?.egress
    return saved ? () => egressCheck({stage, enforcer: 'dns-firewall', policy: parseEgressPolicy(saved)}) : undefined
  }

  /** The stage API's health (SigV4, or the local token), for its warm pool; undefined without a deployed or local stage. */
  private async warmPoolOfDeployedStage(aws: AwsEnvironment) {
    let stage: string
    let config: ConfigFile
    try {
      stage = await this.stage()
      config = await this.configFile()
    } catch {
      return undefined
    }
    if (!config.getStageData(stage, 'deployment')?.apiUrl) return undefined
    const endpoint = await this.setting('endpoint')
    const userAgent = `devflow-cli/${this.config.version}`
    return async () => {
      const client = await openSessionClient({admin: false, stage, endpoint, config, aws, userAgent, adminApi: () => Promise.reject(new Error('doctor uses the API'))})
      return (await client.api.health()).warmPool
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
