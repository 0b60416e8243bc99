/** epochSchedule: epochs and warm-up epochs in steps, checked. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { epochSchedule } from '../../../src/tasks/training/schedule.js';

describe('epochSchedule', () => {
  it('counts the warm-up (rounded) and the total in steps', () => {
    assert.deepEqual(epochSchedule({ lr: 0.1, warmupEpochs: 0.5, epochs: 4 }, 7), {
      base: 0.1,
      warmupSteps: 4,
      totalSteps: 28,
    });
  });

  it('refuses a learning rate that is not a positive number', () => {
    assert.throws(() => epochSchedule({ lr: 0, warmupEpochs: 0, epochs: 1 }, 3), /learning rate must be a positive/);
  });
});
