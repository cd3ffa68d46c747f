// Every docs/ page's copy-paste example (a fenced block tagged `sh test`) is run here as written, from
// the repository root, so the docs cannot drift from what works.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const docsDir = path.join(root, 'docs');

function examples(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  return [...text.matchAll(/^```sh test\n([\s\S]*?)^```$/gm)].map((m) => m[1] ?? '');
}

async function runBlock(script: string, home: string): Promise<{ code: number | null; out: string }> {
  // Its own process group, so whatever the example started in the background is stopped with it.
  const child = spawn('bash', ['-euo', 'pipefail', '-c', script], { cwd: root, detached: true, env: { ...process.env, HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const timer = setTimeout(() => {
    out += '\n[docs test: timed out after 120 s]';
    if (child.pid) process.kill(-child.pid, 'SIGKILL');
  }, 120_000);
  try {
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    return { code, out };
  } finally {
    clearTimeout(timer);
    try {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // the group is already gone: the example cleaned up after itself
    }
  }
}

describe('docs examples', () => {
  const pages = fs.readdirSync(docsDir).filter((f) => f.endsWith('.md'));
  const all = pages.flatMap((p) => examples(path.join(docsDir, p)).map((script, i) => ({ page: p, i, script })));
  it('every user-facing page has at least one tested example', () => {
    for (const p of ['server.md', 'store.md', 'api.md', 'authentication.md']) assert.ok(all.some((e) => e.page === p), `docs/${p} has no \`sh test\` example`);
  });
  for (const { page, i, script } of all) {
    it(`docs/${page} example ${i + 1} runs as written`, async () => {
      const home = fs.mkdtempSync(path.join(os.tmpdir(), 'kumo-docs-home-'));
      try {
        const r = await runBlock(script, home);
        assert.equal(r.code, 0, `docs/${page} example ${i + 1} failed (exit ${r.code}):\n${r.out.slice(-4000)}`);
      } finally {
        fs.rmSync(home, { recursive: true, force: true });
      }
    });
  }
});
