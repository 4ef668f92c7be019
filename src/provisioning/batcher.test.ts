import { describe, expect, it } from 'vitest';
import { Batcher } from './batcher.js';

describe('Batcher', () => {
  it('hands items on in batches of at most maxItems, or after maxWaitMs', async () => {
    const batches: number[][] = [];
    const batcher = new Batcher<number>(async (items) => void batches.push(items), { maxItems: 3, maxWaitMs: 20 });
    for (const n of [1, 2, 3, 4]) batcher.add(n);
    await batcher.flush();
    expect(batches).toEqual([[1, 2, 3], [4]]);
    batcher.add(5);
    await new Promise((r) => setTimeout(r, 60));
    expect(batches).toEqual([[1, 2, 3], [4], [5]]);
  });
});
