/**
 * Builds the console (src/console) into dist/console: index.html, assets/console.js (one ESM
 * bundle with Preact and htm inside, minified) and assets/console.css. No CDN at run time.
 *   node src/console/build.mjs [--out DIR]
 */
import {copyFileSync, mkdirSync} from 'node:fs'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'

import {build} from 'esbuild'

const here = dirname(fileURLToPath(import.meta.url))
const {values} = parseArgs({options: {out: {type: 'string'}}})
const out = resolve(values.out ?? join(here, '..', '..', 'dist', 'console'))

mkdirSync(join(out, 'assets'), {recursive: true})
await build({
  entryPoints: [join(here, 'main.ts')],
  outfile: join(out, 'assets', 'console.js'),
  bundle: true,
  format: 'esm',
  minify: true,
  target: ['es2022'],
  platform: 'browser',
  legalComments: 'none',
  logLevel: 'warning',
})
await build({entryPoints: [join(here, 'console.css')], outfile: join(out, 'assets', 'console.css'), bundle: true, minify: true, logLevel: 'warning'})
copyFileSync(join(here, 'index.html'), join(out, 'index.html'))
