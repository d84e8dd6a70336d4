/**
 * Exact listing totals remembered per filter under the catalog version they were counted at (see migration 007).
 * A total is only ever reused for the very version it was counted in, so it stays exact: any product write that can
 * change a count bumps the version in its own transaction, and the next listing reads the new version with its page.
 */
export class CountCache {
  private readonly entries = new Map<string, { version: number; total: number }>();

  constructor(private readonly maxEntries = 1_000) {}

  /** The total counted for this filter at exactly this version, if any. */
  get(key: string, version: number): number | undefined {
    const entry = this.entries.get(key);
    return entry?.version === version ? entry.total : undefined;
  }

  /** Remembers a total; a count from an older version never replaces one from a newer version. */
  set(key: string, version: number, total: number): void {
    const entry = this.entries.get(key);
    if (entry && entry.version > version) return;
    // Search terms are free text: the oldest entry goes first once the cache is full.
    if (!entry && this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(key, { version, total });
  }
}
