// The model and prompt registries: registered names, numbered versions (never
// reused), tags, and aliases such as @champion that point at exactly one version,
// moved atomically with every move kept (who, when, from, to, why). MLflow's
// vocabulary: `models:/name/3`, `models:/name@champion`, `prompts:/name@prod`.

import * as os from 'node:os';
import { AlreadyExistsError, NotFoundError, ValidationError } from '../model/errors.ts';
import type { TagValue } from '../model/tracking.ts';
import type { Mutation } from '../store/mutations.ts';
import type { StoreReader } from '../store/queries.ts';
import type { AliasMoveRow, EntryRow, RegistryKind, VersionRow } from '../store/registryStore.ts';
import type { Store } from '../store/store.ts';
import { renderChat, renderTemplate } from './template.ts';

export type { RegistryKind } from '../store/registryStore.ts';

export interface RegisteredEntry {
  kind: RegistryKind;
  name: string;
  description: string | null;
  tags: Record<string, string>;
  creationTime: number;
  lastUpdateTime: number;
  /** alias -> version */
  aliases: Record<string, number>;
  latestVersion: number | null;
  versionCount: number;
}

export type ModelVersionStatus = 'READY' | 'PENDING_REGISTRATION' | 'FAILED_REGISTRATION';

export interface ModelVersion {
  name: string;
  version: number;
  source: string;
  runId: string | null;
  status: ModelVersionStatus;
  description: string | null;
  tags: Record<string, string>;
  userId: string;
  creationTime: number;
  lastUpdateTime: number;
  aliases: string[];
}

export interface ChatMessage {
  role: string;
  content: string;
}

export type ModelSettings = Record<string, string | number | boolean>;

/** What a prompt version holds; immutable once registered. */
export interface PromptContent {
  template: string;
  messages: ChatMessage[] | null;
  modelSettings: ModelSettings;
  commitMessage: string | null;
  sourceFile: string | null;
  sourceDigest: string | null;
}

export interface PromptVersion extends PromptContent {
  name: string;
  version: number;
  description: string | null;
  tags: Record<string, string>;
  userId: string;
  creationTime: number;
  aliases: string[];
}

export type AliasMove = AliasMoveRow;

export interface RegistryOptions {
  clock?: () => number;
  user?: string;
}

const MODEL_NAME = /^[^/@:\s\\][^/@:\\]{0,255}$/;
const PROMPT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
// MLflow: aliases are word characters and dashes; `latest` and `v<number>` are reserved.
const ALIAS = /^[\w-]{1,255}$/;

function checkName(kind: RegistryKind, name: string): void {
  const ok =
    kind === 'model' ? MODEL_NAME.test(name) && name.trim() === name : PROMPT_NAME.test(name);
  if (!ok) {
    throw new ValidationError(
      kind === 'model'
        ? `Invalid model name ${JSON.stringify(name)}: use up to 256 characters without '/', '@', ':' or '\\', not starting or ending with a space.`
        : `Invalid prompt name ${JSON.stringify(name)}: use letters, digits, '.', '_' and '-' (up to 128), starting with a letter or digit.`,
    );
  }
}

export function checkAlias(alias: string): void {
  if (!ALIAS.test(alias) || alias.toLowerCase() === 'latest' || /^v\d+$/i.test(alias)) {
    throw new ValidationError(
      `Invalid alias ${JSON.stringify(alias)}: use letters, digits, '_' and '-'; 'latest' and 'v<number>' are reserved.`,
    );
  }
}

function tagList(tags: Record<string, string> | undefined): TagValue[] {
  return Object.entries(tags ?? {}).map(([key, value]) => ({ key, value: String(value) }));
}

const NOUN: Record<RegistryKind, string> = { model: 'model', prompt: 'prompt' };
const TITLE: Record<RegistryKind, string> = { model: 'Model', prompt: 'Prompt' };

