import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { conditionStatus, humanDuration, since } from './print.js';

describe('humanDuration (apimachinery duration.HumanDuration)', () => {
  const s = 1000;
  const m = 60 * s;
  const h = 60 * m;
  const d = 24 * h;
  const cases: [number, string][] = [
    [-3 * s, '<invalid>'],
    [-1 * s, '0s'],
    [0, '0s'],
    [119 * s, '119s'],
    [2 * m, '2m'],
    [3 * m + 20 * s, '3m20s'],
    [10 * m + 30 * s, '10m'],
    [179 * m, '179m'],
    [3 * h, '3h'],
    [5 * h + 7 * m, '5h7m'],
    [47 * h, '47h'],
    [2 * d, '2d'],
    [3 * d + 4 * h, '3d4h'],
    [8 * d, '8d'],
    [729 * d, '729d'],
    [2 * 365 * d, '2y'],
    [3 * 365 * d + 10 * d, '3y10d'],
    [9 * 365 * d, '9y'],
  ];
  for (const [ms, want] of cases) it(`${ms} ms → ${want}`, () => assert.equal(humanDuration(ms), want));

  it('since() reads RFC 3339 and reports <unknown> otherwise', () => {
    const now = Date.parse('2026-01-01T01:00:00Z');
    assert.equal(since('2026-01-01T00:00:00Z', now), '60m');
    assert.equal(since(undefined, now), '<unknown>');
    assert.equal(since('yesterday', now), '<unknown>');
  });

  it('conditionStatus reads .status.conditions', () => {
    const o = { status: { conditions: [{ type: 'Ready', status: 'False' }] } };
    assert.equal(conditionStatus(o, 'Ready'), 'False');
    assert.equal(conditionStatus(o, 'Other'), '');
    assert.equal(conditionStatus({}, 'Ready'), '');
  });
});
