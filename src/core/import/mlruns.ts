// Reads an `mlruns/` folder in MLflow's FileStore layout, as written by
// mlflow/store/tracking/file_store.py and mlflow/store/model_registry/file_store.py:
//   <exp id>/meta.yaml, <exp id>/tags/<key>, .trash/<exp id>/ (deleted experiments),
//   <exp id>/<run id>/meta.yaml, params/<key>, tags/<key>, metrics/<key>
//   ("<timestamp> <value> [<step>]" per line), artifacts/; keys with '/' are subfolders;
//   models/<name>/meta.yaml, tags/, aliases/<alias> (the version), version-<n>/meta.yaml.
// Anything unreadable is reported (file and line) and skipped, never fatal.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { isMap, isScalar, isSeq, parseDocument } from 'yaml';
import type { Node as YamlNode } from 'yaml';
import type { LifecycleStage } from '../model/tracking.ts';
import { listFiles, METRIC_CHUNK, millis, resolveArtifactUri, runStatus } from './source.ts';
import type {
  ArtifactSource,
  ImportIssues,
  MlflowSource,
  SourceExperiment,
  SourceMetricChunk,
  SourceMetricPoint,
  SourceModel,
  SourceModelVersion,
  SourceRun,
  SourceRunHead,
} from './source.ts';

const TRASH = '.trash';
const MODELS = 'models';
// Folders of an experiment that are not runs (FileStore.RESERVED_EXPERIMENT_FOLDERS,
// plus MLflow 3's logged models).
const RESERVED_EXPERIMENT_FOLDERS = new Set(['tags', 'datasets', 'traces', 'models']);
const DELETED_STAGE = 'Deleted_Internal';

type Yaml = Record<string, unknown>;

/** True when `dir` looks like an mlruns folder: it has .trash or an experiment folder. */
export function looksLikeMlruns(dir: string): boolean {
  if (isDir(path.join(dir, TRASH))) return true;
  return listDirs(dir).some((name) => isFile(path.join(dir, name, 'meta.yaml')));
}

export function openMlruns(root: string, issues: ImportIssues): MlflowSource {
  return new MlrunsReader(path.resolve(root), issues);
}

class MlrunsReader implements MlflowSource {
  readonly format = 'mlruns' as const;
  private experimentList: SourceExperiment[] | undefined;
  private readonly experimentDirs = new Map<string, string>();
  private readonly runs = new Map<string, { dir: string; meta: Yaml }>();

  constructor(
    readonly location: string,
    private readonly issues: ImportIssues,
  ) {}

  /** A path as shown in messages: from the mlruns folder's name down. */
  private rel(p: string): string {
    return path.relative(path.dirname(this.location), p).split(path.sep).join('/');
  }