/** Parses `models:/name/3`, `models:/name@alias`, `models:/name/latest` (and prompts:/). */
export function parseRegistryUri(uri: string): {
  kind: RegistryKind;
  name: string;
  version?: number;
  alias?: string;
  latest?: boolean;
} {
  const m = /^(models|prompts):\/(.+)$/.exec(uri.trim());
  if (!m) {
    throw new ValidationError(
      `${JSON.stringify(uri)} is not a registry URI: use models:/<name>/<version>, models:/<name>@<alias> or prompts:/<name>@<alias>.`,
    );
  }
  const kind: RegistryKind = m[1] === 'models' ? 'model' : 'prompt';
  const rest = m[2]!;
  const at = rest.lastIndexOf('@');
  if (at > 0) return { kind, name: rest.slice(0, at), alias: rest.slice(at + 1) };
  const slash = rest.lastIndexOf('/');
  if (slash <= 0) {
    throw new ValidationError(
      `${JSON.stringify(uri)} names no version: add /<version>, /latest or @<alias>.`,
    );
  }
  const name = rest.slice(0, slash);
  const v = rest.slice(slash + 1);
  if (v === 'latest') return { kind, name, latest: true };
  if (!/^\d+$/.test(v) || Number(v) < 1) {
    throw new ValidationError(
      `${JSON.stringify(uri)}: the version must be a positive number, 'latest' or @<alias>.`,
    );
  }
  return { kind, name, version: Number(v) };
}

function sameContent(a: PromptContent, b: PromptContent): boolean {
  return (
    a.template === b.template &&
    JSON.stringify(a.messages ?? null) === JSON.stringify(b.messages ?? null) &&
    JSON.stringify(sortKeys(a.modelSettings)) === JSON.stringify(sortKeys(b.modelSettings))
  );
}

function sortKeys(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o ?? {}).sort(([a], [b]) => a.localeCompare(b)));
}

export class Registry {
  private readonly clock: () => number;

  constructor(
    private readonly store: Store,
    private readonly options: RegistryOptions = {},
  ) {
    this.clock = options.clock ?? Date.now;
  }

  private get r(): StoreReader {
    return this.store.reader;
  }

  private user(): string {
    if (this.options.user) return this.options.user;
    try {
      return os.userInfo().username;
    } catch {
      return process.env.USER ?? 'unknown';
    }
  }

  // ---------------------------------------------------------------- entries

  private toEntry(e: EntryRow): RegisteredEntry {
    return { ...e };
  }

  list(kind: RegistryKind): RegisteredEntry[] {
    return this.r.registry.entries(kind).map((e) => this.toEntry(e));
  }

  get(kind: RegistryKind, name: string): RegisteredEntry {
    const e = this.r.registry.entry(kind, name);
    if (!e) throw new NotFoundError(`No registered ${NOUN[kind]} named ${JSON.stringify(name)}.`);
    return this.toEntry(e);
  }

  find(kind: RegistryKind, name: string): RegisteredEntry | undefined {
    const e = this.r.registry.entry(kind, name);
    return e && this.toEntry(e);
  }

  async create(
    kind: RegistryKind,
    name: string,
    options: { description?: string; tags?: Record<string, string> } = {},
  ): Promise<RegisteredEntry> {
    checkName(kind, name);
    await this.store.write((r) => {
      if (r.registry.entry(kind, name)) {
        throw new AlreadyExistsError(
          `A ${NOUN[kind]} named ${JSON.stringify(name)} is already registered.`,
        );
      }
      const m: Mutation = {
        t: 'registry.create',
        kind,
        name,
        description: options.description ?? null,
        tags: tagList(options.tags),
        at: this.clock(),
      };
      return { mutations: [m], result: undefined };
    });
    return this.get(kind, name);
  }

  async updateDescription(
    kind: RegistryKind,
    name: string,
    description: string | null,
  ): Promise<void> {
    await this.store.write((r) => {
      if (!r.registry.entry(kind, name))
        throw new NotFoundError(`No registered ${NOUN[kind]} named ${JSON.stringify(name)}.`);
      return {
        mutations: [{ t: 'registry.update', kind, name, description, at: this.clock() }],
        result: undefined,
      };
    });
  }

  async setTag(
    kind: RegistryKind,
    name: string,
    key: string,
    value: string,
    version?: number,
  ): Promise<void> {
    if (!key.trim()) throw new ValidationError('A tag needs a key.');
    await this.store.write((r) => {
      this.mustExist(r, kind, name, version);
      return {
        mutations: [{ t: 'registry.setTag', kind, name, version: version ?? null, key, value }],
        result: undefined,
      };
    });
  }

  async deleteTag(kind: RegistryKind, name: string, key: string, version?: number): Promise<void> {
    await this.store.write((r) => {
      this.mustExist(r, kind, name, version);
      return {
        mutations: [{ t: 'registry.deleteTag', kind, name, version: version ?? null, key }],
        result: undefined,
      };
    });
  }

