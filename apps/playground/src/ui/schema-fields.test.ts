import { createRegistry } from '@sparseland/core';
import { estimators } from '@sparseland/estimators';
import { patterns } from '@sparseland/patterns';
import { describe, expect, it } from 'vitest';
import { fieldsOf, fieldText, parseFieldText } from './schema-fields.js';

const registry = createRegistry({ plugins: [patterns, estimators] });
const schema = (name: string) => registry.describe().find((d) => d.name === name)?.params ?? {};

describe('form fields from plugin schemas', () => {
  it('numbers with their bounds and defaults, booleans, enums', () => {
    const window = fieldsOf(schema('sliding-window'));
    expect(window).toEqual([
      { name: 'window', kind: 'integer', description: expect.stringContaining('Mistral'), default: 4096, min: 1 },
      { name: 'causal', kind: 'boolean', description: expect.any(String), default: true },
    ]);
    const strided = fieldsOf(schema('strided'));
    expect(strided[1]).toMatchObject({ name: 'heads', kind: 'enum', options: ['merged', 'alternating'], default: 'merged' });
    const zipvl = fieldsOf(schema('zipvl'));
    expect(zipvl[0]).toMatchObject({ name: 'threshold', kind: 'number', min: 0, max: 1, default: 0.975 });
  });

  it('arrays and unions become JSON fields; a parameter without default is derived', () => {
    const moa = fieldsOf(schema('moa'));
    expect(moa.find((f) => f.name === 'alpha')).toMatchObject({ kind: 'json', default: [1024, 0, -1024, 1024] });
    expect(moa.find((f) => f.name === 'length')).toMatchObject({ kind: 'integer', min: 1 });
    expect(moa.find((f) => f.name === 'length')).not.toHaveProperty('default');
  });

  it('every registered plugin gives fields (forms never fail to build)', () => {
    for (const d of registry.describe()) expect(() => fieldsOf(d.params)).not.toThrow();
  });

  it('reads and writes field text', () => {
    const [window] = fieldsOf(schema('sliding-window'));
    const alpha = fieldsOf(schema('moa')).find((f) => f.name === 'alpha');
    if (!window || !alpha) throw new Error('fields missing');
    expect(parseFieldText(window, ' 64 ')).toBe(64);
    expect(parseFieldText(window, '')).toBeUndefined();
    expect(() => parseFieldText(window, 'sixty')).toThrow(/expected a number/);
    expect(parseFieldText(alpha, '[1, 2]')).toEqual([1, 2]);
    expect(() => parseFieldText(alpha, '[1, 2')).toThrow(/expected JSON such as \[1024,0,-1024,1024\]/);
    expect(fieldText(alpha, [3, 4])).toBe('[3,4]');
    expect(fieldText(window, undefined)).toBe('');
  });
});