  private readYaml(file: string): Yaml | undefined {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      this.issues.skip(this.rel(file), `cannot be read: ${(e as Error).message}`);
      return undefined;
    }
    const doc = parseDocument(text, { schema: 'failsafe' });
    const error = doc.errors[0];
    if (error) {
      const line = error.linePos?.[0].line;
      const message = error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
      this.issues.skip(
        `${this.rel(file)}${line ? `:${line}` : ''}`,
        `is not valid YAML: ${message}`,
      );
      return undefined;
    }
    const value = pyYaml(doc.contents);
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      this.issues.skip(this.rel(file), 'does not hold a YAML mapping (key: value lines)');
      return undefined;
    }
    return value as Yaml;
  }

  /** `<dir>/<key path>` files as key -> content (params, tags, aliases). */
  private keyFiles(dir: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const { rel, file } of listFiles(dir)) {
      try {
        out[rel] = fs.readFileSync(file, 'utf8');
      } catch (e) {
        this.issues.skip(this.rel(file), `cannot be read: ${(e as Error).message}`);
      }
    }
    return out;
  }

  experiments(): SourceExperiment[] {
    if (this.experimentList) return this.experimentList;
    const folders = [
      ...listDirs(this.location)
        .filter((n) => n !== TRASH && n !== MODELS && !n.startsWith('.'))
        .map((n) => ({ dir: path.join(this.location, n), inTrash: false })),
      ...listDirs(path.join(this.location, TRASH)).map((n) => ({
        dir: path.join(this.location, TRASH, n),
        inTrash: true,
      })),
    ];
    const list: SourceExperiment[] = [];
    for (const { dir, inTrash } of folders) {
      const metaFile = path.join(dir, 'meta.yaml');
      if (!isFile(metaFile)) {
        this.issues.skip(`experiment folder ${this.rel(dir)}`, 'meta.yaml is missing');
        continue;
      }
      const meta = this.readYaml(metaFile);
      if (!meta) continue;
      const id = str(meta.experiment_id);
      const name = str(meta.name);
      if (!id) {
        this.issues.skip(this.rel(metaFile), 'has no experiment_id');
        continue;
      }
      if (id !== path.basename(dir)) {
        this.issues.skip(
          this.rel(metaFile),
          `says experiment_id ${id} but the folder is ${path.basename(dir)} (MLflow ignores such an experiment)`,
        );
        continue;
      }
      if (!name) {
        this.issues.skip(this.rel(metaFile), 'has no name');
        continue;
      }
      if (this.experimentDirs.has(id)) {
        this.issues.skip(
          `experiment folder ${this.rel(dir)}`,
          `experiment ${id} also exists in ${this.rel(this.experimentDirs.get(id)!)}`,
        );
        continue;
      }
      this.experimentDirs.set(id, dir);
      // delete_experiment writes lifecycle_stage: deleted, then moves the folder to .trash.
      const stage: LifecycleStage =
        inTrash || meta.lifecycle_stage === 'deleted' ? 'deleted' : 'active';
      list.push({ id, name, lifecycleStage: stage, tags: this.keyFiles(path.join(dir, 'tags')) });
    }
    this.experimentList = list;
    return list;
  }

  runHeads(): SourceRunHead[] {
    this.experiments();
    const heads: SourceRunHead[] = [];
    for (const [experimentId, expDir] of this.experimentDirs) {
      for (const name of listDirs(expDir)) {
        if (RESERVED_EXPERIMENT_FOLDERS.has(name) || name.startsWith('.')) continue;
        const dir = path.join(expDir, name);
        const metaFile = path.join(dir, 'meta.yaml');
        if (!isFile(metaFile)) {
          this.issues.skip(`run folder ${this.rel(dir)}`, 'meta.yaml is missing');
          continue;
        }
        const meta = this.readYaml(metaFile);
        if (!meta) continue;
        const runId = str(meta.run_id) ?? str(meta.run_uuid);
        if (!runId) {
          this.issues.skip(`run folder ${this.rel(dir)}`, 'meta.yaml is missing run_id');
          continue;
        }
        const metaExperiment = str(meta.experiment_id);
        if (metaExperiment !== experimentId) {
          this.issues.skip(
            `run ${runId}`,
            `${this.rel(metaFile)} names experiment ${metaExperiment ?? '(none)'} but the run is in the folder of experiment ${experimentId} (MLflow ignores such a run)`,
          );
          continue;
        }
        if (this.runs.has(runId)) {
          this.issues.skip(
            `run folder ${this.rel(dir)}`,
            `run ${runId} also exists in ${this.rel(this.runs.get(runId)!.dir)}`,
          );
          continue;
        }
        this.runs.set(runId, { dir, meta });
        const parentFile = path.join(dir, 'tags', 'mlflow.parentRunId');
        heads.push({
          runId,
          experimentId,
          parentRunId: isFile(parentFile) ? fs.readFileSync(parentFile, 'utf8').trim() : null,
          where: this.rel(dir),
        });
      }
    }
    return heads;
  }

  run(head: SourceRunHead): SourceRun | undefined {
    const found = this.runs.get(head.runId);
    if (!found) return undefined;
    const { dir, meta } = found;
    // A meta.yaml without status is a RUNNING run (_read_persisted_run_info_dict).
    const rawStatus = meta.status ?? 1;
    let status = runStatus(rawStatus);
    if (!status) {
      this.issues.note(
        `run ${head.runId}: status ${JSON.stringify(rawStatus)} in ${this.rel(path.join(dir, 'meta.yaml'))} is not an MLflow run status; imported as RUNNING`,
      );
      status = 'RUNNING';
    }
    return {
      ...head,
      runName: str(meta.run_name) ?? null,
      userId: str(meta.user_id) ?? null,
      status,
      startTime: millis(meta.start_time),
      endTime: millis(meta.end_time),
      lifecycleStage: meta.lifecycle_stage === 'deleted' ? 'deleted' : 'active',
      artifactUri: str(meta.artifact_uri) ?? null,
      params: this.keyFiles(path.join(dir, 'params')),
      tags: this.keyFiles(path.join(dir, 'tags')),
    };
  }

  *metrics(run: SourceRun): Iterable<SourceMetricChunk> {
    const dir = this.runs.get(run.runId)?.dir;
    if (!dir) return;
    for (const { rel: key, file } of listFiles(path.join(dir, 'metrics'))) {
      let text: string;
      try {
        text = fs.readFileSync(file, 'utf8');
      } catch (e) {
        this.issues.skip(this.rel(file), `cannot be read: ${(e as Error).message}`);
        continue;
      }
      const lines = text.split('\n');
      let points: SourceMetricPoint[] = [];
      let any = false;
      for (let i = 0; i < lines.length; i++) {
        const line = lines[i]!.trim();
        if (line === '') continue;
        any = true;
        const point = parseMetricLine(line);
        if (typeof point === 'string') {
          this.issues.skip(`${this.rel(file)}:${i + 1}`, point);
          continue;
        }
        points.push(point);
        if (points.length === METRIC_CHUNK) {
          yield { key, points };
          points = [];
        }
      }
      if (points.length > 0) yield { key, points };
      if (!any) this.issues.skip(this.rel(file), 'the metric file is empty');
    }
  }

  artifacts(run: SourceRun): ArtifactSource {
    const dir = this.runs.get(run.runId)?.dir;
    if (!dir) return { kind: 'none' };
    // The FileStore's default artifact root is the store itself: <exp>/<run>/artifacts.
    // It is looked for in the folder given, since mlruns folders are often moved.
    const beside = path.join(dir, 'artifacts');
    if (isDir(beside)) return { kind: 'local', dir: beside };
    if (!run.artifactUri) return { kind: 'none' };
    const resolved = resolveArtifactUri(run.artifactUri, dir, isDir);
    if (resolved.kind !== 'unavailable') return resolved;
    // The recorded path is the default one inside this run's folder (on the machine it
    // came from): no artifacts/ folder here means the run logged none.
    const local =
      !/^[A-Za-z][A-Za-z0-9+.-]*:/.test(run.artifactUri) || /^file:/i.test(run.artifactUri);
    if (local && run.artifactUri.endsWith(`/${run.experimentId}/${run.runId}/artifacts`)) {
      return { kind: 'none' };
    }
    return resolved;
  }

  models(): SourceModel[] {
    const root = path.join(this.location, MODELS);
    const out: SourceModel[] = [];
    for (const folder of listDirs(root)) {
      const dir = path.join(root, folder);
      const metaFile = path.join(dir, 'meta.yaml');
      if (!isFile(metaFile)) {
        this.issues.skip(`model folder ${this.rel(dir)}`, 'meta.yaml is missing');
        continue;
      }
      const meta = this.readYaml(metaFile);
      if (!meta) continue;
      // MLflow finds a model by its folder (models/<name>), so the folder name is the name.
      const name = folder;
      const versions: SourceModelVersion[] = [];
      for (const vfolder of listDirs(dir).filter((n) => n.startsWith('version-'))) {
        const vdir = path.join(dir, vfolder);
        const vmetaFile = path.join(vdir, 'meta.yaml');
        if (!isFile(vmetaFile)) {
          this.issues.skip(`model version folder ${this.rel(vdir)}`, 'meta.yaml is missing');
          continue;
        }
        const vmeta = this.readYaml(vmetaFile);
        if (!vmeta) continue;
        const version = millis(vmeta.version) ?? millis(vfolder.slice('version-'.length));
        if (version === null || version < 1) {
          this.issues.skip(this.rel(vmetaFile), 'has no version number');
          continue;
        }
        versions.push({
          version,
          source: str(vmeta.source) ?? null,
          runId: str(vmeta.run_id) || null,
          status: str(vmeta.status) ?? 'READY',
          description: str(vmeta.description) ?? null,
          deleted: vmeta.current_stage === DELETED_STAGE,
          tags: this.keyFiles(path.join(vdir, 'tags')),
        });
      }
      versions.sort((a, b) => a.version - b.version);
      const aliases: Record<string, number> = {};
      for (const [alias, content] of Object.entries(this.keyFiles(path.join(dir, 'aliases')))) {
        const version = millis(content);
        if (version === null) {
          this.issues.skip(
            this.rel(path.join(dir, 'aliases', alias)),
            `holds ${JSON.stringify(content.slice(0, 40))}, not a version number`,
          );
          continue;
        }
        aliases[alias] = version;
      }
      out.push({
        name,
        description: str(meta.description) ?? null,
        tags: this.keyFiles(path.join(dir, 'tags')),
        versions,
        aliases,
      });
    }
    return out;
  }

  close(): void {}
}

