import {Flags} from '@oclif/core'

import {EcrRegistry, type EcrRepository} from '../../adapters/aws/ecr.js'
import {EcsTaskDefinitions} from '../../adapters/aws/task-definition-image.js'
import {DockerCli} from '../../adapters/docker/docker-cli.js'
import {BaseCommand} from '../../cli/base-command.js'
import {type PushedImage, pushStageImage} from '../../operations/workspace-image.js'

export default class ImagePush extends BaseCommand<typeof ImagePush> {
  static summary = "Push the workspace image to the stage's ECR repository"
  static description =
    'Tags devflow-workspace:<tag> into the ECR repository of the deployment (or --repository), logs in with an ECR token passed on stdin, pushes, and records the digest in the config. When the stage is deployed, the task definition is registered again with the pushed digest, so new sessions use it without a redeploy.'

  static examples = ['<%= config.bin %> image push', '<%= config.bin %> image push --stage prod --tag v1.2.0']
  static flags = {
    tag: Flags.string({description: 'image tag to push [default: the git commit]'}),
    repository: Flags.string({description: 'ECR repository URI [default: from `devflow deploy`]'}),
  }

  async run(): Promise<PushedImage> {
    const aws = await this.awsEnvironment()
    const deps = {
      docker: new DockerCli(),
      openRegistry: (repository: EcrRepository) => EcrRegistry.open(aws, repository),
      openTaskDefinitions: (repository: EcrRepository) => EcsTaskDefinitions.open({...aws, region: aws.region ?? repository.region}),
      config: await this.configFile(),
    }
    const request = {stage: await this.stage(), tag: this.flags.tag, repository: this.flags.repository, progress: (step: string) => this.terminal.updateProgress(step)}
    await this.terminal.startProgress('Pushing the workspace image')
    const pushed = await pushStageImage(deps, request)
    this.terminal.stopProgress(`Pushed ${pushed.repository}:${pushed.tag}`)
    this.terminal.print(pushed.imageUri)
    this.terminal.note(
      pushed.taskDefinition ? `New sessions use it: ${pushed.taskDefinition}` : 'No deployment is known for this stage: run `devflow deploy` to use the image.',
    )
    return pushed
  }
}
