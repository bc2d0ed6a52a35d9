/** One form field generated from a plugin parameter's JSON schema. */
export interface FieldSpec {
  readonly name: string;
  /** integer / number: a number input; boolean: a checkbox; enum: a select; json: any other shape, typed as JSON. */
  readonly kind: 'integer' | 'number' | 'boolean' | 'enum' | 'json';
  readonly description: string;
  /** The paper's default (absent: the plugin derives it, e.g. from the sequence length). */
  readonly default?: unknown;
  readonly min?: number;
  readonly max?: number;
  readonly options?: readonly string[];
}

interface JsonSchema {
  readonly type?: string;
  readonly enum?: readonly unknown[];
  readonly default?: unknown;
  readonly description?: string;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly exclusiveMinimum?: number;
  readonly exclusiveMaximum?: number;
  readonly properties?: Record<string, JsonSchema>;
}

/** zod writes Number.MAX_SAFE_INTEGER as the bound of a plain integer: that means no bound. */
const UNBOUNDED = 2 ** 52;

/** The fields of a plugin's `describe().params` schema, in declaration order. */
export function fieldsOf(schema: Record<string, unknown>): FieldSpec[] {
  const properties = (schema as JsonSchema).properties ?? {};
  return Object.entries(properties).map(([name, p]) => {
    const base = { name, description: p.description ?? '', ...(p.default !== undefined ? { default: p.default } : {}) };
    if (p.type === 'integer' || p.type === 'number') {
      const integer = p.type === 'integer';
      const min = p.minimum ?? (p.exclusiveMinimum !== undefined ? p.exclusiveMinimum + (integer ? 1 : 0) : undefined);
      const max = p.maximum ?? (p.exclusiveMaximum !== undefined ? p.exclusiveMaximum - (integer ? 1 : 0) : undefined);
      return {
        ...base,
        kind: p.type,
        ...(min !== undefined && Math.abs(min) < UNBOUNDED ? { min } : {}),
        ...(max !== undefined && Math.abs(max) < UNBOUNDED ? { max } : {}),
      };
    }
    if (p.type === 'boolean') return { ...base, kind: 'boolean' };
    if (p.type === 'string' && Array.isArray(p.enum)) return { ...base, kind: 'enum', options: p.enum.map(String) };
    return { ...base, kind: 'json' };
  });
}

/**
 * Reads a field's text as the value it stands for: '' is "not set" (undefined: the default applies), numbers parse
 * as numbers, JSON fields as JSON. Throws with a message for the field when the text cannot be read.
 */
export function parseFieldText(field: FieldSpec, text: string): unknown {
  const t = text.trim();
  if (t === '') return undefined;
  if (field.kind === 'integer' || field.kind === 'number') {
    const v = Number(t);
    if (!Number.isFinite(v)) throw new Error(`expected a number, got "${t}"`);
    return v;
  }
  if (field.kind === 'json') {
    try {
      return JSON.parse(t);
    } catch {
      throw new Error(`expected JSON such as ${JSON.stringify(field.default ?? [1, 2])}, got "${t}"`);
    }
  }
  return t;
}

/** A value as the text its field shows. */
export function fieldText(field: FieldSpec, value: unknown): string {
  if (value === undefined) return '';
  if (field.kind === 'json') return JSON.stringify(value);
  return String(value);
}
