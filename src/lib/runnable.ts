// The runnable contract (STYLE.md practice 5): every background loop — store compaction now,
// caches and controllers later — is a `Runnable` that runs until its signal aborts. The composition
// root starts runnables in order and stops them in reverse (practice 7) through `launch`.

export interface Runnable {
  /** Short, constant name for logs and metrics (e.g. `store-compactor`). */
  readonly name: string;
  /**
   * Runs the loop. Resolves once `signal` has aborted and the loop has stopped (work in flight has
   * finished or been abandoned). Errors of one iteration are the runnable's own business (log, count,
   * retry); a rejection means the runnable gave up for good.
   */
  start(signal: AbortSignal): Promise<void>;
}

/** A runnable that `launch` started. */
export interface Launched {
  readonly name: string;
  /**
   * Aborts the runnable's signal and waits at most `graceMs` for `start` to settle. Idempotent: every
   * call waits on the same stop. Resolves `'timeout'` if the runnable was still running at the deadline.
   */
  stop(graceMs: number): Promise<'stopped' | 'timeout'>;
}

/**
 * Starts `r` with a signal of its own. `onError` is called once if `start` rejects (at any time);
 * `stop` then still resolves `'stopped'`.
 */
export function launch(r: Runnable, onError: (err: unknown) => void): Launched {
  const ac = new AbortController();
  let done: Promise<void>;
  try {
    done = r.start(ac.signal).catch(onError);
  } catch (err) {
    onError(err);
    done = Promise.resolve();
  }
  let stopping: Promise<'stopped' | 'timeout'> | undefined;
  return {
    name: r.name,
    stop(graceMs: number): Promise<'stopped' | 'timeout'> {
      stopping ??= (async (): Promise<'stopped' | 'timeout'> => {
        ac.abort(new Error(`${r.name} stopping`));
        let timer: NodeJS.Timeout | undefined;
        const grace = new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), graceMs);
        });
        try {
          return await Promise.race([done.then(() => 'stopped' as const), grace]);
        } finally {
          clearTimeout(timer);
        }
      })();
      return stopping;
    },
  };
}

/** Waits `ms`; resolves true when the time passed, false (at once) when `signal` aborts first. */
export function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** `ms` spread uniformly over ±`fraction` of itself (0.1: ±10 %), so replicas' loops drift apart. */
export function jittered(ms: number, fraction: number, random: () => number = Math.random): number {
  return Math.max(1, Math.round(ms * (1 + fraction * (2 * random() - 1))));
}
