import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addQuantities, compareQuantities, formatQuantity, parseQuantity, prettyResourceList, quantityMilliValue, quantityValue, scaleQuantity, subtractQuantities, type Quantity } from './quantity.js';

function q(s: string | number): Quantity {
  const v = parseQuantity(s);
  assert.ok(v, `${String(s)} parses`);
  return v;
}

describe('resource quantities', () => {
  it('print in kube canonical form', () => {
    const cases: [string | number, string][] = [
      ['0', '0'],
      [0, '0'],
      ['2', '2'],
      [3, '3'],
      ['1000', '1k'],
      ['1500', '1500'],
      ['0.5', '500m'],
      ['1.5', '1500m'],
      ['500m', '500m'],
      ['100n', '100n'],
      ['1Ki', '1Ki'],
      ['1024', '1024'],
      ['1024Ki', '1Mi'],
      ['1536Mi', '1536Mi'],
      ['1.5Gi', '1536Mi'],
      ['0.5Ki', '512'],
      ['4Gi', '4Gi'],
      ['1e3', '1e3'],
      ['1E6', '1e6'],
      ['12e0', '12'],
      ['1k', '1k'],
      ['1M', '1M'],
      ['-2', '-2'],
      ['+3', '3'],
      ['.5', '500m'],
      ['1.', '1'],
    ];
    for (const [input, want] of cases) assert.equal(formatQuantity(q(input)), want, `${String(input)}`);
  });

  it('refuses what is not a quantity', () => {
    for (const bad of ['', 'abc', '1.2.3', '1Kb', '1 Gi', 'Gi', '--1', '1e99', null, true, {}]) assert.equal(parseQuantity(bad), null, JSON.stringify(bad));
  });

  it('rounds finer than nano up', () => {
    assert.equal(formatQuantity(q('0.0000000001')), '1n');
  });

  it('adds, subtracts and compares exactly, keeping the left format unless it is zero', () => {
    assert.equal(formatQuantity(addQuantities(q('4Gi'), q('4Gi'))), '8Gi');
    assert.equal(formatQuantity(addQuantities(q('0'), q('4Gi'))), '4Gi');
    assert.equal(formatQuantity(addQuantities(q('2'), q('500m'))), '2500m');
    assert.equal(formatQuantity(subtractQuantities(q('8Gi'), q('4Gi'))), '4Gi');
    assert.equal(formatQuantity(scaleQuantity(q('4Gi'), 3)), '12Gi');
    assert.equal(compareQuantities(q('1Gi'), q('1024Mi')), 0);
    assert.equal(compareQuantities(q('1G'), q('1Gi')), -1);
    assert.equal(compareQuantities(q('2'), q('1999m')), 1);
    assert.equal(quantityValue(q('1500m')), 2);
    assert.equal(quantityMilliValue(q('1.5')), 1500);
  });

  it('prints resource lists as kube quota messages do', () => {
    assert.equal(prettyResourceList(new Map([['memory', q('8Gi')], ['cpu', q('4')]])), 'cpu=4,memory=8Gi');
  });
});
