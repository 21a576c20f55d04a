/**
 * Builds the code of every Lambda function once, into dist/lambda: one ESM module per entry of
 * lambda/ (a few hundred bytes each) over shared chunks, minified, `@aws-sdk/*` left out for the
 * nodejs22.x runtime to provide. dist/lambda is the one asset every function of a stack deploys
 * (its handler is `<entry>.handler`); the source maps go to dist/lambda-maps, outside the
 * function code, for reading a logged stack trace (`npx source-map-cli` or any map reader).
 *   node lambda/build.mjs [--out DIR] [--maps DIR]
 * `npm run build` runs it; infra, test/helpers/lambda-bundles.ts and bench/lambda.mjs take its output.
 */
import {mkdirSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {basename, dirname, join, relative, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'

import {build} from 'esbuild'

const here = dirname(fileURLToPath(import.meta.url))

/** The function entries: lambda/<name>.ts, one per route function and the reaper. */
export function lambdaEntries(lambdaDir = here) {
  return readdirSync(lambdaDir)
    .filter((file) => file.endsWith('.ts') && !file.startsWith('_'))
    .map((file) => basename(file, '.ts'))
    .sort()
}

/** Bundles every entry into `out` (the function code) and `maps` (its source maps). */
export async function buildLambdaCode({out = join(here, '..', 'dist', 'lambda'), maps = join(here, '..', 'dist', 'lambda-maps')} = {}) {
  const entries = lambdaEntries()
  const result = await build({
    entryPoints: Object.fromEntries(entries.map((entry) => [entry, join(here, `${entry}.ts`)])),
    outdir: out,
    outExtension: {'.js': '.mjs'},
    chunkNames: 'shared/[name]-[hash]',
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    minify: true,
    // Written next to the code by esbuild, moved out below: the map is no part of what AWS runs.
    sourcemap: 'external',
    legalComments: 'none',
    mainFields: ['module', 'main'],
    external: ['@aws-sdk/*'],
    // ESM bundles still meet CommonJS dependencies that call require().
    banner: {js: "import {createRequire} from 'node:module';const require=createRequire(import.meta.url);"},
    write: false,
    logLevel: 'error',
  })
  rmSync(out, {recursive: true, force: true})
  rmSync(maps, {recursive: true, force: true})
  for (const file of result.outputFiles) {
    const target = file.path.endsWith('.map') ? join(maps, relative(out, file.path)) : file.path
    mkdirSync(dirname(target), {recursive: true})
    writeFileSync(target, file.contents)
  }
  // The asset's own package.json: the runtime reads the .mjs files as ESM either way; this keeps a
  // stray .js chunk from being read as CommonJS.
  writeFileSync(join(out, 'package.json'), '{"type":"module"}\n')
  return {out, maps, entries}
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const {values} = parseArgs({options: {out: {type: 'string'}, maps: {type: 'string'}}})
  await buildLambdaCode({out: values.out && resolve(values.out), maps: values.maps && resolve(values.maps)})
}
