// The server's data dir: created 0700, locked by one server at a time, stamped with a format version.
//
//   DATA/kumo.lock   the PID of the server holding the dir. Created atomically with its content (a temp
//                    file hard-linked into place, which like O_EXCL fails when the name exists), so a
//                    reader never sees an empty lock. A lock whose PID is dead is stale and taken over,
//                    under a second lock (kumo.lock.takeover) so two starting servers cannot both win.
//   DATA/VERSION     {"format":1}; a newer format is refused (an older kumo must not touch it).
import fs from 'node:fs';
import path from 'node:path';
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

export interface LockOptions {
  /** The PID written into the lock (default: this process). */
  pid?: number;
  /** Whether a PID is a running process (default: signal 0). */
  isAlive?: (pid: number) => boolean;
}

/** Lock files held by this process (file → PID written), so a lock holding our own PID is not mistaken for a stale one. */
const heldHere = new Map<string, number>();

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

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The PID holding `dir`'s lock if that process is alive, else null (no lock, or a stale one). */
export function dataDirHolder(dir: string, isAlive: (pid: number) => boolean = isProcessAlive): number | null {
  const file = path.join(path.resolve(dir), 'kumo.lock');
  const pid = readPid(file);
  if (pid === null || pid === 0) return null;
  if (heldHere.get(file) === pid) return pid;
  return pid !== process.pid && isAlive(pid) ? pid : null;
}

/** Takes the data dir's lock or throws DataDirInUseError naming the PID that holds it. */
export function lockDataDir(dir: string, opts: LockOptions = {}): DataDirLock {
  const abs = path.resolve(dir);
  const file = path.join(abs, 'kumo.lock');
  const pid = opts.pid ?? process.pid;
  const isAlive = opts.isAlive ?? isProcessAlive;
  // Our own PID in a lock this process does not hold is a leftover of an earlier process that had the
  // same PID (common in containers, where the server is often PID 1): stale.
  const holds = (p: number): boolean => p > 0 && (heldHere.get(file) === p || (p !== process.pid && isAlive(p)));

  let tookOverFrom: number | null = null;
  if (!linkWithContent(file, pid)) {
    const current = readPid(file);
    if (current !== null && holds(current)) throw new DataDirInUseError(abs, current);
    const guard = `${file}.takeover`;
    if (!linkWithContent(guard, pid)) {
      const g = readPid(guard);
      if (g !== null && g > 0 && g !== pid && g !== process.pid && isAlive(g)) throw new DataDirInUseError(abs, g);
      fs.rmSync(guard, { force: true });
      if (!linkWithContent(guard, pid)) throw new DataDirInUseError(abs, readPid(guard) ?? 0);
    }
    try {
      // Under the guard: only a server that found no lock at all can race us now, and link() tells.
      const again = readPid(file);
      if (again !== null && again !== current && holds(again)) throw new DataDirInUseError(abs, again);
      fs.rmSync(file, { force: true });
      if (!linkWithContent(file, pid)) throw new DataDirInUseError(abs, readPid(file) ?? 0);
      tookOverFrom = current ?? 0;
    } finally {
      fs.rmSync(guard, { force: true });
    }
  }
  heldHere.set(file, pid);
  let released = false;
  return {
    dir: abs,
    file,
    pid,
    tookOverFrom,
    release(): void {
      if (released) return;
      released = true;
      if (heldHere.get(file) === pid) heldHere.delete(file);
      if (readPid(file) === pid) fs.rmSync(file, { force: true });
    },
  };
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

/** Creates `file` holding `pid` atomically; false if the name already exists. */
function linkWithContent(file: string, pid: number): boolean {
  const tmp = `${file}.${pid}.${process.hrtime.bigint()}.tmp`;
  fs.writeFileSync(tmp, `${pid}\n`, { mode: 0o600 });
  try {
    fs.linkSync(tmp, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

function readPid(file: string): number | null {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const pid = Number(text.trim());
  // Unparseable content cannot name a live holder; treat it like a stale lock.
  return Number.isSafeInteger(pid) && pid > 0 ? pid : 0;
}
