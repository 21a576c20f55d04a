/**
 * The workspace image, built for real (bench/image-build.sh: buildah on Debian stand-ins for the
 * base images), run as a `devflow local --runtime docker` session: `docker` is
 * test/fakes/docker-via-buildah, so the entrypoint, code-server's stand-in and the image's own
 * Claude Code CLI run in the built file system (`buildah run`), against the scripted Messages API.
 * Skipped, with the reason, where the image has not been built (no buildah, not root).
 */
import {execFileSync} from 'node:child_process'
import {chmodSync, readdirSync, statSync} from 'node:fs'
import {mkdir, mkdtemp, readFile, rm, symlink, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {expect} from 'chai'

import {FakeMessagesApi, reply, text, toolUse} from '../fakes/anthropic-messages-api.js'
import {git} from '../helpers/agent-workspace.js'
import {CliSandbox, ROOT} from '../helpers/cli.js'
import {freePort} from '../helpers/moto.js'

const IMAGE = 'localhost/devflow-workspace:standin'
const BUILDAH_ROOT = process.env.DEVFLOW_BUILDAH_ROOT || '/var/tmp/devflow-buildah'

interface Prompt {
  id: string
  status: string
  result?: {branch?: string; commit?: string; summary: string}
}

function whyNot(): string | undefined {
  // An image left in buildah's storage by an earlier build is of an older tree: only the image built
  // in this run (.ci/run with DEVFLOW_CI_IMAGE_BUILD=1, or by hand with that variable) is tested.
  if (process.env.DEVFLOW_CI_IMAGE_BUILD !== '1') return 'DEVFLOW_CI_IMAGE_BUILD=1 is not set (bench/image-build.sh builds the image first)'
  if (process.getuid?.() !== 0) return 'buildah with vfs storage needs root here'
  try {
    execFileSync('buildah', ['--root', join(BUILDAH_ROOT, 'storage'), '--runroot', join(BUILDAH_ROOT, 'run'), '--storage-driver', 'vfs', 'inspect', '--type', 'image', IMAGE], {stdio: 'ignore'})
  } catch {
    return `the image ${IMAGE} is not built (run bench/image-build.sh; needs apt-get install buildah mmdebstrap)`
  }
  return undefined
}

function chmodTree(path: string): void {
  const directory = statSync(path).isDirectory()
  chmodSync(path, directory ? 0o777 : 0o666)
  if (directory) for (const name of readdirSync(path)) chmodTree(join(path, name))
}

describe('the workspace image built with buildah, as a local session', function () {
  this.timeout(300_000)
  let anthropic: FakeMessagesApi
  let cli: CliSandbox
  let dir: string
  let env: Record<string, string>

  const run = (args: string[]) => cli.run(args, {env, timeout: 180_000})

  before(async function () {
    const reason = whyNot()
    if (reason) {
      console.log(`    skipped: ${reason}`)
      this.skip()
    }
    anthropic = await FakeMessagesApi.start()
    cli = await CliSandbox.create()
    dir = await mkdtemp(join(tmpdir(), 'devflow-image-session-'))
    const bin = join(dir, 'bin')
    await mkdir(bin)
    await symlink(join(ROOT, 'test', 'fakes', 'docker-via-buildah'), join(bin, 'docker'))
    env = {
      PATH: `${bin}:${process.env.PATH}`,
      ANTHROPIC_API_KEY: 'sk-ant-image-test',
      ANTHROPIC_BASE_URL: anthropic.url,
      DOCKER_SHIM_PASS_ENV: 'ANTHROPIC_BASE_URL POLL_WAIT_SECONDS EVENT_FLUSH_INTERVAL_SECONDS GIT_CONFIG_GLOBAL CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC',
      // The CLI's telemetry and update checks would leave the machine: tests talk to loopback only.
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
      DOCKER_SHIM_STATE: join(dir, 'docker-shim'),
      DEVFLOW_BUILDAH_ROOT: BUILDAH_ROOT,
      DEVFLOW_POLL_INTERVAL_MS: '500',
      POLL_WAIT_SECONDS: '2',
      EVENT_FLUSH_INTERVAL_SECONDS: '0.5',
      GITHUB_TOKEN: '',
    }
  })

  after(async function () {
    if (cli) {
      await run(['local', 'down'])
      await cli.cleanup()
    }
    await anthropic?.close()
    if (dir && !process.env.KEEP_IMAGE_SESSION_DIR) await rm(dir, {recursive: true, force: true})
  })

  it('runs a prompt from inside the image: its Claude Code CLI writes, the agent commits and pushes', async function () {
    const bare = join(dir, 'app.git')
    const work = join(dir, 'app')
    git(['init', '--quiet', '--bare', '--initial-branch=main', bare])
    git(['clone', '--quiet', bare, work])
    await writeFile(join(work, 'README.md'), '# app\n')
    git(['add', 'README.md'], work)
    git(['-c', 'user.name=Dev', '-c', 'user.email=dev@example.com', 'commit', '--quiet', '-m', 'initial'], work)
    git(['push', '--quiet', 'origin', 'main'], work)
    // The image's user (coder, uid 1000) clones and pushes it: writable for it, and trusted by its git
    // although another user owns it. Only global config can say so (a local clone's upload-pack
    // drops -c and GIT_CONFIG_*), and only the repository is mounted: the file lives in it.
    await writeFile(join(bare, 'devflow-test-gitconfig'), '[safe]\n\tdirectory = *\n')
    env.GIT_CONFIG_GLOBAL = join(bare, 'devflow-test-gitconfig')
    chmodTree(bare)

    const up = await run(['local', 'up', '--port', String(await freePort()), '--runtime', 'docker', '--json'])
    expect(up.exitCode, up.stderr).to.equal(0)
    expect(up.json()).to.include({runtime: 'docker'})
    const start = await run(['session', 'start', '--stage', 'local', '--repo', bare, '--wait', '--timeout', '150s', '--json'])
    expect(start.exitCode, `${start.stdout}\n${start.stderr}`).to.equal(0)
    const session = start.json<{id: string; status: string}>()
    expect(session.status).to.equal('RUNNING')

    anthropic.setScript(reply(text('Writing it.'), toolUse('Write', {file_path: 'from-the-image.txt', content: 'written inside the image\n'})), reply(text('Wrote from-the-image.txt.')))
    const prompt = await run(['session', 'prompt', session.id, '--stage', 'local', '--wait', '--timeout', '150s', '--json', 'Write a file'])
    expect(prompt.exitCode, prompt.stderr).to.equal(0)
    const done = prompt.json<Prompt>()
    expect(done.status).to.equal('SUCCEEDED')
    expect(git(['show', `devflow/${session.id}:from-the-image.txt`], bare)).to.equal('written inside the image')
    expect(done.result?.commit).to.equal(git(['rev-parse', `devflow/${session.id}`], bare))
    // The CLI that answered is the image's own (the pinned version, in /usr/local).
    expect(anthropic.agentTurns()[0]?.headers['user-agent']).to.match(/claude-cli\/2\.1\.332/)

    // The editor's stand-in answers /healthz on the session's editor port.
    const task = JSON.parse(await readFile(join(cli.home, '.local', 'share', 'devflow', 'local', 'sessions', session.id, 'task.json'), 'utf8')) as {editorPort: number}
    const health = await fetch(`http://127.0.0.1:${task.editorPort}/healthz`)
    expect(((await health.json()) as {status: string}).status).to.equal('alive')

    const stop = await run(['session', 'stop', session.id, '--stage', 'local', '--json'])
    expect(stop.exitCode, stop.stderr).to.equal(0)
  })
})
