import { DENSE_METHOD, type MethodRecipe, type PluginDescription, type Recipe, type Registry } from '@sparseland/core';
import { h, replaceChildren } from './dom.js';
import { type FieldSpec, fieldsOf, fieldText, parseFieldText } from './schema-fields.js';

const NONE = '';
const CUSTOM = '(recipe)';

/** A recipe that is one method with parameters (what the form edits); anything else is edited as JSON. */
export function asMethodRecipe(recipe: Recipe | null): MethodRecipe | undefined {
  if (!recipe || typeof recipe !== 'object' || !('method' in recipe)) return undefined;
  return Object.keys(recipe).every((k) => k === 'method' || k === 'params') ? (recipe as MethodRecipe) : undefined;
}

/**
 * A method picker and its parameter form, generated from the registry's descriptions (JSON schemas): every
 * registered pattern and estimator, fields with the papers' defaults, and zod's validation message at the field.
 * Calls `onChange` with a valid recipe (or null for "none" in an optional slot) after each edit.
 */
export class MethodForm {
  readonly element: HTMLElement;
  private readonly select: HTMLSelectElement;
  private readonly about: HTMLElement;
  private readonly fieldsBox: HTMLElement;
  private readonly formError: HTMLElement;
  private readonly descriptions: Map<string, PluginDescription>;
  private inputs = new Map<string, { field: FieldSpec; input: HTMLInputElement | HTMLSelectElement; error: HTMLElement }>();
  private custom: Recipe | undefined;

  constructor(
    private readonly slot: 'A' | 'B',
    private readonly registry: Registry,
    private readonly onChange: (recipe: Recipe | null) => void,
    private readonly optional: boolean,
  ) {
    const all = registry.describe().filter((d) => d.kind === 'pattern' || d.kind === 'estimator');
    this.descriptions = new Map(all.map((d) => [d.name, d]));
    const id = `method-${slot.toLowerCase()}`;
    this.select = h('select', { id, attrs: { 'aria-describedby': `${id}-about` }, on: { change: () => this.picked() } });
    if (optional) this.select.append(h('option', { attrs: { value: NONE } }, '— none —'));
    this.select.append(h('option', { attrs: { value: DENSE_METHOD } }, 'dense (every pair)'));
    for (const [kind, label] of [
      ['pattern', 'Static patterns'],
      ['estimator', 'Dynamic estimators'],
    ] as const) {
      const group = h('optgroup', { attrs: { label } });
      for (const d of all.filter((x) => x.kind === kind)) group.append(h('option', { attrs: { value: d.name } }, d.name));
      this.select.append(group);
    }
    this.select.append(h('option', { attrs: { value: CUSTOM, hidden: true } }, 'recipe from the editor (JSON)'));
    this.about = h('p', { class: 'about', id: `${id}-about` });
    this.fieldsBox = h('div', { class: 'fields' });
    this.formError = h('p', { class: 'error', role: 'alert' });
    this.element = h(
      'fieldset',
      { class: `method-form slot-${slot.toLowerCase()}`, dataset: { slot } },
      h('legend', {}, `Method ${slot}`),
      h('label', { attrs: { for: id } }, 'method'),
      this.select,
      this.about,
      this.fieldsBox,
      this.formError,
    );
  }

  /** Shows a recipe: a single method fills the form; anything else (per-head, unions) is named as a JSON recipe. */
  set(recipe: Recipe | null): void {
    const simple = asMethodRecipe(recipe);
    this.custom = undefined;
    if (recipe === null) {
      this.select.value = NONE;
      this.renderFields(undefined, {});
    } else if (simple && (simple.method === DENSE_METHOD || this.descriptions.has(simple.method))) {
      this.select.value = simple.method;
      this.renderFields(simple.method, simple.params ?? {});
    } else {
      this.custom = recipe;
      this.select.value = CUSTOM;
      replaceChildren(this.about, 'A recipe from the recipe editor (per layer / per head, or a union): edit it there.');
      replaceChildren(this.fieldsBox);
    }
    this.formError.textContent = '';
  }

  private picked(): void {
    const name = this.select.value;
    if (name === CUSTOM && this.custom) {
      this.onChange(this.custom);
      return;
    }
    this.renderFields(name === NONE ? undefined : name, {});
    this.emit();
  }

