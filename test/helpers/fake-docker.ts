import {TEST_REGION} from './moto.js'

/**
 * A recording stand-in for the docker CLI: each call is appended to $FAKE_DOCKER_LOG as
 * {args, stdin}; built and tagged images are remembered in $FAKE_DOCKER_IMAGES; `push` stores the
 * image in ECR (moto) with PutImage, as a registry would, and prints docker's digest line.
 * It signs as AWS_ACCESS_KEY_ID, so a recording proxy (aws-recorder.ts) knows whose push it was.
 * FAKE_DOCKER_ENGINE=down makes the engine unreachable; FAKE_DOCKER_FAIL=<subcommand> fails that step.
 */
export const FAKE_DOCKER = `#!/usr/bin/env node
const fs = require('node:fs')
const crypto = require('node:crypto')
const args = process.argv.slice(2)
const stdin = fs.readFileSync(0, 'utf8')
fs.appendFileSync(process.env.FAKE_DOCKER_LOG, JSON.stringify({args, stdin}) + '\\n')
const imagesFile = process.env.FAKE_DOCKER_IMAGES
const images = fs.existsSync(imagesFile) ? fs.readFileSync(imagesFile, 'utf8').split('\\n').filter(Boolean) : []
const remember = (ref) => fs.appendFileSync(imagesFile, ref + '\\n')
const command = args[0] === 'image' ? 'image ' + args[1] : args[0]
if (process.env.FAKE_DOCKER_ENGINE === 'down' && command !== 'login') {
  process.stderr.write('Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\\n')
  process.exit(1)
}
if (process.env.FAKE_DOCKER_FAIL === command) {
  process.stderr.write(command + ': simulated failure from the fake docker\\n')
  process.exit(1)
}
async function main() {
  switch (command) {
    case 'version': console.log('27.3.1'); return
    case 'build': console.log('#1 [internal] load build definition from Dockerfile'); remember(args[args.indexOf('--tag') + 1]); return
    case 'image inspect': if (!images.includes(args.at(-1))) { process.stderr.write('Error: No such image: ' + args.at(-1) + '\\n'); process.exit(1) } console.log('sha256:' + 'a'.repeat(64)); return
    case 'tag': if (!images.includes(args[1])) process.exit(1); remember(args[2]); return
    case 'login': console.log('Login Succeeded'); return
    case 'push': {
      const ref = args[1]
      const [repositoryPath, tag] = [ref.slice(0, ref.lastIndexOf(':')), ref.slice(ref.lastIndexOf(':') + 1)]
      const repositoryName = repositoryPath.split('/').slice(1).join('/')
      const manifest = JSON.stringify({schemaVersion: 2, mediaType: 'application/vnd.docker.distribution.manifest.v2+json', config: {digest: 'sha256:' + crypto.createHash('sha256').update(ref).digest('hex')}, layers: []})
      const digest = 'sha256:' + crypto.createHash('sha256').update(manifest).digest('hex')
      const response = await fetch(process.env.AWS_ENDPOINT_URL + '/', {
        method: 'POST',
        headers: {
          'Content-Type': 'application/x-amz-json-1.1',
          'X-Amz-Target': 'AmazonEC2ContainerRegistry_V20150921.PutImage',
          Authorization: 'AWS4-HMAC-SHA256 Credential=' + (process.env.AWS_ACCESS_KEY_ID || 'testing') + '/20260101/${TEST_REGION}/ecr/aws4_request, SignedHeaders=host, Signature=0',
        },
        body: JSON.stringify({repositoryName, imageTag: tag, imageManifest: manifest, imageDigest: digest}),
      })
      if (!response.ok) { process.stderr.write('push rejected: ' + (await response.text()) + '\\n'); process.exit(1) }
      console.log('The push refers to repository [' + repositoryPath + ']')
      console.log(tag + ': digest: ' + digest + ' size: 528')
      return
    }
    default: process.stderr.write('unexpected docker command: ' + args.join(' ') + '\\n'); process.exit(2)
  }
}
main()
`
