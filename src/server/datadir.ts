// The server's data dir: created 0700, locked by one server at a time, stamped with a format version.
//
//   DATA/kumo.lock   the PID of the server holding the dir (src/lib/pidlock.ts: created atomically,
//                    a dead PID's lock is taken over).
//   DATA/VERSION     {"format":1}; a newer format is refused (an older kumo must not touch it).
import fs from 'node:fs';
import path from 'node:path';
import { acquirePidLock, isProcessAlive, lockHolder, PidLockHeldError, type PidLockOptions } from '../lib/pidlock.js';
import { writeFileAtomic } from '../lib/pki.js';

export const DATA_DIR_FORMAT = 1;

export interface DataDirLock {
  readonly dir: string;
  readonly file: string;
  readonly pid: number;
  /** Set when a stale lock (its PID dead) was taken over. */
  readonly tookOverFrom: number | null;
  /** Removes the lock file if it still holds our PID. Idempotent. */
  release(): void;
}

export type LockOptions = PidLockOptions;

export class DataDirInUseError extends Error {
  override readonly name = 'DataDirInUseError';
  constructor(
    readonly dir: string,
    readonly pid: number,
  ) {
    super(`data dir ${dir} is in use by kumo server pid ${pid} (lock file ${path.join(dir, 'kumo.lock')}; stop that server first, or remove the file if pid ${pid} is not a kumo server)`);
  }
}

/** Creates the data dir (0700) if missing. Returns its absolute path. */
export function ensureDataDir(dir: string): string {
  const abs = path.resolve(dir);
  fs.mkdirSync(abs, { recursive: true, mode: 0o700 });
  if (!fs.statSync(abs).isDirectory()) throw new Error(`data dir ${abs} is not a directory`);
  return abs;
}

export { isProcessAlive };

/** The PID holding `dir`'s lock if that process is alive, else null (no lock, or a stale one). */
export function dataDirHolder(dir: string, isAlive: (pid: number) => boolean = isProcessAlive): number | null {
  return lockHolder(path.join(path.resolve(dir), 'kumo.lock'), isAlive);
}

/** Takes the data dir's lock or throws DataDirInUseError naming the PID that holds it. */
export function lockDataDir(dir: string, opts: LockOptions = {}): DataDirLock {
  const abs = path.resolve(dir);
  try {
    const lock = acquirePidLock(path.join(abs, 'kumo.lock'), opts);
    return { dir: abs, file: lock.file, pid: lock.pid, tookOverFrom: lock.tookOverFrom, release: () => lock.release() };
  } catch (err) {
    if (err instanceof PidLockHeldError) throw new DataDirInUseError(abs, err.pid);
    throw err;
  }
}

/** Checks `DATA/VERSION` (writing it on a new dir); throws on a newer or unreadable stamp. */
export function checkFormatVersion(dir: string, supported = DATA_DIR_FORMAT): { format: number; created: boolean } {
  const file = path.join(path.resolve(dir), 'VERSION');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    writeFileAtomic(file, JSON.stringify({ format: supported }) + '\n', 0o644);
    return { format: supported, created: true };
  }
  let format: unknown;
  try {
    format = (JSON.parse(text) as { format?: unknown }).format;
  } catch {
    format = undefined;
  }
  if (typeof format !== 'number' || !Number.isInteger(format) || format < 1) {
    throw new Error(`${file} is unreadable (expected {"format":N}, got ${JSON.stringify(text.slice(0, 100))}); refusing to start`);
  }
  if (format > supported) {
    throw new Error(`data dir ${path.dirname(file)} has format ${format}, but this kumo understands format ${supported} at most; run a newer kumo`);
  }
  return { format, created: false };
}