  /**
   * Renames an entry; its versions (numbers kept), tags, aliases and alias history
   * move with it. Refused when the new name is taken: nothing is merged.
   */
  async rename(kind: RegistryKind, name: string, newName: string): Promise<RegisteredEntry> {
    checkName(kind, newName);
    await this.store.write((r) => {
      this.mustExist(r, kind, name);
      if (r.registry.entry(kind, newName)) {
        throw new AlreadyExistsError(
          newName === name
            ? `The ${NOUN[kind]} is already named ${JSON.stringify(name)}.`
            : `Cannot rename ${JSON.stringify(name)} to ${JSON.stringify(newName)}: a ${NOUN[kind]} with that name is already registered. Pick another name, or delete that ${NOUN[kind]} first.`,
        );
      }
      return {
        mutations: [{ t: 'registry.rename', kind, name, newName, at: this.clock() }],
        result: undefined,
      };
    });
    return this.get(kind, newName);
  }

  /**
   * Deletes an entry with all its versions, tags, aliases and alias history, as
   * MLflow's delete_registered_model does. The name can then be registered afresh.
   */
  async delete(kind: RegistryKind, name: string): Promise<void> {
    await this.store.write((r) => {
      this.mustExist(r, kind, name);
      return { mutations: [{ t: 'registry.delete', kind, name }], result: undefined };
    });
  }

  private mustExist(r: StoreReader, kind: RegistryKind, name: string, version?: number): void {
    if (!r.registry.entry(kind, name))
      throw new NotFoundError(`No registered ${NOUN[kind]} named ${JSON.stringify(name)}.`);
    if (version !== undefined && !r.registry.version(kind, name, version)) {
      throw new NotFoundError(`${TITLE[kind]} ${name} has no version ${version}.`);
    }
  }

  // ---------------------------------------------------------------- versions

  private versionRow(kind: RegistryKind, name: string, version: number): VersionRow {
    const v = this.r.registry.version(kind, name, version);
    if (!v) {
      this.get(kind, name);
      throw new NotFoundError(`${TITLE[kind]} ${name} has no version ${version}.`);
    }
    return v;
  }

  /** A version by number, alias, or 'latest'. */
  resolveVersion(kind: RegistryKind, name: string, ref: number | string): number {
    if (typeof ref === 'number') return this.versionRow(kind, name, ref).version;
    const s = ref.startsWith('@') ? ref.slice(1) : ref;
    if (/^\d+$/.test(s) && !ref.startsWith('@'))
      return this.versionRow(kind, name, Number(s)).version;
    const entry = this.get(kind, name);
    if (s === 'latest') {
      if (entry.latestVersion === null)
        throw new NotFoundError(`${TITLE[kind]} ${name} has no versions yet.`);
      return entry.latestVersion;
    }
    const v = entry.aliases[s];
    if (v === undefined) {
      const known = Object.keys(entry.aliases);
      throw new NotFoundError(
        `${TITLE[kind]} ${name} has no alias @${s}${known.length ? ` (it has ${known.map((a) => `@${a}`).join(', ')})` : ' (it has no aliases yet)'}.`,
      );
    }
    return v;
  }

  versions(kind: RegistryKind, name: string): VersionRow[] {
    this.get(kind, name);
    return this.r.registry.versions(kind, name);
  }

  /**
   * Deletes a version. A version that aliases point at is refused, unless
   * `dropAliases` is set (MLflow's behaviour, for its REST API): then those aliases
   * are removed in the same write, each removal kept in the alias history.
   */
  async deleteVersion(
    kind: RegistryKind,
    name: string,
    version: number,
    options: { dropAliases?: boolean } = {},
  ): Promise<void> {
    await this.store.write((r) => {
      this.mustExist(r, kind, name, version);
      const pointing = Object.entries(r.registry.aliases(kind, name))
        .filter(([, v]) => v === version)
        .map(([alias]) => alias);
      if (pointing.length > 0 && !options.dropAliases) {
        throw new ValidationError(
          `Version ${version} of ${name} is ${pointing.map((a) => `@${a}`).join(', ')}: move or remove ${pointing.length === 1 ? 'that alias' : 'those aliases'} first.`,
        );
      }
      const at = this.clock();
      const mutations: Mutation[] = pointing.map((alias) => ({
        t: 'registry.setAlias',
        kind,
        name,
        alias,
        version: null,
        from: version,
        user: this.user(),
        at,
        reason: `version ${version} deleted`,
      }));
      mutations.push({ t: 'registry.deleteVersion', kind, name, version, at });
      return { mutations, result: undefined };
    });
  }

  async updateVersionDescription(
    kind: RegistryKind,
    name: string,
    version: number,
    description: string | null,
  ): Promise<void> {
    await this.store.write((r) => {
      this.mustExist(r, kind, name, version);
      return {
        mutations: [
          { t: 'registry.updateVersion', kind, name, version, description, at: this.clock() },
        ],
        result: undefined,
      };
    });
  }

