/** A value with subscribers: the page's one source of truth for what the URL describes. */
export class Store<T> {
  private readonly listeners = new Set<(value: T, previous: T) => void>();

  constructor(private value: T) {}

  get(): T {
    return this.value;
  }

  update(patch: Partial<T>): void {
    const previous = this.value;
    this.value = { ...previous, ...patch };
    for (const l of this.listeners) l(this.value, previous);
  }

  subscribe(listener: (value: T, previous: T) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
