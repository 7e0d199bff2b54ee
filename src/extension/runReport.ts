// A run as a Markdown document: the read-only "run details" view of the extension.
// Pure (no vscode), so it is tested directly.

import type { Tracking } from '../core/tracking/tracking.ts';
import { formatMetricValue } from '../shared/format.ts';

function cell(v: string): string {
  return v.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function iso(ms: number | null): string {
  return ms === null ? '' : new Date(ms).toISOString();
}

export function renderRunMarkdown(tracking: Tracking, runId: string): string {
  const run = tracking.getRun(runId);
  const exp = tracking.getExperiment(run.info.experimentId);
  const out: string[] = [`# Run ${run.info.runName}`, ''];
  const attrs: [string, string][] = [
    ['Run ID', run.info.runId],
    ['Experiment', `${exp.name} (${exp.experimentId})`],
    ['Status', run.info.status + (run.info.lifecycleStage === 'deleted' ? ' (deleted)' : '')],
    ['User', run.info.userId],
    ['Start', iso(run.info.startTime)],
    ['End', iso(run.info.endTime)],
  ];
  if (run.info.parentRunId) attrs.push(['Parent run', run.info.parentRunId]);
  const commit = run.tags['mlflow.source.git.commit'];
  if (commit) {
    const dirty = run.tags['mlops.source.git.dirty'] === 'true' ? ' (uncommitted changes)' : '';
    attrs.push(['Git commit', `${commit}${dirty}`]);
  }
  out.push('| | |', '| --- | --- |', ...attrs.map(([k, v]) => `| ${k} | ${cell(v)} |`), '');
  const note = run.tags['mlflow.note.content'];
  if (note) out.push('## Note', '', note, '');
  const params = Object.entries(run.params);
  if (params.length) {
    out.push('## Params', '', '| Key | Value |', '| --- | --- |');
    out.push(...params.map(([k, v]) => `| ${cell(k)} | ${cell(v)} |`), '');
  }
  const metrics = Object.values(run.metrics);
  if (metrics.length) {
    out.push(
      '## Metrics',
      '',
      '| Key | Latest | Min | Max | Step | Points |',
      '| --- | --- | --- | --- | --- | --- |',
    );
    out.push(
      ...metrics.map(
        (m) =>
          `| ${cell(m.key)} | ${formatMetricValue(m.value)} | ${formatMetricValue(m.min)} | ${formatMetricValue(m.max)} | ${m.step} | ${m.count} |`,
      ),
      '',
    );
  }
  const tags = Object.entries(run.tags).filter(([k]) => k !== 'mlflow.note.content');
  if (tags.length) {
    out.push('## Tags', '', '| Key | Value |', '| --- | --- |');
    out.push(...tags.map(([k, v]) => `| ${cell(k)} | ${cell(v)} |`), '');
  }
  if (run.datasets.length) {
    out.push(
      '## Datasets',
      '',
      '| Name | Context | Rows | Bytes | sha256 | Source |',
      '| --- | --- | --- | --- | --- | --- |',
    );
    out.push(
      ...run.datasets.map(
        (d) =>
          `| ${cell(d.name)} | ${cell(d.context ?? '')} | ${d.rowCount ?? ''} | ${d.sizeBytes ?? ''} | ${d.digest.slice(0, 16)} | ${cell(d.source)} |`,
      ),
      '',
    );
  }
  const artifacts = tracking.listArtifacts(runId);
  if (artifacts.length) {
    out.push(
      '## Artifacts',
      '',
      ...artifacts.map((a) => `- ${a.isDir ? `${a.path}/` : `${a.path} (${a.sizeBytes} bytes)`}`),
      '',
    );
  }
  const checkpoints = tracking.listCheckpoints(runId);
  if (checkpoints.length) {
    out.push('## Checkpoints', '', '| Step | Path | Metrics |', '| --- | --- | --- |');
    out.push(
      ...checkpoints.map(
        (c) =>
          `| ${c.step} | ${cell(c.artifactPath)} | ${Object.entries(c.metrics)
            .map(([k, v]) => `${k}=${formatMetricValue(v)}`)
            .join(', ')} |`,
      ),
      '',
    );
  }
  return out.join('\n');
}
