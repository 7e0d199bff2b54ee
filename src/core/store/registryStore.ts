// The registries' part of the store: their journal mutations, how each is applied,
// and every read of their tables. Models and prompts share the tables, told apart
// by `kind`; what only prompts have (template, messages, settings) is JSON content.

import type { SqlValue } from 'sql.js';
import type { TagValue } from '../model/tracking.ts';

export type RegistryKind = 'model' | 'prompt';

export type RegistryMutation =
  | {
      t: 'registry.create';
      kind: RegistryKind;
      name: string;
      description: string | null;
      tags: TagValue[];
      at: number;
    }
  | {
      t: 'registry.update';
      kind: RegistryKind;
      name: string;
      description: string | null;
      at: number;
    }
  | {
      t: 'registry.setTag';
      kind: RegistryKind;
      name: string;
      version: number | null;
      key: string;
      value: string;
    }
  | {
      t: 'registry.deleteTag';
      kind: RegistryKind;
      name: string;
      version: number | null;
      key: string;
    }
  | {
      t: 'registry.createVersion';
      kind: RegistryKind;
      name: string;
      version: number;
      user: string;
      at: number;
      description: string | null;
      source: string | null;
      runId: string | null;
      status: string;
      content: unknown;
      tags: TagValue[];
    }
  | {
      t: 'registry.updateVersion';
      kind: RegistryKind;
      name: string;
      version: number;
      description: string | null;
      at: number;
    }
  | { t: 'registry.deleteVersion'; kind: RegistryKind; name: string; version: number; at: number }
  | {
      /** Moves the entry with everything it owns: versions, tags, aliases, alias history. */
      t: 'registry.rename';
      kind: RegistryKind;
      name: string;
      newName: string;
      at: number;
    }
  | {
      /** Removes the entry with everything it owns; its name and numbers are free again. */
      t: 'registry.delete';
      kind: RegistryKind;
      name: string;
    }
  | {
      t: 'registry.setAlias';
      kind: RegistryKind;
      name: string;
      alias: string;
      /** null removes the alias. */
      version: number | null;
      from: number | null;
      user: string;
      at: number;
      reason: string | null;
    };

type Run = (sql: string, params: SqlValue[]) => void;

/** Every table that holds rows of a registry entry, keyed by (kind, name). */
const ENTRY_TABLES = [
  'registry_entries',
  'registry_entry_tags',
  'registry_versions',
  'registry_version_tags',
  'registry_aliases',
  'registry_alias_history',
] as const;

