import {readFileSync} from 'node:fs'
import {chmod, mkdtemp, readFile, rm, stat, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {expect} from 'chai'

import {ProcessRuntime} from '../../../../src/adapters/local/process-runtime.js'
import type {TaskSpec} from '../../../../src/core/ports.js'

/** A stand-in entrypoint: records its env, starts a child, and exits on TERM after its cleanup. */
const ENTRYPOINT = `#!/bin/sh
env > "$STATE_DIR/environ"
echo "$SESSION_ID $WORKSPACE_DIR" > "$STATE_DIR/env"
sleep 300 &
echo $! > "$STATE_DIR/child"
trap 'echo cleaned > "$STATE_DIR/cleanup"; kill $!; exit 0' TERM
if [ "$MODE" = exit3 ]; then exit 3; fi
wait
`

async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const value = await read()
    if (done(value) || Date.now() > deadline) return value
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** Running, not a zombie: an orphan that nothing reaps counts as ended. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    // No procfs: kill(0) answered already.
    return true
  }
}

describe('adapters/local/ProcessRuntime', function () {
  let dir: string
  let runtime: ProcessRuntime

  const spec = (sessionId: string, environment: Record<string, string> = {}): TaskSpec => ({
    sessionId,
    owner: 'local:test',
    cpu: 1024,
    memory: 4096,
    capacity: 'FARGATE_SPOT',
    environment: {SESSION_ID: sessionId, ...environment},
    bootstrapNonce: `nonce-${sessionId}`,
  })

  beforeEach(async function () {
    dir = await mkdtemp(join(tmpdir(), 'devflow-runtime-'))
    const entrypoint = join(dir, 'entrypoint.sh')
    await writeFile(entrypoint, ENTRYPOINT)
    await chmod(entrypoint, 0o755)
    runtime = new ProcessRuntime({dataDir: join(dir, 'data'), entrypoint, environment: () => ({PATH: process.env.PATH}), stopGraceMs: 2000})
  })

  afterEach(async function () {
    await rm(dir, {recursive: true, force: true})
  })

  it('runs the entrypoint in a workspace of its own and stops the whole process group', async function () {
    const {taskArn} = await runtime.run(spec('s-aaaaaaaaaaaaaaaaaaaa'))
    const state = join(runtime.sessionDir('s-aaaaaaaaaaaaaaaaaaaa'), 'state')
    const env = await eventually(() => readFile(join(state, 'env'), 'utf8').catch(() => ''), (text) => text !== '')
    expect(env.trim()).to.equal(`s-aaaaaaaaaaaaaaaaaaaa ${join(runtime.sessionDir('s-aaaaaaaaaaaaaaaaaaaa'), 'workspace')}`)
    // The bootstrap nonce is in an owner-only file the environment names, not in the environment.
    const nonceFile = join(runtime.sessionDir('s-aaaaaaaaaaaaaaaaaaaa'), 'bootstrap-nonce')
    expect(await readFile(nonceFile, 'utf8')).to.equal('nonce-s-aaaaaaaaaaaaaaaaaaaa')
    expect((await stat(nonceFile)).mode & 0o777).to.equal(0o600)
    const environ = await readFile(join(state, 'environ'), 'utf8')
    expect(environ).to.include(`DEVFLOW_BOOTSTRAP_FILE=${nonceFile}`).and.not.include('nonce-s-a')
    expect(await runtime.describe(taskArn)).to.include({lastStatus: 'RUNNING'})

    const child = Number(await eventually(() => readFile(join(state, 'child'), 'utf8').catch(() => ''), (text) => text !== ''))
    await runtime.stop(taskArn, 'Stopped by the user')
    expect(await runtime.describe(taskArn)).to.include({lastStatus: 'STOPPED', stopCode: 'UserInitiated', stoppedReason: 'Stopped by the user', exitCode: 0})
    expect(await readFile(join(state, 'cleanup'), 'utf8')).to.equal('cleaned\n')
    expect(await eventually(async () => isAlive(child), (alive) => !alive)).to.equal(false)
    await runtime.stop(taskArn, 'again')
  })

  it('reports a workspace that exits by itself with its exit code, also to a new runtime instance', async function () {
    const {taskArn} = await runtime.run(spec('s-bbbbbbbbbbbbbbbbbbbb', {MODE: 'exit3'}))
    const state = await eventually(() => runtime.describe(taskArn), (s) => s?.lastStatus === 'STOPPED')
    expect(state).to.include({lastStatus: 'STOPPED', stopCode: 'EssentialContainerExited', exitCode: 3})
    expect(state?.stoppedReason).to.match(/exited with code 3/)

    const restarted = new ProcessRuntime({dataDir: join(dir, 'data'), entrypoint: join(dir, 'entrypoint.sh'), environment: () => ({})})
    expect(await restarted.describe(taskArn)).to.deep.equal(state)
  })

  it('reports a workspace killed from outside as stopped with the reason', async function () {
    const {taskArn} = await runtime.run(spec('s-cccccccccccccccccccc'))
    const {pid} = JSON.parse(await readFile(join(runtime.sessionDir('s-cccccccccccccccccccc'), 'task.json'), 'utf8')) as {pid: number}
    process.kill(-pid, 'SIGKILL')
    const state = await eventually(() => runtime.describe(taskArn), (s) => s?.lastStatus === 'STOPPED')
    expect(state).to.include({lastStatus: 'STOPPED', stopCode: 'EssentialContainerExited', exitCode: 137})
    expect(state?.stoppedReason).to.match(/killed/)
  })

  it('does not know tasks it never ran', async function () {
    expect(await runtime.describe('local-process:s-dddddddddddddddddddd')).to.equal(undefined)
    expect(await runtime.describe('arn:aws:ecs:task/x')).to.equal(undefined)
    await runtime.stop('local-process:s-dddddddddddddddddddd', 'nothing to stop')
  })
})
