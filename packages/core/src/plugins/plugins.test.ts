import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { causal } from '../masks/mask-mod.js';
import { referenceBackend } from '../reference/reference-backend.js';
import { closestName } from './closest-name.js';
import { defineEstimator, definePattern } from './define.js';
import { createRegistry } from './registry.js';

const window = definePattern({
  name: 'test-window',
  summary: 'A causal band.',
  paper: { title: 'Test', year: 2024, url: 'https://example.org' },
  params: z.object({ window: z.number().int().min(1).default(4), sink: z.number().int().min(0).default(0) }).strict(),
  budget: { param: 'window', denser: 'higher' },
  build: (p) => ({ causal: true, maskMod: () => (_h, q, k) => k <= q && (q - k < p.window || k < p.sink) }),
});

const noop = defineEstimator({
  name: 'test-noop',
  summary: 'Keeps nothing.',
  params: z.object({}),
  build: () => async () => ({}),
});

describe('define*', () => {
  it('makes frozen plugins with typed, defaulted params', () => {
    expect(Object.isFrozen(window)).toBe(true);
    expect(window.kind).toBe('pattern');
    const p = window.parseParams({ window: 8 });
    expect(p).toEqual({ window: 8, sink: 0 });
    expect(window.build(p).maskMod?.({ heads: 1, qLength: 10, kvLength: 10, qOffset: 0 })(0, 9, 1)).toBe(false);
  });

  it('rejects params out of range with the JSON path and what was allowed', () => {
    expect(() => window.parseParams({ window: 0 })).toThrow(/E_PARAMS.*test-window.*params\.window.*>=1.*got 0/);
    expect(() => window.parseParams({ windw: 3 })).toThrow(/E_PARAMS.*windw/);
    expect(() => window.parseParams({ window: 'wide' })).toThrow(/params\.window.*got "wide"/);
  });

  it('rejects malformed definitions', () => {
    expect(() => definePattern({ name: 'Bad Name', summary: 'x', params: z.object({}), build: () => ({ causal: false }) })).toThrow(
      /kebab-case/,
    );
    expect(() => definePattern({ name: 'ok', summary: '', params: z.object({}), build: () => ({ causal: false }) })).toThrow(/summary/);
    expect(() => definePattern({ name: 'ok', summary: 's', params: {} as never, build: () => ({ causal: false }) })).toThrow(/zod schema/);
  });
});

describe('budget declarations', () => {
  const params = z
    .object({
      stride: z.number().int().min(1).default(8),
      kernel: z.union([z.number().int().min(1), z.array(z.number().int())]).default(3),
      mode: z.enum(['a', 'b']).default('a'),
    })
    .strict();
  const build = () => ({ causal: true });

  it('accept a numeric parameter (also one branch of a union) with a direction, or none', () => {
    expect(definePattern({ name: 'p', summary: 's', params, budget: { param: 'stride', denser: 'lower' }, build }).budget).toEqual({
      param: 'stride',
      denser: 'lower',
    });
    expect(definePattern({ name: 'p', summary: 's', params, budget: { param: 'kernel', denser: 'higher' }, build }).name).toBe('p');
    expect(definePattern({ name: 'p', summary: 's', params, budget: 'none', build }).budget).toBe('none');
    expect(definePattern({ name: 'p', summary: 's', params, build }).budget).toBeUndefined();
  });

  it('reject a parameter the schema lacks or that is not numeric, and a missing direction, naming what is allowed', () => {
    expect(() => definePattern({ name: 'p', summary: 's', params, budget: { param: 'window', denser: 'higher' }, build })).toThrow(
      /E_PARAMS.*pattern "p": budget\.param must be one of its numeric parameters \(stride, kernel\), got "window"/,
    );
    expect(() => definePattern({ name: 'p', summary: 's', params, budget: { param: 'mode', denser: 'higher' }, build })).toThrow(
      /numeric parameters.*got "mode"/,
    );
    expect(() =>
      defineEstimator({
        name: 'e',
        summary: 's',
        params,
        budget: { param: 'stride', denser: 'up' as never },
        build: () => async () => ({}),
      }),
    ).toThrow(/estimator "e": budget\.denser must be 'higher' or 'lower', got "up"/);
    expect(() => definePattern({ name: 'p', summary: 's', params, budget: 'stride' as never, build })).toThrow(
      /budget must be \{ param: <a numeric parameter>, denser: 'higher' \| 'lower' \} or 'none', got "stride"/,
    );
  });
});

describe('createRegistry', () => {
  const registry = createRegistry({ plugins: [window, false, [noop, null], referenceBackend] });

  it('gets and lists plugins by kind, ignoring falsy entries and flattening presets', () => {
    expect(registry.get('pattern', 'test-window')).toBe(window);
    expect(registry.list('estimator').map((p) => p.name)).toEqual(['test-noop']);
    expect(registry.list().length).toBe(3);
    expect(registry.has('backend', 'reference')).toBe(true);
  });

  it('throws E_UNKNOWN_PLUGIN with the closest name', () => {
    expect(() => registry.get('pattern', 'test-windw')).toThrow(/E_UNKNOWN_PLUGIN.*"test-windw".*Did you mean "test-window"/);
    expect(() => registry.get('kv-policy', 'h2o')).toThrow(/No kv-policy is registered/);
  });

  it('throws on duplicate names', () => {
    expect(() => createRegistry({ plugins: [window, window] })).toThrow(/E_DUPLICATE_PLUGIN.*test-window/);
  });

  it('rejects things that are not plugins', () => {
    expect(() => createRegistry({ plugins: [causal as never] })).toThrow(/E_PARAMS.*definePattern/);
  });

  it('describes plugins with a JSON schema of their params (defaults included)', () => {
    const d = registry.describe().find((x) => x.name === 'test-window');
    if (!d) throw new Error('test-window not described');
    expect(d.paper?.year).toBe(2024);
    const props = (d.params as { properties: Record<string, { default?: number; minimum?: number }> }).properties;
    expect(props['window']?.default).toBe(4);
    expect(props['window']?.minimum).toBe(1);
    expect(d.budget).toEqual({ param: 'window', denser: 'higher' });
    expect(registry.describe().find((x) => x.name === 'test-noop')).not.toHaveProperty('budget');
    expect(JSON.parse(JSON.stringify(registry.describe())).length).toBe(3);
  });
});

describe('closestName', () => {
  it('suggests plausible typos only', () => {
    expect(closestName('slidng-window', ['sliding-window', 'a-shape'])).toBe('sliding-window');
    expect(closestName('zzzzzz', ['sliding-window', 'a-shape'])).toBeUndefined();
  });
});
