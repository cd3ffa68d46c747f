// What /version reports about this build: package.json's version, the git commit of the checkout (read
// from .git without running git), and when the compiled code was written.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BuildInfo } from '../apiserver/http.js';

/** The package root: dist/server/buildinfo.js → ../.. */
export function packageRoot(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
}

export function readBuildInfo(root = packageRoot()): BuildInfo {
  let kumoVersion = '0.0.0';
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version?: unknown };
    if (typeof pkg.version === 'string') kumoVersion = pkg.version;
  } catch {
    // A missing package.json leaves the placeholder version.
  }
  const info: BuildInfo = { kumoVersion };
  const commit = gitCommit(root);
  if (commit !== null) info.gitCommit = commit;
  try {
    info.buildDate = fs.statSync(fileURLToPath(import.meta.url)).mtime.toISOString().replace(/\.\d+Z$/, 'Z');
  } catch {
    // Not built from a file: no build date.
  }
  return info;
}

function gitCommit(root: string): string | null {
  try {
    const gitDir = path.join(root, '.git');
    const head = fs.readFileSync(path.join(gitDir, 'HEAD'), 'utf8').trim();
    if (/^[0-9a-f]{40}$/.test(head)) return head;
    const ref = /^ref: (refs\/[^\s]+)$/.exec(head)?.[1];
    if (ref === undefined) return null;
    const loose = path.join(gitDir, ref);
    if (fs.existsSync(loose)) return fs.readFileSync(loose, 'utf8').trim();
    const packed = fs.readFileSync(path.join(gitDir, 'packed-refs'), 'utf8');
    for (const line of packed.split('\n')) {
      const [sha, name] = line.split(' ');
      if (name === ref && sha !== undefined && /^[0-9a-f]{40}$/.test(sha)) return sha;
    }
  } catch {
    // Not a git checkout (e.g. an npm tarball).
  }
  return null;
}
