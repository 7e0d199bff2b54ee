// The tracking domain's types, named as MLflow names them so that its users and the
// MLflow-compatible endpoint map 1:1.

export type LifecycleStage = 'active' | 'deleted';
export type RunStatus = 'RUNNING' | 'SCHEDULED' | 'FINISHED' | 'FAILED' | 'KILLED';
export const RUN_STATUSES: readonly RunStatus[] = [
  'RUNNING',
  'SCHEDULED',
  'FINISHED',
  'FAILED',
  'KILLED',
];
export type ViewType = 'ACTIVE_ONLY' | 'DELETED_ONLY' | 'ALL';

export interface Experiment {
  experimentId: string;
  name: string;
  artifactLocation: string;
  lifecycleStage: LifecycleStage;
  creationTime: number;
  lastUpdateTime: number;
  tags: Record<string, string>;
}

export interface RunInfo {
  runId: string;
  runName: string;
  experimentId: string;
  userId: string;
  status: RunStatus;
  startTime: number;
  endTime: number | null;
  lifecycleStage: LifecycleStage;
  artifactUri: string;
  parentRunId: string | null;
}

export interface MetricPoint {
  key: string;
  value: number;
  timestamp: number;
  step: number;
}

/** The latest point of a metric (MLflow's order) with its range and length. */
export interface MetricSummary extends MetricPoint {
  min: number | null;
  max: number | null;
  count: number;
}

export interface DatasetInput {
  name: string;
  digest: string;
  source: string;
  sourceType: string;
  sizeBytes: number | null;
  rowCount: number | null;
  context: string | null;
  loggedAt: number;
}

export interface Checkpoint {
  step: number;
  artifactPath: string;
  timestamp: number;
  metrics: Record<string, number>;
}

export interface Run {
  info: RunInfo;
  params: Record<string, string>;
  tags: Record<string, string>;
  metrics: Record<string, MetricSummary>;
  datasets: DatasetInput[];
}

/** A tag or param as the store records it. */
export interface TagValue {
  key: string;
  value: string;
}

export interface Page<T> {
  items: T[];
  /** Present when more results follow; pass it back to get them. */
  nextPageToken?: string;
}
