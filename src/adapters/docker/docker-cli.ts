/**
 * The Docker CLI through execa. Only the calls `devflow image build|push` need; a registry password
 * is only ever written to `docker login --password-stdin`, never put on a command line.
 * Docker's own messages have no error codes, so failures are classified by which step failed and
 * by exit status, and docker's last lines travel in the message.
 */
import {execa} from 'execa'

import {type DevflowError, notFound, remoteFailure, unavailable} from '../../core/errors.js'

export interface BuildOptions {
  readonly context: string
  readonly tag: string
  readonly platform: string
  readonly buildArgs?: readonly string[]
  /** Called with each line docker prints, for progress display. */
  readonly onOutput?: (line: string) => void
}

interface Run {
  readonly exitCode: number
  readonly output: string
}

const ENGINE_HINT = 'Start Docker (Docker Desktop, or `sudo systemctl start docker`) and run the command again; `devflow doctor` checks it.'

/** The last lines of what docker printed, for an error message. */
function tail(output: string, lines = 12): string {
  return output.trim().split('\n').slice(-lines).join('\n')
}

export class DockerCli {
  constructor(
    private readonly binary = 'docker',
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  /** The engine's version; a DevflowError (exit 7) when docker is missing or no engine answers. */
  async engineVersion(): Promise<string> {
    const result = await this.run(['version', '--format', '{{.Server.Version}}'])
    if (result.exitCode !== 0) {
      throw unavailable('DOCKER_ENGINE_DOWN', `No Docker engine answers: ${tail(result.output, 3)}`, ENGINE_HINT)
    }
    return result.output.trim()
  }

  async build(options: BuildOptions): Promise<void> {
    const args = ['build', '--platform', options.platform, '--tag', options.tag]
    for (const buildArg of options.buildArgs ?? []) args.push('--build-arg', buildArg)
    args.push(options.context)
    await this.step(
      args,
      (output, code) =>
        remoteFailure('DOCKER_BUILD_FAILED', `docker build failed (exit ${code}):\n${tail(output)}`, 'Fix the build error above and run `devflow image build` again.'),
      undefined,
      options.onOutput,
    )
  }

  async imageExists(reference: string): Promise<boolean> {
    return (await this.run(['image', 'inspect', '--format', '{{.Id}}', reference])).exitCode === 0
  }

  async tag(source: string, target: string): Promise<void> {
    await this.step(['tag', source, target], (output, code) =>
      remoteFailure('DOCKER_TAG_FAILED', `docker tag ${source} ${target} failed (exit ${code}): ${tail(output, 3)}`, 'Check the image name and the Docker engine, then try again.'),
    )
  }

  async login(registry: string, username: string, password: string): Promise<void> {
    await this.step(
      ['login', '--username', username, '--password-stdin', registry],
      (output, code) =>
        remoteFailure('DOCKER_LOGIN_FAILED', `docker login to ${registry} failed (exit ${code}): ${tail(output, 3)}`, 'Check your network and that your AWS identity may call ecr:GetAuthorizationToken, then try again.'),
      password,
    )
  }

  /** Pushes and returns the digest docker reported, when it printed one. */
  async push(reference: string): Promise<string | undefined> {
    const output = await this.step(['push', reference], (out, code) =>
      remoteFailure('DOCKER_PUSH_FAILED', `docker push ${reference} failed (exit ${code}):\n${tail(out)}`, 'Check your network and that your AWS identity may push to the ECR repository, then try again.'),
    )
    return /digest: (sha256:[0-9a-f]{64})/.exec(output)?.[1]
  }

  private async step(
    args: string[],
    failure: (output: string, exitCode: number) => DevflowError,
    input?: string,
    onOutput?: (line: string) => void,
  ): Promise<string> {
    const result = await this.run(args, input, onOutput)
    if (result.exitCode !== 0) throw failure(result.output, result.exitCode)
    return result.output
  }

  private async run(args: string[], input?: string, onOutput?: (line: string) => void): Promise<Run> {
    const subprocess = execa(this.binary, args, {
      env: this.env,
      extendEnv: false,
      input: input ?? '',
      all: true,
      reject: false,
      stripFinalNewline: false,
    })
    if (onOutput) {
      // Progress only: the output is buffered as well, and a failure to start shows in the result.
      try {
        for await (const line of subprocess.iterable({from: 'all'})) onOutput(line)
      } catch {
        // reported by the result below
      }
    }
    const result = await subprocess
    if ((result as {code?: string}).code === 'ENOENT') {
      throw unavailable('DOCKER_MISSING', `The ${this.binary} command is not installed (or not on PATH).`, `Install Docker and start its engine. ${ENGINE_HINT}`)
    }
    return {exitCode: result.exitCode ?? 1, output: String(result.all ?? '')}
  }
}

export function isNotBuilt(reference: string): DevflowError {
  return notFound('IMAGE_NOT_BUILT', `There is no local image ${reference}.`, 'Run `devflow image build` first (with the same --tag), then push.')
}
