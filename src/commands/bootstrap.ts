import {getCallerIdentity} from '../adapters/aws/identity.js'
import {requireRegion} from '../adapters/aws/environment.js'
import {BaseCommand} from '../cli/base-command.js'
import {progressSink} from '../cli/platform-flags.js'
import {type BootstrapOutcome, Platform} from '../adapters/cdk/toolkit.js'

export default class Bootstrap extends BaseCommand<typeof Bootstrap> {
  static summary = 'Prepare an AWS account and region for deploying DevFlow (CDK bootstrap)'
  static description = 'Creates or updates the CDKToolkit stack (asset bucket, image repository, deploy roles). `devflow deploy` does this by itself when it is missing.'
  static examples = ['<%= config.bin %> bootstrap --region eu-west-1', '<%= config.bin %> bootstrap --profile prod-admin --stage prod']

  async run(): Promise<BootstrapOutcome> {
    const aws = await this.awsEnvironment()
    const region = requireRegion(aws)
    const platform = new Platform({stage: await this.stage(), aws, progress: progressSink(this.terminal)})
    const identity = await getCallerIdentity(aws)
    await this.terminal.startProgress(`Bootstrapping aws://${identity.account}/${region}`)
    const outcome = await platform.bootstrap(identity.account, region)
    this.terminal.stopProgress()
    this.terminal.print(`Bootstrapped ${outcome.environment}.`)
    return outcome
  }
}