  // ---------------------------------------------------------------- aliases

  /** Points `alias` at `version` (moving it if it pointed elsewhere); the move is recorded. */
  async setAlias(
    kind: RegistryKind,
    name: string,
    alias: string,
    version: number,
    options: { reason?: string } = {},
  ): Promise<{ from: number | null; to: number }> {
    checkAlias(alias);
    return this.store.write((r) => {
      this.mustExist(r, kind, name, version);
      const from = r.registry.aliases(kind, name)[alias] ?? null;
      const mutations: Mutation[] =
        from === version
          ? []
          : [
              {
                t: 'registry.setAlias',
                kind,
                name,
                alias,
                version,
                from,
                user: this.user(),
                at: this.clock(),
                reason: options.reason?.trim() || null,
              },
            ];
      return { mutations, result: { from, to: version } };
    });
  }

  async removeAlias(
    kind: RegistryKind,
    name: string,
    alias: string,
    options: { reason?: string } = {},
  ): Promise<number> {
    return this.store.write((r) => {
      this.mustExist(r, kind, name);
      const from = r.registry.aliases(kind, name)[alias];
      if (from === undefined)
        throw new NotFoundError(`${TITLE[kind]} ${name} has no alias @${alias}.`);
      return {
        mutations: [
          {
            t: 'registry.setAlias',
            kind,
            name,
            alias,
            version: null,
            from,
            user: this.user(),
            at: this.clock(),
            reason: options.reason?.trim() || null,
          },
        ],
        result: from,
      };
    });
  }

  aliasHistory(kind: RegistryKind, name: string, alias?: string): AliasMove[] {
    this.get(kind, name);
    return this.r.registry.aliasHistory(kind, name, alias);
  }

  // ---------------------------------------------------------------- models

  private toModelVersion(v: VersionRow): ModelVersion {
    return {
      name: v.name,
      version: v.version,
      source: v.source ?? '',
      runId: v.runId,
      status: v.status as ModelVersionStatus,
      description: v.description,
      tags: v.tags,
      userId: v.userId,
      creationTime: v.creationTime,
      lastUpdateTime: v.lastUpdateTime,
      aliases: v.aliases,
    };
  }

  /** Registers a new version of a model (creating the model when `create` is set). */
  async createModelVersion(
    name: string,
    options: {
      source: string;
      runId?: string | null;
      description?: string;
      tags?: Record<string, string>;
      create?: boolean;
    },
  ): Promise<ModelVersion> {
    checkName('model', name);
    if (!options.source.trim())
      throw new ValidationError('A model version needs a source: an artifact path or URI.');
    const version = await this.store.write((r) => {
      const mutations: Mutation[] = [];
      const at = this.clock();
      if (!r.registry.entry('model', name)) {
        if (!options.create)
          throw new NotFoundError(`No registered model named ${JSON.stringify(name)}.`);
        mutations.push({
          t: 'registry.create',
          kind: 'model',
          name,
          description: null,
          tags: [],
          at,
        });
      }
      if (options.runId && !r.runInfo(options.runId)) {
        throw new NotFoundError(`No run with id ${options.runId}.`);
      }
      const version = r.registry.maxVersion('model', name) + 1;
      mutations.push({
        t: 'registry.createVersion',
        kind: 'model',
        name,
        version,
        user: this.user(),
        at,
        description: options.description ?? null,
        source: options.source,
        runId: options.runId ?? null,
        status: 'READY',
        content: null,
        tags: tagList(options.tags),
      });
      return { mutations, result: version };
    });
    return this.modelVersion(name, version);
  }

  modelVersion(name: string, ref: number | string): ModelVersion {
    return this.toModelVersion(
      this.versionRow('model', name, this.resolveVersion('model', name, ref)),
    );
  }

  modelVersions(name: string): ModelVersion[] {
    return this.versions('model', name).map((v) => this.toModelVersion(v));
  }

  /** Versions registered from this run, of models and prompts. */
  versionsOfRun(runId: string): VersionRow[] {
    return this.r.registry.versionsOfRun(runId);
  }

  // ---------------------------------------------------------------- prompts

  private toPromptVersion(v: VersionRow): PromptVersion {
    const c = (v.content ?? {}) as Partial<PromptContent>;
    return {
      name: v.name,
      version: v.version,
      template: c.template ?? '',
      messages: c.messages ?? null,
      modelSettings: c.modelSettings ?? {},
      commitMessage: c.commitMessage ?? null,
      sourceFile: c.sourceFile ?? null,
      sourceDigest: c.sourceDigest ?? null,
      description: v.description,
      tags: v.tags,
      userId: v.userId,
      creationTime: v.creationTime,
      aliases: v.aliases,
    };
  }

