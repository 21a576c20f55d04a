import {Flags} from '@oclif/core'

import {DockerCli} from '../../adapters/docker/docker-cli.js'
import {type BuildResult, buildWorkspaceImage, DEFAULT_PLATFORM} from '../../operations/workspace-image.js'
import {BaseCommand} from '../../cli/base-command.js'

export default class ImageBuild extends BaseCommand<typeof ImageBuild> {
  static summary = 'Build the workspace container image with Docker'
  static description =
    'Builds container/ (code-server, Claude Code and the agent loop) as devflow-workspace:<tag>. The tag defaults to the git commit of the DevFlow checkout (short sha, with -dirty for uncommitted changes). Needs a running Docker engine.'

  static examples = ['<%= config.bin %> image build', '<%= config.bin %> image build --tag v1.2.0 --platform linux/arm64']
  static flags = {
    tag: Flags.string({description: 'image tag [default: the git commit]'}),
    platform: Flags.string({description: 'target platform', default: DEFAULT_PLATFORM}),
    'build-arg': Flags.string({description: 'a Docker build argument NAME=VALUE, e.g. CODE_SERVER_DIGEST=sha256:...', multiple: true}),
  }

  async run(): Promise<BuildResult> {
    await this.terminal.startProgress('Building the workspace image')
    const result = await buildWorkspaceImage(new DockerCli(), {
      tag: this.flags.tag,
      platform: this.flags.platform,
      buildArgs: this.flags['build-arg'],
      onOutput: (line) => {
        if (line.trim() !== '') this.terminal.updateProgress(`Building: ${line.trim().slice(0, 100)}`)
      },
    })
    this.terminal.stopProgress(`Built ${result.image} (${result.platform})`)
    this.terminal.print(result.image)
    this.terminal.note(`Next: devflow image push${this.flags.tag ? ` --tag ${result.tag}` : ''}`)
    return result
  }
}
