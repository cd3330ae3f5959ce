import { describe, expect, it } from 'vitest';
import { blockPoolBytes, giveBlock, trimBlockPool } from '@kvmlab/hypervisor-core';
import { releaseAfterRun } from '../src/host/release-memory.js';

describe('releaseAfterRun (between the demo runs)', () => {
  it('keeps the block pool while the same definition runs next, and empties it after', () => {
    trimBlockPool();
    giveBlock(new Uint8Array(256 * 1024));
    expect(blockPoolBytes()).toBe(256 * 1024);
    releaseAfterRun(true);
    expect(blockPoolBytes()).toBe(256 * 1024);
    releaseAfterRun(false);
    expect(blockPoolBytes()).toBe(0);
  });
});