  /**
   * Registers a prompt version (creating the prompt on first use). When the content
   * equals the latest version nothing is written and `created` is false.
   */
  async registerPrompt(
    name: string,
    content: Partial<PromptContent> & { template: string },
    options: { description?: string; tags?: Record<string, string> } = {},
  ): Promise<{ version: PromptVersion; created: boolean; message: string }> {
    checkName('prompt', name);
    const full: PromptContent = {
      template: content.template,
      messages: content.messages ?? null,
      modelSettings: content.modelSettings ?? {},
      commitMessage: content.commitMessage?.trim() || null,
      sourceFile: content.sourceFile ?? null,
      sourceDigest: content.sourceDigest ?? null,
    };
    if (!full.template.trim() && !(full.messages && full.messages.some((m) => m.content.trim()))) {
      throw new ValidationError(
        `The prompt ${name} is empty: a version needs a template or messages.`,
      );
    }
    const result = await this.store.write((r) => {
      const mutations: Mutation[] = [];
      const at = this.clock();
      const entry = r.registry.entry('prompt', name);
      if (!entry) {
        mutations.push({
          t: 'registry.create',
          kind: 'prompt',
          name,
          description: options.description ?? null,
          tags: [],
          at,
        });
      } else if (entry.latestVersion !== null) {
        const latest = r.registry.version('prompt', name, entry.latestVersion)!;
        if (sameContent(this.toPromptVersion(latest), full)) {
          return { mutations: [], result: { version: entry.latestVersion, created: false } };
        }
      }
      const version = r.registry.maxVersion('prompt', name) + 1;
      mutations.push({
        t: 'registry.createVersion',
        kind: 'prompt',
        name,
        version,
        user: this.user(),
        at,
        description: options.description ?? null,
        source: full.sourceFile,
        runId: null,
        status: 'READY',
        content: full,
        tags: tagList(options.tags),
      });
      return { mutations, result: { version, created: true } };
    });
    const version = this.promptVersion(name, result.version);
    return {
      version,
      created: result.created,
      message: result.created
        ? `Registered ${name} version ${result.version}.`
        : `${name} version ${result.version} already has this text; nothing was registered.`,
    };
  }

  /** The newest version whose text and settings equal `content`, if any. */
  matchingPromptVersion(
    name: string,
    content: Partial<PromptContent> & { template: string },
  ): PromptVersion | undefined {
    if (!this.find('prompt', name)) return undefined;
    const full: PromptContent = {
      template: content.template,
      messages: content.messages ?? null,
      modelSettings: content.modelSettings ?? {},
      commitMessage: null,
      sourceFile: null,
      sourceDigest: null,
    };
    return this.promptVersions(name).find((v) => sameContent(v, full));
  }

  promptVersion(name: string, ref: number | string): PromptVersion {
    return this.toPromptVersion(
      this.versionRow('prompt', name, this.resolveVersion('prompt', name, ref)),
    );
  }

  promptVersions(name: string): PromptVersion[] {
    return this.versions('prompt', name).map((v) => this.toPromptVersion(v));
  }

  /**
   * Fills a prompt version with variables: its template, or each of its chat
   * messages. A missing or unknown variable is a ValidationError naming it.
   */
  render(
    version: Pick<PromptVersion, 'template' | 'messages'>,
    variables: Record<string, unknown>,
  ): { text: string | null; messages: ChatMessage[] | null } {
    if (version.messages && version.messages.length > 0) {
      return { text: null, messages: renderChat(version.messages, variables) };
    }
    return { text: renderTemplate(version.template, variables), messages: null };
  }

  // ---------------------------------------------------------------- URIs

  resolveModelUri(uri: string): ModelVersion {
    const p = parseRegistryUri(uri);
    if (p.kind !== 'model')
      throw new ValidationError(`${uri} is a prompt URI; a model URI starts with models:/.`);
    return this.modelVersion(p.name, p.version ?? (p.latest ? 'latest' : `@${p.alias}`));
  }

  resolvePromptUri(uri: string): PromptVersion {
    const p = parseRegistryUri(uri);
    if (p.kind !== 'prompt')
      throw new ValidationError(`${uri} is a model URI; a prompt URI starts with prompts:/.`);
    return this.promptVersion(p.name, p.version ?? (p.latest ? 'latest' : `@${p.alias}`));
  }
}