export function applyRegistryMutation(m: RegistryMutation, run: Run): void {
  switch (m.t) {
    case 'registry.create':
      run(
        'INSERT INTO registry_entries (kind, name, description, creation_time, last_update_time) VALUES (?, ?, ?, ?, ?)',
        [m.kind, m.name, m.description, m.at, m.at],
      );
      for (const tag of m.tags) {
        run('INSERT INTO registry_entry_tags (kind, name, key, value) VALUES (?, ?, ?, ?)', [
          m.kind,
          m.name,
          tag.key,
          tag.value,
        ]);
      }
      return;
    case 'registry.update':
      run(
        'UPDATE registry_entries SET description = ?, last_update_time = ? WHERE kind = ? AND name = ?',
        [m.description, m.at, m.kind, m.name],
      );
      return;
    case 'registry.setTag':
      if (m.version === null) {
        run(
          'INSERT INTO registry_entry_tags (kind, name, key, value) VALUES (?, ?, ?, ?) ON CONFLICT (kind, name, key) DO UPDATE SET value = excluded.value',
          [m.kind, m.name, m.key, m.value],
        );
      } else {
        run(
          'INSERT INTO registry_version_tags (kind, name, version, key, value) VALUES (?, ?, ?, ?, ?) ON CONFLICT (kind, name, version, key) DO UPDATE SET value = excluded.value',
          [m.kind, m.name, m.version, m.key, m.value],
        );
      }
      return;
    case 'registry.deleteTag':
      if (m.version === null) {
        run('DELETE FROM registry_entry_tags WHERE kind = ? AND name = ? AND key = ?', [
          m.kind,
          m.name,
          m.key,
        ]);
      } else {
        run(
          'DELETE FROM registry_version_tags WHERE kind = ? AND name = ? AND version = ? AND key = ?',
          [m.kind, m.name, m.version, m.key],
        );
      }
      return;
    case 'registry.createVersion':
      run(
        `INSERT INTO registry_versions (kind, name, version, user_id, creation_time, last_update_time, description, source, run_id, status, content_json)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          m.kind,
          m.name,
          m.version,
          m.user,
          m.at,
          m.at,
          m.description,
          m.source,
          m.runId,
          m.status,
          m.content === null || m.content === undefined ? null : JSON.stringify(m.content),
        ],
      );
      for (const tag of m.tags) {
        run(
          'INSERT INTO registry_version_tags (kind, name, version, key, value) VALUES (?, ?, ?, ?, ?)',
          [m.kind, m.name, m.version, tag.key, tag.value],
        );
      }
      run('UPDATE registry_entries SET last_update_time = ? WHERE kind = ? AND name = ?', [
        m.at,
        m.kind,
        m.name,
      ]);
      return;
    case 'registry.updateVersion':
      run(
        'UPDATE registry_versions SET description = ?, last_update_time = ? WHERE kind = ? AND name = ? AND version = ?',
        [m.description, m.at, m.kind, m.name, m.version],
      );
      return;
    case 'registry.deleteVersion':
      run(
        'UPDATE registry_versions SET deleted = 1, last_update_time = ? WHERE kind = ? AND name = ? AND version = ?',
        [m.at, m.kind, m.name, m.version],
      );
      run('DELETE FROM registry_version_tags WHERE kind = ? AND name = ? AND version = ?', [
        m.kind,
        m.name,
        m.version,
      ]);
      return;
    case 'registry.rename':
      // As MLflow: the entry and its versions count as updated at the rename.
      for (const table of ENTRY_TABLES) {
        const touched = table === 'registry_entries' || table === 'registry_versions';
        run(
          touched
            ? `UPDATE ${table} SET name = ?, last_update_time = ? WHERE kind = ? AND name = ?`
            : `UPDATE ${table} SET name = ? WHERE kind = ? AND name = ?`,
          touched ? [m.newName, m.at, m.kind, m.name] : [m.newName, m.kind, m.name],
        );
      }
      return;
    case 'registry.delete':
      // The alias history goes too: a model registered later under the same name
      // starts at version 1 and must not inherit moves that were never its own.
      for (const table of ENTRY_TABLES) {
        run(`DELETE FROM ${table} WHERE kind = ? AND name = ?`, [m.kind, m.name]);
      }
      return;
    case 'registry.setAlias':
      if (m.version === null) {
        run('DELETE FROM registry_aliases WHERE kind = ? AND name = ? AND alias = ?', [
          m.kind,
          m.name,
          m.alias,
        ]);
      } else {
        run(
          'INSERT INTO registry_aliases (kind, name, alias, version) VALUES (?, ?, ?, ?) ON CONFLICT (kind, name, alias) DO UPDATE SET version = excluded.version',
          [m.kind, m.name, m.alias, m.version],
        );
      }
      run(
        'INSERT INTO registry_alias_history (kind, name, alias, from_version, to_version, user_id, time, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
        [m.kind, m.name, m.alias, m.from, m.version, m.user, m.at, m.reason],
      );
      return;
  }
}

// ------------------------------------------------------------------ reads

export interface EntryRow {
  kind: RegistryKind;
  name: string;
  description: string | null;
  creationTime: number;
  lastUpdateTime: number;
  tags: Record<string, string>;
  aliases: Record<string, number>;
  latestVersion: number | null;
  versionCount: number;
}

export interface VersionRow {
  kind: RegistryKind;
  name: string;
  version: number;
  userId: string;
  creationTime: number;
  lastUpdateTime: number;
  description: string | null;
  source: string | null;
  runId: string | null;
  status: string;
  content: unknown;
  tags: Record<string, string>;
  aliases: string[];
}

export interface AliasMoveRow {
  kind: RegistryKind;
  name: string;
  alias: string;
  from: number | null;
  to: number | null;
  userId: string;
  time: number;
  reason: string | null;
}

type Row = Record<string, SqlValue>;
type All = (sql: string, params?: SqlValue[]) => Row[];

export class RegistryReader {
  constructor(private readonly all: All) {}

  entries(kind: RegistryKind): EntryRow[] {
    return this.all('SELECT * FROM registry_entries WHERE kind = ? ORDER BY name', [kind]).map(
      (r) => this.toEntry(r),
    );
  }

  entry(kind: RegistryKind, name: string): EntryRow | undefined {
    const r = this.all('SELECT * FROM registry_entries WHERE kind = ? AND name = ?', [
      kind,
      name,
    ])[0];
    return r && this.toEntry(r);
  }

  private toEntry(r: Row): EntryRow {
    const kind = r.kind as RegistryKind;
    const name = r.name as string;
    const tags: Record<string, string> = {};
    for (const t of this.all(
      'SELECT key, value FROM registry_entry_tags WHERE kind = ? AND name = ? ORDER BY key',
      [kind, name],
    )) {
      tags[t.key as string] = t.value as string;
    }
    const stats = this.all(
      'SELECT max(version) AS latest, count(*) AS n FROM registry_versions WHERE kind = ? AND name = ? AND deleted = 0',
      [kind, name],
    )[0];
    return {
      kind,
      name,
      description: (r.description as string | null) ?? null,
      creationTime: r.creation_time as number,
      lastUpdateTime: r.last_update_time as number,
      tags,
      aliases: this.aliases(kind, name),
      latestVersion: (stats?.latest as number | null) ?? null,
      versionCount: Number(stats?.n ?? 0),
    };
  }

  aliases(kind: RegistryKind, name: string): Record<string, number> {
    const out: Record<string, number> = {};
    for (const a of this.all(
      'SELECT alias, version FROM registry_aliases WHERE kind = ? AND name = ? ORDER BY alias',
      [kind, name],
    )) {
      out[a.alias as string] = a.version as number;
    }
    return out;
  }

  /** The highest number ever given, deleted versions included: numbers are never reused. */
  maxVersion(kind: RegistryKind, name: string): number {
    const r = this.all(
      'SELECT max(version) AS v FROM registry_versions WHERE kind = ? AND name = ?',
      [kind, name],
    )[0];
    return Number(r?.v ?? 0);
  }

  versions(kind: RegistryKind, name: string): VersionRow[] {
    const aliases = this.aliases(kind, name);
    return this.all(
      'SELECT * FROM registry_versions WHERE kind = ? AND name = ? AND deleted = 0 ORDER BY version DESC',
      [kind, name],
    ).map((r) => this.toVersion(r, aliases));
  }

  version(kind: RegistryKind, name: string, version: number): VersionRow | undefined {
    const r = this.all(
      'SELECT * FROM registry_versions WHERE kind = ? AND name = ? AND version = ? AND deleted = 0',
      [kind, name, version],
    )[0];
    return r && this.toVersion(r, this.aliases(kind, name));
  }

  /** Versions registered from a run (the run's "Registered" section). */
  versionsOfRun(runId: string): VersionRow[] {
    return this.all(
      'SELECT * FROM registry_versions WHERE run_id = ? AND deleted = 0 ORDER BY name, version',
      [runId],
    ).map((r) => this.toVersion(r, this.aliases(r.kind as RegistryKind, r.name as string)));
  }

  private toVersion(r: Row, aliases: Record<string, number>): VersionRow {
    const kind = r.kind as RegistryKind;
    const name = r.name as string;
    const version = r.version as number;
    const tags: Record<string, string> = {};
    for (const t of this.all(
      'SELECT key, value FROM registry_version_tags WHERE kind = ? AND name = ? AND version = ? ORDER BY key',
      [kind, name, version],
    )) {
      tags[t.key as string] = t.value as string;
    }
    return {
      kind,
      name,
      version,
      userId: r.user_id as string,
      creationTime: r.creation_time as number,
      lastUpdateTime: r.last_update_time as number,
      description: (r.description as string | null) ?? null,
      source: (r.source as string | null) ?? null,
      runId: (r.run_id as string | null) ?? null,
      status: r.status as string,
      content: r.content_json === null ? null : JSON.parse(r.content_json as string),
      tags,
      aliases: Object.entries(aliases)
        .filter(([, v]) => v === version)
        .map(([a]) => a),
    };
  }

  aliasHistory(kind: RegistryKind, name: string, alias?: string): AliasMoveRow[] {
    const rows = alias
      ? this.all(
          'SELECT * FROM registry_alias_history WHERE kind = ? AND name = ? AND alias = ? ORDER BY id',
          [kind, name, alias],
        )
      : this.all('SELECT * FROM registry_alias_history WHERE kind = ? AND name = ? ORDER BY id', [
          kind,
          name,
        ]);
    return rows.map((r) => ({
      kind,
      name,
      alias: r.alias as string,
      from: (r.from_version as number | null) ?? null,
      to: (r.to_version as number | null) ?? null,
      userId: r.user_id as string,
      time: r.time as number,
      reason: (r.reason as string | null) ?? null,
    }));
  }
}
