// Every command id the extension registers, in one place. A unit test checks that
// package.json contributes exactly these.

export const COMMAND_IDS = {
  showStoreSummary: 'mlops.showStoreSummary',
  showLog: 'mlops.showLog',
  refresh: 'mlops.refresh',
  createDemoData: 'mlops.createDemoData',
  createExperiment: 'mlops.createExperiment',
  renameExperiment: 'mlops.renameExperiment',
  deleteExperiment: 'mlops.deleteExperiment',
  restoreExperiment: 'mlops.restoreExperiment',
  filterRuns: 'mlops.filterRuns',
  clearFilter: 'mlops.clearFilter',
  showDeleted: 'mlops.showDeleted',
  hideDeleted: 'mlops.hideDeleted',
  loadMore: 'mlops.loadMore',
  openRun: 'mlops.openRun',
  copyRunId: 'mlops.copyRunId',
  renameRun: 'mlops.renameRun',
  editNote: 'mlops.editNote',
  setTag: 'mlops.setTag',
  deleteRun: 'mlops.deleteRun',
  restoreRun: 'mlops.restoreRun',
  openArtifact: 'mlops.openArtifact',
  revealArtifact: 'mlops.revealArtifact',
  compareRuns: 'mlops.compareRuns',
  compareMatching: 'mlops.compareMatching',
  chartMetric: 'mlops.chartMetric',
} as const;

export type CommandId = (typeof COMMAND_IDS)[keyof typeof COMMAND_IDS];
