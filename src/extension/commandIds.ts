// Every command id the extension registers, in one place. A unit test checks that
// package.json contributes exactly these.

export const COMMAND_IDS = {
  showStoreSummary: 'mlops.showStoreSummary',
} as const;

export type CommandId = (typeof COMMAND_IDS)[keyof typeof COMMAND_IDS];
