// A lock file holding the PID of its owner: one server per data dir, one process per SQLite file.
//
// The file is created atomically with its content (a temp file hard-linked into place, which like
// O_EXCL fails when the name exists), so a reader never sees an empty lock. A lock whose PID is dead is
// stale and taken over, under a second lock (`<file>.takeover`) so two starting processes cannot both win.
import fs from 'node:fs';
import path from 'node:path';

export interface PidLock {
  readonly file: string;
  readonly pid: number;
  /** Set when a stale lock (its PID dead) was taken over: the PID that had it (0 if unreadable). */
  readonly tookOverFrom: number | null;
  /** Removes the lock file if it still holds our PID. Idempotent. */
  release(): void;
}

export interface PidLockOptions {
  /** The PID written into the lock (default: this process). */
  pid?: number;
  /** Whether a PID is a running process (default: signal 0). */
  isAlive?: (pid: number) => boolean;
}

export class PidLockHeldError extends Error {
  override readonly name = 'PidLockHeldError';
  constructor(
    readonly file: string,
    readonly pid: number,
  ) {
    super(`${file} is held by pid ${pid}`);
  }
}

/** Lock files held by this process (file → PID written), so a lock holding our own PID is not mistaken for a stale one. */
const heldHere = new Map<string, number>();

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The PID holding `file` if that process is alive, else null (no lock, or a stale one). */
export function lockHolder(file: string, isAlive: (pid: number) => boolean = isProcessAlive): number | null {
  const abs = path.resolve(file);
  const pid = readPid(abs);
  if (pid === null || pid === 0) return null;
  if (heldHere.get(abs) === pid) return pid;
  return pid !== process.pid && isAlive(pid) ? pid : null;
}

/** Takes the lock or throws PidLockHeldError naming the live PID that holds it. */
export function acquirePidLock(file: string, opts: PidLockOptions = {}): PidLock {
  const abs = path.resolve(file);
  const pid = opts.pid ?? process.pid;
  const isAlive = opts.isAlive ?? isProcessAlive;
  // Our own PID in a lock this process does not hold is a leftover of an earlier process that had the
  // same PID (common in containers, where the server is often PID 1): stale.
  const holds = (p: number): boolean => p > 0 && (heldHere.get(abs) === p || (p !== process.pid && isAlive(p)));

  let tookOverFrom: number | null = null;
  if (!linkWithContent(abs, pid)) {
    const current = readPid(abs);
    if (current !== null && holds(current)) throw new PidLockHeldError(abs, current);
    const guard = `${abs}.takeover`;
    if (!linkWithContent(guard, pid)) {
      const g = readPid(guard);
      if (g !== null && g > 0 && g !== pid && g !== process.pid && isAlive(g)) throw new PidLockHeldError(abs, g);
      fs.rmSync(guard, { force: true });
      if (!linkWithContent(guard, pid)) throw new PidLockHeldError(abs, readPid(guard) ?? 0);
    }
    try {
      // Under the guard: only a process that found no lock at all can race us now, and link() tells.
      const again = readPid(abs);
      if (again !== null && again !== current && holds(again)) throw new PidLockHeldError(abs, again);
      fs.rmSync(abs, { force: true });
      if (!linkWithContent(abs, pid)) throw new PidLockHeldError(abs, readPid(abs) ?? 0);
      tookOverFrom = current ?? 0;
    } finally {
      fs.rmSync(guard, { force: true });
    }
  }
  heldHere.set(abs, pid);
  let released = false;
  return {
    file: abs,
    pid,
    tookOverFrom,
    release(): void {
      if (released) return;
      released = true;
      if (heldHere.get(abs) === pid) heldHere.delete(abs);
      if (readPid(abs) === pid) fs.rmSync(abs, { force: true });
    },
  };
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
