// The wire shapes of MLflow's REST API (service.proto, model_registry.proto) built from
// the core's types: snake_case names, ids as strings, timestamps as numbers, tags and
// params as [{key, value}], and the `mlflow-artifacts:/` URIs the Python client
// uploads through.

import type { ModelVersion, RegisteredEntry } from '../core/registry/registry.ts';
import type {
  DatasetInput,
  Experiment,
  MetricPoint,
  Run,
  RunInfo,
} from '../core/model/tracking.ts';

export interface KeyValue {
  key: string;
  value: string;
}

export function keyValues(record: Record<string, string>): KeyValue[] {
  return Object.entries(record).map(([key, value]) => ({ key, value }));
}

export function tagRecord(list: readonly KeyValue[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const { key, value } of list ?? []) out[key] = value;
  return out;
}

/** Where the artifacts of a run are, as the artifact proxy names them. */
export function runArtifactUri(info: Pick<RunInfo, 'experimentId' | 'runId'>): string {
  return `mlflow-artifacts:/${info.experimentId}/${info.runId}/artifacts`;
}

export function experimentJson(e: Experiment): Record<string, unknown> {
  return {
    experiment_id: e.experimentId,
    name: e.name,
    artifact_location: `mlflow-artifacts:/${e.experimentId}`,
    lifecycle_stage: e.lifecycleStage,
    last_update_time: e.lastUpdateTime,
    creation_time: e.creationTime,
    tags: keyValues(e.tags),
  };
}

export function runInfoJson(info: RunInfo): Record<string, unknown> {
  return {
    run_id: info.runId,
    run_uuid: info.runId,
    run_name: info.runName,
    experiment_id: info.experimentId,
    user_id: info.userId,
    status: info.status,
    start_time: info.startTime,
    ...(info.endTime === null ? {} : { end_time: info.endTime }),
    artifact_uri: runArtifactUri(info),
    lifecycle_stage: info.lifecycleStage,
  };
}

/** Protobuf's JSON form of a double: NaN and the infinities as strings. */
export function doubleJson(value: number): number | string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return 'Infinity';
  if (value === -Infinity) return '-Infinity';
  return value;
}

export function metricJson(p: MetricPoint): Record<string, unknown> {
  return { key: p.key, value: doubleJson(p.value), timestamp: p.timestamp, step: p.step };
}

function datasetInputJson(d: DatasetInput): Record<string, unknown> {
  let profile: string | undefined;
  if (d.rowCount !== null || d.sizeBytes !== null) {
    profile = JSON.stringify({
      ...(d.rowCount === null ? {} : { num_rows: d.rowCount }),
      ...(d.sizeBytes === null ? {} : { size_bytes: d.sizeBytes }),
    });
  }
  return {
    tags: d.context === null ? [] : [{ key: 'mlflow.data.context', value: d.context }],
    dataset: {
      name: d.name,
      digest: d.digest,
      source_type: d.sourceType,
      source: d.source,
      ...(profile === undefined ? {} : { profile }),
    },
  };
}

export function runJson(run: Run): Record<string, unknown> {
  return {
    info: runInfoJson(run.info),
    data: {
      metrics: Object.values(run.metrics).map(metricJson),
      params: keyValues(run.params),
      tags: keyValues(run.tags),
    },
    inputs: { dataset_inputs: run.datasets.map(datasetInputJson) },
  };
}

export function modelVersionJson(v: ModelVersion): Record<string, unknown> {
  return {
    name: v.name,
    version: String(v.version),
    creation_timestamp: v.creationTime,
    last_updated_timestamp: v.lastUpdateTime,
    user_id: v.userId,
    current_stage: 'None',
    description: v.description ?? '',
    source: v.source,
    run_id: v.runId ?? '',
    status: v.status,
    status_message: '',
    tags: keyValues(v.tags),
    run_link: '',
    aliases: v.aliases,
  };
}

export function registeredModelJson(
  e: RegisteredEntry,
  latest: ModelVersion | undefined,
): Record<string, unknown> {
  return {
    name: e.name,
    creation_timestamp: e.creationTime,
    last_updated_timestamp: e.lastUpdateTime,
    description: e.description ?? '',
    latest_versions: latest ? [modelVersionJson(latest)] : [],
    tags: keyValues(e.tags),
    aliases: Object.entries(e.aliases).map(([alias, version]) => ({
      alias,
      version: String(version),
    })),
  };
}
