// kube-apiserver's static token file (--token-auth-file): CSV lines `token,user,uid[,"group1,group2"]`,
// read once at start. A token found here authenticates as that user; any other token is left to the
// next token authenticator.
import fs from 'node:fs';
import crypto from 'node:crypto';
import { KumoError } from '../../lib/errors.js';
import type { TokenAuthenticator, UserInfo } from './types.js';

export interface TokenFileEntry {
  token: string;
  user: UserInfo;
}

/** Parses the file's text. Throws Invalid for a line with fewer than 3 columns or a broken quote. */
export function parseTokenFile(text: string, file = 'token file'): { entries: TokenFileEntry[]; warnings: string[] } {
  const entries: TokenFileEntry[] = [];
  const warnings: string[] = [];
  const seen = new Set<string>();
  let recordNum = 0;
  for (const record of parseCsv(text, file)) {
    if (record.length < 3) throw new KumoError('Invalid', `${file}: must have at least 3 columns (token, user name, user uid), found ${record.length}`);
    recordNum++;
    const [token = '', name = '', uid = '', groups] = record;
    if (token === '') {
      warnings.push(`${file}: empty token in record ${recordNum}, skipped`);
      continue;
    }
    if (seen.has(token)) warnings.push(`${file}: duplicate token in record ${recordNum}; the last one wins`);
    seen.add(token);
    const user: UserInfo = { username: name, groups: groups === undefined ? [] : groups.split(',').filter((g) => g !== '') };
    if (uid !== '') user.uid = uid;
    entries.push({ token, user });
  }
  return { entries, warnings };
}

/** RFC 4180 records (as Go's encoding/csv reads them): quoted fields may hold commas, `""` and newlines; blank lines are skipped. */
export function parseCsv(text: string, file = 'csv'): string[][] {
  const records: string[][] = [];
  let fields: string[] = [];
  let field = '';
  let i = 0;
  let line = 1;
  let atFieldStart = true;
  let quotedField = false;
  const endField = (): void => {
    fields.push(field);
    field = '';
    atFieldStart = true;
    quotedField = false;
  };
  const endRecord = (): void => {
    endField();
    if (!(fields.length === 1 && fields[0] === '')) records.push(fields);
    fields = [];
  };
  while (i < text.length) {
    const c = text[i];
    if (atFieldStart && c === '"') {
      quotedField = true;
      atFieldStart = false;
      i++;
      for (;;) {
        if (i >= text.length) throw new KumoError('Invalid', `${file}: line ${line}: extraneous or missing " in quoted field`);
        const d = text[i];
        if (d === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        if (d === '\n') line++;
        field += d;
        i++;
      }
      const next = text[i];
      if (next !== undefined && next !== ',' && next !== '\n' && next !== '\r') throw new KumoError('Invalid', `${file}: line ${line}: extraneous or missing " in quoted field`);
      continue;
    }
    atFieldStart = false;
    if (c === ',') {
      endField();
      i++;
    } else if (c === '\r' && text[i + 1] === '\n') {
      i++;
    } else if (c === '\n') {
      endRecord();
      line++;
      i++;
    } else {
      if (c === '"' && !quotedField) throw new KumoError('Invalid', `${file}: line ${line}: bare " in non-quoted field`);
      field += c;
      i++;
    }
  }
  if (field !== '' || fields.length > 0 || quotedField) endRecord();
  return records;
}

export class TokenFileAuthenticator implements TokenAuthenticator {
  readonly name = 'token-file';
  /** By the token's SHA-256, so the lookup does not depend on how much of a guess matches. */
  private readonly byHash = new Map<string, UserInfo>();

  constructor(entries: TokenFileEntry[]) {
    for (const e of entries) this.byHash.set(hash(e.token), e.user);
  }

  static fromFile(file: string): { authenticator: TokenFileAuthenticator; warnings: string[] } {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      throw new KumoError('Invalid', `--token-auth-file: cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`);
    }
    const { entries, warnings } = parseTokenFile(text, file);
    return { authenticator: new TokenFileAuthenticator(entries), warnings };
  }

  get size(): number {
    return this.byHash.size;
  }

  authenticateToken(token: string): Promise<{ user: UserInfo; audiences: string[] } | null> {
    const u = this.byHash.get(hash(token));
    if (!u) return Promise.resolve(null);
    return Promise.resolve({ user: { ...u, groups: [...u.groups] }, audiences: [] });
  }
}

function hash(token: string): string {
  return crypto.createHash('sha256').update(token).digest('base64');
}
