import {expect} from 'chai'
import {execa} from 'execa'
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {parseRepositoryUri} from '../../../../src/adapters/aws/ecr.js'
import {gitImageTag, parseImageTag} from '../../../../src/adapters/docker/git-tag.js'
import {containerContextDir} from '../../../../src/operations/workspace-image.js'
import {isDevflowError} from '../../../../src/core/errors.js'
import {ROOT} from '../../../helpers/cli.js'

function errorCode(run: () => unknown): string | undefined {
  try {
    run()
  } catch (error) {
    return isDevflowError(error) ? error.code : 'NOT_A_DEVFLOW_ERROR'
  }
  return undefined
}

describe('adapters/docker: image names', () => {
  it('parses ECR repository URIs into registry, account, region and name', () => {
    expect(parseRepositoryUri('123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/devflow-code-server')).to.deep.equal({
      uri: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/devflow-code-server',
      registry: '123456789012.dkr.ecr.eu-west-1.amazonaws.com',
      registryId: '123456789012',
      region: 'eu-west-1',
      name: 'team/devflow-code-server',
    })
    for (const bad of ['docker.io/library/node', '123.dkr.ecr.us-east-1.amazonaws.com/x', '123456789012.dkr.ecr.us-east-1.amazonaws.com/', 'x']) {
      expect(errorCode(() => parseRepositoryUri(bad)), bad).to.equal('INVALID_ECR_REPOSITORY')
    }
  })

  it('accepts docker tags and refuses the rest', () => {
    for (const good of ['v1.2.0', 'abc123-dirty', '_x', 'a'.repeat(128)]) expect(parseImageTag(good)).to.equal(good)
    for (const bad of ['', '-x', '.x', 'a b', 'a:b', 'a'.repeat(129)]) expect(errorCode(() => parseImageTag(bad)), bad).to.equal('INVALID_IMAGE_TAG')
  })

  it('tags with the short commit, and -dirty while the tree has changes', async () => {
    const repo = await mkdtemp(join(tmpdir(), 'devflow-tag-'))
    try {
      const git = (...args: string[]) => execa('git', ['-C', repo, '-c', 'user.name=T', '-c', 'user.email=t@example.com', ...args])
      await git('init', '--quiet')
      await writeFile(join(repo, 'a.txt'), '1')
      await git('add', 'a.txt')
      await git('commit', '--quiet', '-m', 'one')
      const sha = (await git('rev-parse', '--short=12', 'HEAD')).stdout.trim()
      expect(await gitImageTag(repo)).to.equal(sha)
      await writeFile(join(repo, 'b.txt'), 'untracked')
      expect(await gitImageTag(repo)).to.equal(`${sha}-dirty`)
    } finally {
      await rm(repo, {recursive: true, force: true})
    }
  })

  it('asks for --tag outside a git checkout', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'devflow-notgit-'))
    try {
      const error = await gitImageTag(dir).catch((e: unknown) => e)
      expect(isDevflowError(error) && error.code).to.equal('IMAGE_TAG_REQUIRED')
    } finally {
      await rm(dir, {recursive: true, force: true})
    }
  })

  it('finds the container/ directory of this installation', () => {
    expect(containerContextDir()).to.equal(join(ROOT, 'container'))
  })
})