/**
 * One line of a metric file, as FileStore._get_metric_from_line reads it: 3 fields
 * (timestamp, value, step), or 2 (files from before steps existed: step 0).
 * A string is the reason the line is refused.
 */
export function parseMetricLine(line: string): SourceMetricPoint | string {
  const fields = line.trim().split(/\s+/);
  if (fields.length !== 2 && fields.length !== 3) {
    return `has ${fields.length} field${fields.length === 1 ? '' : 's'}; MLflow writes "<timestamp> <value> <step>"`;
  }
  const timestamp = integer(fields[0]!);
  if (timestamp === undefined)
    return `the timestamp ${JSON.stringify(fields[0])} is not a whole number`;
  const value = pythonFloat(fields[1]!);
  if (value === undefined) return `the value ${JSON.stringify(fields[1])} is not a number`;
  const step = fields.length === 3 ? integer(fields[2]!) : 0;
  if (step === undefined) return `the step ${JSON.stringify(fields[2])} is not a whole number`;
  return { timestamp, value, step };
}

function integer(text: string): number | undefined {
  if (!/^[+-]?\d+$/.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** A number as Python's float() reads what f"{value}" wrote: 0.5, 1e-05, nan, inf, -inf. */
function pythonFloat(text: string): number | undefined {
  const t = text.toLowerCase();
  if (/^[+-]?nan$/.test(t)) return NaN;
  if (/^[+]?inf(inity)?$/.test(t)) return Infinity;
  if (/^-inf(inity)?$/.test(t)) return -Infinity;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(t)) return undefined;
  return Number(t);
}

/**
 * A YAML node as PyYAML (YAML 1.1, which MLflow writes and reads) resolves it: plain
 * scalars that look like null, booleans, integers or floats become those; quoted ones
 * stay strings. (A 1.2 parser would read a run name such as 1e5 as a number.)
 */
function pyYaml(node: YamlNode | null | undefined): unknown {
  if (node === null || node === undefined) return null;
  if (isMap(node)) {
    const out: Record<string, unknown> = {};
    for (const pair of node.items) {
      const key = pyYaml(pair.key as YamlNode);
      out[String(key)] = pyYaml(pair.value as YamlNode | null);
    }
    return out;
  }
  if (isSeq(node)) return node.items.map((item) => pyYaml(item as YamlNode));
  if (isScalar(node)) {
    const text = String(node.value ?? '');
    if (node.type !== 'PLAIN') return text;
    if (/^(~|null|Null|NULL|)$/.test(text)) return null;
    if (/^(true|True|TRUE|yes|Yes|YES|on|On|ON)$/.test(text)) return true;
    if (/^(false|False|FALSE|no|No|NO|off|Off|OFF)$/.test(text)) return false;
    if (/^[-+]?(0|[1-9][0-9_]*)$/.test(text)) return Number(text.replace(/_/g, ''));
    if (/^[-+]?([0-9][0-9_]*)?\.[0-9_]*([eE][-+][0-9]+)?$/.test(text) && /\d/.test(text)) {
      return Number(text.replace(/_/g, ''));
    }
    return text;
  }
  return null;
}

/** A string field; numbers (legacy integer ids) as their decimal text. */
function str(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/** Sub-folders of `dir` (following links), sorted; none if it does not exist. */
function listDirs(dir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((n) => isDir(path.join(dir, n))).sort();
}
