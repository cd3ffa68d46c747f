// Child process of the crash test: writes under load to a store and prints one line per acknowledged
// write ("ack <key> <revision> <sha256>") with a synchronous write, so every line the parent reads was
// printed only after the store acknowledged the write. The parent kills this process with SIGKILL.
//   node dist/testing/crash-writer.js <store-url> <data-dir> <writers> <tag>
import crypto from 'node:crypto';
import fs from 'node:fs';
import { openStore } from '../store/registry.js';

/** A value whose integrity can be checked alone: a JSON header with the body's hash, then the body. */
export function crashValue(key: string, seq: number): Buffer {
  // Sizes vary from tiny to 128 KiB so a torn write would show in a multi-page value.
  const size = (crypto.createHash('sha256').update(key).digest().readUInt32BE(0) % 131072) + (seq % 7);
  const body = crypto.createHash('sha512').update(`${key}/${seq}`).digest('hex').repeat(Math.ceil(size / 128)).slice(0, size);
  const sum = crypto.createHash('sha256').update(body).digest('hex');
  return Buffer.from(JSON.stringify({ key, seq, sum }) + '\n' + body);
}

/** Returns the parsed header if the value is whole, or throws. */
export function checkValue(value: Buffer): { key: string; seq: number; sum: string } {
  const text = value.toString('utf8');
  const nl = text.indexOf('\n');
  if (nl < 0) throw new Error('torn value: no header');
  const head = JSON.parse(text.slice(0, nl)) as { key: string; seq: number; sum: string };
  const sum = crypto.createHash('sha256').update(text.slice(nl + 1)).digest('hex');
  if (sum !== head.sum) throw new Error(`torn value for ${head.key}: checksum mismatch`);
  return head;
}

async function main(): Promise<void> {
  const [url, dataDir, writersArg, tag = 'r0'] = process.argv.slice(2);
  if (!url || !dataDir) throw new Error('usage: crash-writer <store-url> <data-dir> [writers]');
  const store = await openStore(url, { dataDir, deadlineMs: 5000 });
  const writers = Number(writersArg ?? '20');
  fs.writeSync(1, 'ready\n');
  const worker = async (w: number): Promise<void> => {
    const counterKey = `/crash/${tag}/counter/${w}`;
    let counterRev = 0;
    for (let n = 0; ; n++) {
      // Alternate: a new key, and an update of this writer's counter (exercises both paths).
      const key = `/crash/${tag}/keys/${w}/${String(n).padStart(8, '0')}`;
      const value = crashValue(key, n);
      const r = await store.create(key, value);
      fs.writeSync(1, `ack ${key} ${r.revision} ${n}\n`);
      const cv = crashValue(counterKey, n);
      const u = counterRev === 0 ? await store.create(counterKey, cv) : await store.update(counterKey, cv, counterRev);
      counterRev = u.revision;
      fs.writeSync(1, `ack ${counterKey} ${u.revision} ${n}\n`);
    }
  };
  await Promise.all(Array.from({ length: writers }, (_, i) => worker(i)));
}

if (process.argv[1]?.endsWith('crash-writer.js')) {
  main().catch((err: unknown) => {
    fs.writeSync(2, `crash-writer: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exit(1);
  });
}
