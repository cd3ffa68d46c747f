import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { DataDirInUseError, checkFormatVersion, dataDirHolder, ensureDataDir, lockDataDir } from './datadir.js';

function tmpDir(t: { after: (fn: () => void) => void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kumo-datadir-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The PID of a process that has already exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

describe('data dir', () => {
  it('creates the directory 0700', (t) => {
    const dir = path.join(tmpDir(t), 'a', 'data');
    assert.equal(ensureDataDir(dir), dir);
    assert.equal(fs.statSync(dir).mode & 0o777, 0o700);
  });

  it('lets one holder lock it; a second lock fails naming the PID; release frees it', (t) => {
    const dir = tmpDir(t);
    const lock = lockDataDir(dir);
    t.after(() => lock.release());
    assert.equal(fs.readFileSync(path.join(dir, 'kumo.lock'), 'utf8').trim(), String(process.pid));
    assert.equal(lock.tookOverFrom, null);
    assert.equal(dataDirHolder(dir), process.pid);
    assert.throws(
      () => lockDataDir(dir),
      (err: unknown) => err instanceof DataDirInUseError && err.message.startsWith(`data dir ${dir} is in use by kumo server pid ${process.pid}`),
    );
    lock.release();
    assert.equal(fs.existsSync(path.join(dir, 'kumo.lock')), false);
    assert.equal(dataDirHolder(dir), null);
    lock.release(); // idempotent
    const again = lockDataDir(dir);
    again.release();
  });

  it('refuses a lock held by another live process', async (t) => {
    const dir = tmpDir(t);
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    t.after(() => child.kill('SIGKILL'));
    await new Promise((resolve) => child.once('spawn', resolve));
    const pid = child.pid ?? 0;
    fs.writeFileSync(path.join(dir, 'kumo.lock'), `${pid}\n`);
    assert.throws(() => lockDataDir(dir), new RegExp(`is in use by kumo server pid ${pid}`));
    assert.equal(dataDirHolder(dir), pid);
    assert.equal(fs.readFileSync(path.join(dir, 'kumo.lock'), 'utf8').trim(), String(pid), 'the holder keeps its lock');
  });

  it('takes over a stale lock whose PID is dead', (t) => {
    const dir = tmpDir(t);
    const dead = deadPid();
    fs.writeFileSync(path.join(dir, 'kumo.lock'), `${dead}\n`);
    assert.equal(dataDirHolder(dir), null);
    const lock = lockDataDir(dir);
    t.after(() => lock.release());
    assert.equal(lock.tookOverFrom, dead);
    assert.equal(fs.readFileSync(path.join(dir, 'kumo.lock'), 'utf8').trim(), String(process.pid));
    assert.equal(fs.existsSync(path.join(dir, 'kumo.lock.takeover')), false);
  });

  it('takes over a lock with garbage content, or with our own PID left by an earlier process', (t) => {
    const dir = tmpDir(t);
    fs.writeFileSync(path.join(dir, 'kumo.lock'), 'not a pid');
    const a = lockDataDir(dir);
    assert.equal(a.tookOverFrom, 0);
    a.release();
    // e.g. a container restarted: the new server is PID 1 again and finds "1" in the lock.
    fs.writeFileSync(path.join(dir, 'kumo.lock'), `${process.pid}\n`);
    const b = lockDataDir(dir);
    assert.equal(b.tookOverFrom, process.pid);
    b.release();
  });

  it('uses an injected liveness check, and never removes a lock that is no longer its own', (t) => {
    const dir = tmpDir(t);
    const file = path.join(dir, 'kumo.lock');
    fs.writeFileSync(file, '4000001\n'); // another server's lock
    assert.throws(() => lockDataDir(dir, { pid: 4_000_002, isAlive: () => true }), /in use by kumo server pid 4000001/);
    const lock = lockDataDir(dir, { pid: 4_000_002, isAlive: (p) => p !== 4_000_001 });
    t.after(() => lock.release());
    assert.equal(lock.tookOverFrom, 4_000_001);
    assert.equal(fs.readFileSync(file, 'utf8').trim(), '4000002');
    // Someone removed our lock by hand and a third server took the dir: our release leaves theirs alone.
    fs.writeFileSync(file, '4000003\n');
    lock.release();
    assert.equal(fs.readFileSync(file, 'utf8').trim(), '4000003');
  });

  it('stamps VERSION with format 1 and refuses a newer or unreadable stamp', (t) => {
    const dir = tmpDir(t);
    assert.deepEqual(checkFormatVersion(dir), { format: 1, created: true });
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, 'VERSION'), 'utf8')), { format: 1 });
    assert.deepEqual(checkFormatVersion(dir), { format: 1, created: false });
    fs.writeFileSync(path.join(dir, 'VERSION'), '{"format":2}\n');
    assert.throws(() => checkFormatVersion(dir), new RegExp(`data dir ${dir} has format 2, but this kumo understands format 1 at most`));
    fs.writeFileSync(path.join(dir, 'VERSION'), 'garbage');
    assert.throws(() => checkFormatVersion(dir), /VERSION is unreadable/);
  });
});
