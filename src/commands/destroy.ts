import {PlatformCommand} from '../cli/platform-command.js'

export default class Destroy extends PlatformCommand<typeof Destroy> {
  static summary = 'Delete the DevFlow platform stack of a stage'
  static description =
    'Deletes the devflow-<stage> stack. In prod the tables, secrets, image repository and buckets are retained (infra/stages.ts); in dev they are deleted with the stack. Asks for confirmation; pass --yes when not interactive.'
  static examples = ['<%= config.bin %> destroy --stage dev', '<%= config.bin %> destroy --stage dev --yes --json']

  async run(): Promise<{stackName: string; stage: string; retainedData: boolean}> {
    return (await this.platformStack()).destroy(await this.stage())
  }
}
