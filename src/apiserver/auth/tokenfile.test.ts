import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { isKumoError } from '../../lib/errors.js';
import { TokenFileAuthenticator, parseCsv, parseTokenFile } from './tokenfile.js';

describe('token file (--token-auth-file)', () => {
  it('reads kube\'s format: token,user,uid[,"group1,group2"]', async () => {
    const { entries, warnings } = parseTokenFile('t1,alice,u-1,"devs,ops"\nt2,bob,u-2\n\nt3,carol,,qa\n');
    assert.deepEqual(warnings, []);
    assert.deepEqual(entries, [
      { token: 't1', user: { username: 'alice', uid: 'u-1', groups: ['devs', 'ops'] } },
      { token: 't2', user: { username: 'bob', uid: 'u-2', groups: [] } },
      { token: 't3', user: { username: 'carol', groups: ['qa'] } },
    ]);
    const a = new TokenFileAuthenticator(entries);
    assert.deepEqual(await a.authenticateToken('t1'), { user: { username: 'alice', uid: 'u-1', groups: ['devs', 'ops'] }, audiences: [] });
    assert.equal(await a.authenticateToken('t4'), null);
    assert.equal(await a.authenticateToken('t'), null);
  });

  it('refuses lines with fewer than 3 columns and broken quotes; warns on empty and duplicate tokens', () => {
    assert.throws(() => parseTokenFile('t1,alice\n'), (e) => isKumoError(e, 'Invalid') && /at least 3 columns \(token, user name, user uid\), found 2/.test(e.message));
    assert.throws(() => parseTokenFile('t1,alice,u,"devs\n'), /extraneous or missing "/);
    assert.throws(() => parseTokenFile('t1,al"ice,u\n'), /bare "/);
    const { entries, warnings } = parseTokenFile(',nobody,u0\nt1,a,u1\nt1,b,u2\n');
    assert.equal(entries.length, 2);
    assert.match(warnings.join('\n'), /empty token in record 1/);
    assert.match(warnings.join('\n'), /duplicate token in record 3; the last one wins/);
    assert.equal(new TokenFileAuthenticator(entries).size, 1);
  });

  it('parses CSV as Go does: quoted commas, doubled quotes, newlines in quotes, CRLF', () => {
    assert.deepEqual(parseCsv('a,"b,c","d""e"\r\nf,"g\nh",i'), [
      ['a', 'b,c', 'd"e'],
      ['f', 'g\nh', 'i'],
    ]);
  });

  it('reads the file; a missing file is a clear start-up error', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kumo-tokens-'));
    try {
      const file = path.join(dir, 'tokens.csv');
      fs.writeFileSync(file, 'secret-token,jane,1001,"system:masters"\n');
      const { authenticator } = TokenFileAuthenticator.fromFile(file);
      assert.equal((await authenticator.authenticateToken('secret-token'))?.user.username, 'jane');
      assert.throws(() => TokenFileAuthenticator.fromFile(path.join(dir, 'nope.csv')), /--token-auth-file: cannot read .*nope\.csv/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