  private renderFields(method: string | undefined, params: Readonly<Record<string, unknown>>): void {
    this.inputs = new Map();
    const d = method ? this.descriptions.get(method) : undefined;
    if (!method) replaceChildren(this.about, this.optional ? 'No second method.' : '');
    else if (!d) replaceChildren(this.about, 'Every (query, key) pair: the dense reference.');
    else {
      const paper = d.paper
        ? h('a', { attrs: { href: d.paper.url, target: '_blank', rel: 'noopener noreferrer' } }, `${d.paper.title} (${d.paper.year})`)
        : null;
      replaceChildren(this.about, h('span', { class: 'kind' }, d.kind), ' ', d.summary, paper ? h('br') : null, paper);
    }
    const fields = d ? fieldsOf(d.params) : [];
    replaceChildren(this.fieldsBox, ...fields.map((f) => this.renderField(f, params[f.name])));
  }

  private renderField(field: FieldSpec, value: unknown): HTMLElement {
    const id = `${this.slot.toLowerCase()}-${field.name}`;
    const error = h('span', { class: 'field-error', id: `${id}-error`, role: 'alert' });
    let input: HTMLInputElement | HTMLSelectElement;
    const common = { id, attrs: { 'aria-describedby': `${id}-help ${id}-error`, name: field.name } };
    const shown = value ?? field.default;
    if (field.kind === 'boolean') {
      input = h('input', { ...common, attrs: { ...common.attrs, type: 'checkbox' } });
      input.checked = shown === true;
    } else if (field.kind === 'enum') {
      input = h('select', common, ...(field.options ?? []).map((o) => h('option', { attrs: { value: o } }, o)));
      input.value = String(shown ?? field.options?.[0] ?? '');
    } else {
      const numeric = field.kind === 'integer' || field.kind === 'number';
      input = h('input', {
        ...common,
        attrs: {
          ...common.attrs,
          type: numeric ? 'number' : 'text',
          inputmode: field.kind === 'integer' ? 'numeric' : undefined,
          step: field.kind === 'integer' ? 1 : numeric ? 'any' : undefined,
          min: field.min,
          max: field.max,
          placeholder: field.default === undefined ? 'derived' : fieldText(field, field.default),
          spellcheck: 'false',
        },
      });
      input.value = fieldText(field, shown);
    }
    input.addEventListener(field.kind === 'boolean' || field.kind === 'enum' ? 'change' : 'input', () => this.emit());
    this.inputs.set(field.name, { field, input, error });
    const help = h(
      'small',
      { id: `${id}-help` },
      field.description,
      field.default !== undefined ? ` (default ${fieldText(field, field.default)})` : '',
    );
    return h('div', { class: `field field-${field.kind}` }, h('label', { attrs: { for: id } }, field.name), input, help, error);
  }

  /** The parameters the fields hold, those equal to the paper's default left out (the plugin applies it). */
  private params(): { params: Record<string, unknown>; unreadable: boolean } {
    const params: Record<string, unknown> = {};
    let unreadable = false;
    for (const [name, { field, input, error }] of this.inputs) {
      error.textContent = '';
      input.removeAttribute('aria-invalid');
      let value: unknown;
      try {
        value = input instanceof HTMLInputElement && input.type === 'checkbox' ? input.checked : parseFieldText(field, input.value);
      } catch (e) {
        error.textContent = (e as Error).message;
        input.setAttribute('aria-invalid', 'true');
        unreadable = true;
        continue;
      }
      if (value === undefined || JSON.stringify(value) === JSON.stringify(field.default)) continue;
      params[name] = value;
    }
    return { params, unreadable };
  }

  private emit(): void {
    const method = this.select.value;
    this.formError.textContent = '';
    if (method === NONE || method === DENSE_METHOD) {
      this.onChange(method === NONE ? null : { method });
      return;
    }
    const { params, unreadable } = this.params();
    if (unreadable) return;
    const kind = this.registry.has('pattern', method) ? 'pattern' : 'estimator';
    const checked = this.registry.get(kind, method).params.safeParse(params);
    if (!checked.success) {
      for (const issue of checked.error.issues) {
        const target = this.inputs.get(String(issue.path[0] ?? ''));
        const at = issue.path.length > 1 ? `${issue.path.slice(1).join('.')}: ` : '';
        if (target) {
          target.error.textContent = `${at}${issue.message}`;
          target.input.setAttribute('aria-invalid', 'true');
        } else this.formError.textContent = issue.message;
      }
      return;
    }
    this.onChange(Object.keys(params).length ? { method, params } : { method });
  }
}
