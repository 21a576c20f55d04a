import {expect} from 'chai'

import {taskDefinitionFamily} from '../../../../src/adapters/aws/ecs-task-runtime.js'

describe('adapters/aws/ecs-task-runtime', () => {
  it('runs the task definition family, so a newly pushed image revision is used', () => {
    expect(taskDefinitionFamily('arn:aws:ecs:us-east-1:123456789012:task-definition/devflow-workspace:7')).to.equal('devflow-workspace')
    expect(taskDefinitionFamily('arn:aws-cn:ecs:cn-north-1:123456789012:task-definition/devflow-workspace')).to.equal('devflow-workspace')
    expect(taskDefinitionFamily('devflow-workspace:3')).to.equal('devflow-workspace')
    expect(taskDefinitionFamily('devflow-workspace')).to.equal('devflow-workspace')
  })
})
