import { compileRecipe, type Recipe, type Registry } from '@sparseland/core';
import { h } from './dom.js';

/** File name of an exported recipe. */
export const RECIPE_FILE = 'sparseland-recipe.json';

/**
 * The recipe as JSON: shown, edited (checked against the registry as you type, with the library's error naming the
 * JSON path), exported as a file, imported from one, and applied to method A or B.
 */
export class RecipeEditor {
  readonly element: HTMLElement;
  private readonly area: HTMLTextAreaElement;
  private readonly message: HTMLElement;
  private readonly importInput: HTMLInputElement;

  constructor(
    private readonly registry: Registry,
    private readonly apply: (slot: 'A' | 'B', recipe: Recipe) => void,
    private readonly current: (slot: 'A' | 'B') => Recipe | null,
  ) {
    this.area = h('textarea', { id: 'recipe-json', attrs: { rows: 12, spellcheck: 'false', 'aria-describedby': 'recipe-message' } });
    this.area.addEventListener('input', () => this.check());
    this.message = h('p', { id: 'recipe-message', class: 'muted', role: 'status' });
    this.importInput = h('input', { id: 'recipe-import', attrs: { type: 'file', accept: '.json,application/json' } });
    this.importInput.addEventListener('change', () => this.importFile());
    const button = (id: string, label: string, click: () => void) => h('button', { id, attrs: { type: 'button' }, on: { click } }, label);
    this.element = h(
      'section',
      { class: 'panel recipe-editor', attrs: { 'aria-labelledby': 'recipe-title' } },
      h('h2', { id: 'recipe-title' }, 'Recipe (JSON)'),
      h(
        'p',
        { class: 'muted' },
        'A method and its parameters, per layer and per head if you like; what the search writes. Edit it, then apply it.',
      ),
      h('label', { attrs: { for: 'recipe-json' } }, 'recipe'),
      this.area,
      this.message,
      h(
        'div',
        { class: 'buttons' },
        button('recipe-from-a', 'Load A', () => this.show(this.current('A'))),
        button('recipe-from-b', 'Load B', () => this.show(this.current('B'))),
        button('recipe-to-a', 'Use as A', () => this.use('A')),
        button('recipe-to-b', 'Use as B', () => this.use('B')),
        button('recipe-export', 'Export', () => this.exportFile()),
        h('label', { class: 'button', attrs: { for: 'recipe-import' } }, 'Import…'),
        this.importInput,
      ),
    );
  }

  show(recipe: Recipe | null): void {
    this.area.value = recipe === null ? '' : JSON.stringify(recipe, null, 2);
    this.check();
  }

  /** The recipe in the editor, or undefined (with the reason shown) when it does not compile. */
  value(): Recipe | undefined {
    return this.check();
  }

  private check(): Recipe | undefined {
    const text = this.area.value.trim();
    this.message.className = 'muted';
    if (!text) {
      this.message.textContent = 'empty';
      return undefined;
    }
    let recipe: Recipe;
    try {
      recipe = JSON.parse(text) as Recipe;
    } catch (error) {
      return this.fail(`not JSON: ${(error as Error).message}`);
    }
    try {
      compileRecipe(recipe, this.registry);
    } catch (error) {
      return this.fail((error as Error).message);
    }
    this.message.textContent = 'valid recipe';
    return recipe;
  }

  private fail(message: string): undefined {
    this.message.className = 'error';
    this.message.textContent = message;
    return undefined;
  }

  private use(slot: 'A' | 'B'): void {
    const recipe = this.check();
    if (recipe) this.apply(slot, recipe);
  }

  private exportFile(): void {
    const recipe = this.check();
    if (!recipe) return;
    const url = URL.createObjectURL(new Blob([`${JSON.stringify(recipe, null, 2)}\n`], { type: 'application/json' }));
    const a = h('a', { attrs: { href: url, download: RECIPE_FILE } });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }

  private async importFile(): Promise<void> {
    const file = this.importInput.files?.[0];
    if (!file) return;
    this.area.value = await file.text();
    this.importInput.value = '';
    this.check();
  }
}
