import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDuration } from './duration.js';

describe('parseDuration (Go syntax, as kube-apiserver flags take it)', () => {
  it('reads units, sums and fractions', () => {
    const cases: [string, number][] = [
      ['0', 0],
      ['0s', 0],
      ['5m', 300_000],
      ['90s', 90_000],
      ['1h30m', 5_400_000],
      ['1.5h', 5_400_000],
      ['.5s', 500],
      ['300ms', 300],
      ['1500us', 1.5],
      ['1500µs', 1.5],
      ['2000000ns', 2],
      ['1m0.5s', 60_500],
    ];
    for (const [s, ms] of cases) assert.equal(parseDuration(s), ms, s);
  });

  it('refuses what Go refuses', () => {
    for (const s of ['', '5', '300', '-5m', '+5m', '5 m', 'm', '5d', '5mm', '1h 30m', 'five minutes', '.s', '5m!']) assert.equal(parseDuration(s), null, s);
  });
});
