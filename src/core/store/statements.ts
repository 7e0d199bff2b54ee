// Prepared statements kept between calls. sql.js frees every statement when the
// image is exported, so the store calls `reset()` after each compaction.

import type { Database, Statement } from 'sql.js';

export class StatementCache {
  private readonly statements = new Map<string, Statement>();

  constructor(private readonly db: Database) {}

  get(sql: string): Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
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
