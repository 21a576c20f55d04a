import {Flags} from '@oclif/core'

import {DockerCli} from '../../adapters/docker/docker-cli.js'
import {type PushedImage, pushWorkspaceImage} from '../../operations/workspace-image.js'
import {BaseCommand} from '../../cli/base-command.js'
import {notFound} from '../../core/errors.js'
import {WORKSPACE_CONTAINER_NAME} from '../../core/deployment.js'

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
    const stage = await this.stage()
    const config = await this.configFile()
    const deployment = config.getStageData(stage, 'deployment') ?? {}
    const repositoryUri = this.flags.repository ?? deployment.ecrRepositoryUri
    if (!repositoryUri) {
      throw notFound(
        'ECR_REPOSITORY_UNKNOWN',
        `No ECR repository is known for the stage "${stage}".`,
        `Run \`devflow deploy --stage ${stage}\` first, or pass --repository <uri>.`,
      )
    }
    await this.terminal.startProgress('Pushing the workspace image')
    const pushed = await pushWorkspaceImage(new DockerCli(), await this.awsEnvironment(), {
      repositoryUri,
      tag: this.flags.tag,
      taskDefinition: deployment.taskDefinition,
      containerName: deployment.containerName ?? WORKSPACE_CONTAINER_NAME,
      progress: (step) => this.terminal.updateProgress(step),
    })
    const {imageUri: _imageUri, ...recorded} = pushed
    config.setStageData(stage, 'image', {...recorded})
    await config.save()
    this.terminal.stopProgress(`Pushed ${pushed.repository}:${pushed.tag}`)
    this.terminal.print(pushed.imageUri)
    this.terminal.note(
      pushed.taskDefinition ? `New sessions use it: ${pushed.taskDefinition}` : 'No deployment is known for this stage: run `devflow deploy` to use the image.',
    )
    return pushed
  }
}
