/**
 * The synthesized CloudFormation template of one stage, from a child process (assets not bundled,
 * no cdk-nag): tests start it first and do their moto work while it runs on the other core.
 */
import {execFile} from 'node:child_process'
import {join} from 'node:path'
import {promisify} from 'node:util'

import {ROOT} from './cli.js'

export type Template = {Resources: Record<string, {Type: string; Properties?: Record<string, unknown>}>; Outputs?: Record<string, unknown>}

/** `extraContext`: more CDK context keys for this synth (e.g. `devflow:notifySecret`), over cdk.json's. */
export async function synthTemplate(stage: 'dev' | 'prod', extraContext: Record<string, string> = {}): Promise<Template> {
  const script = `
    import {readFileSync} from 'node:fs'
    import {buildApp, stackIdFor} from ${JSON.stringify(join(ROOT, 'infra', 'app.ts'))}
    const context = JSON.parse(readFileSync(${JSON.stringify(join(ROOT, 'cdk.json'))}, 'utf8')).context
    const app = buildApp({context: {...context, 'aws:cdk:bundling-stacks': [], 'devflow:stages': ${JSON.stringify(stage)}, ...${JSON.stringify(extraContext)}}, nag: false})
    process.stdout.write(JSON.stringify(app.synth().getStackArtifact(stackIdFor(${JSON.stringify(stage)})).template))
  `
  const {stdout} = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--no-warnings', '--input-type=module', '-e', script], {
    cwd: ROOT,
    maxBuffer: 64 * 1024 * 1024,
  })
  return JSON.parse(stdout) as Template
}
