// Prepared statements kept between calls. sql.js frees every statement when the
// image is exported, so the store calls `reset()` after each compaction. Searches build
// their SQL from the user's filter, so the cache keeps the most recently used ones only.

import type { Database, Statement } from 'sql.js';

/** More distinct statements than this and the least recently used one is freed. */
const MAX_STATEMENTS = 256;

export class StatementCache {
  private readonly statements = new Map<string, Statement>();

  constructor(private readonly db: Database) {}

  get(sql: string): Statement {
    let s = this.statements.get(sql);
    if (s) {
      // Map order is use order: move it to the end.
      this.statements.delete(sql);
      this.statements.set(sql, s);
      return s;
    }
    if (this.statements.size >= MAX_STATEMENTS) {
      const [oldest, statement] = this.statements.entries().next().value!;
      this.statements.delete(oldest);
      statement.free();
    }
    s = this.db.prepare(sql);
    this.statements.set(sql, s);
    return s;
  }

  reset(): void {
    for (const s of this.statements.values()) {
      try {
        s.free();
      } catch {
        // already freed by export()
      }
    }
    this.statements.clear();
  }
}
