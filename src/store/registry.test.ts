import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { openStore } from './registry.js';

describe('store registry', () => {
  it('sqlite: sweepTtl false opens a store whose expired keys stay until someone else sweeps them', async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kumo-registry-'));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const url = `sqlite:${path.join(dir, 'kumo.db')}`;

    const writer = await openStore(url, { sweepTtl: false });
    await writer.create('/registry/events/e1', Buffer.from('event'), { ttl: 1 });
    const rev = await writer.currentRevision();
    await new Promise((r) => setTimeout(r, 2500));
    assert.notEqual((await writer.get('/registry/events/e1')).kv, null, 'not swept');
    assert.equal(await writer.currentRevision(), rev, 'nothing written');
    await writer.close();

    // Opened the default way, the sweeper deletes it (with a delete revision) within about a second.
    const sweeper = await openStore(url);
    t.after(() => sweeper.close());
    const deadline = Date.now() + 5000;
    while ((await sweeper.get('/registry/events/e1')).kv !== null) {
      assert.ok(Date.now() < deadline, 'swept by a default store');
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(await sweeper.currentRevision(), rev + 1);
  });
});
