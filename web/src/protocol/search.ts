// Search as one types: each query waits a moment for the next keystroke,
// and only the answer to the latest query is reported. A late answer to an
// older query is dropped, whatever order the server's answers come in.

/** An answer, with the query it answers. */
export interface SearchResult<T> {
  query: string;
  value: T;
}

/** What the search calls, and when. */
export interface SearchOptions<T> {
  /** Asks the server; a rejection reports nothing. */
  lookup: (query: string) => Promise<T>;
  /** Gets the answer to the latest query only. */
  onResult: (result: SearchResult<T>) => void;
  /** How long a query waits for the next keystroke (ms). */
  delayMs?: number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

/** A debounced search whose latest query wins. */
export class LatestSearch<T> {
  private seq = 0;
  private timer: unknown = null;
  private readonly setTimer: (fn: () => void, ms: number) => unknown;
  private readonly clearTimer: (handle: unknown) => void;

  constructor(private readonly options: SearchOptions<T>) {
    this.setTimer = options.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.clearTimer = options.clearTimer ?? ((h) => clearTimeout(h as ReturnType<typeof setTimeout>));
  }

  /** The query is now `query`; `''` searches nothing (and drops what is on its way). */
  set(query: string): void {
    this.cancel();
    if (query === '') return;
    const mine = this.seq;
    this.timer = this.setTimer(() => {
      this.timer = null;
      this.options.lookup(query).then(
        (value) => { if (mine === this.seq) this.options.onResult({ query, value }); },
        () => {},
      );
    }, this.options.delayMs ?? 150);
  }

  /** Drops the waiting query and any answer on its way (the picker closed). */
  cancel(): void {
    this.seq += 1;
    if (this.timer !== null) this.clearTimer(this.timer);
    this.timer = null;
  }
}
