import type {BootstrapOutcome} from '../adapters/cdk/toolkit.js'
import {PlatformCommand} from '../cli/platform-command.js'

export default class Bootstrap extends PlatformCommand<typeof Bootstrap> {
  static summary = 'Prepare an AWS account and region for deploying DevFlow (CDK bootstrap)'
  static description = 'Creates or updates the CDKToolkit stack (asset bucket, image repository, deploy roles). `devflow deploy` does this by itself when it is missing.'
  static examples = ['<%= config.bin %> bootstrap --region eu-west-1', '<%= config.bin %> bootstrap --profile prod-admin --stage prod']

  async run(): Promise<BootstrapOutcome> {
    const outcome = await (await this.platformStack()).bootstrap(await this.stage())
    this.terminal.print(`Bootstrapped ${outcome.environment}.`)
    return outcome
  }
}
