// Guardrails on traces as they arrive, per the mlops.traces.guardrails.* settings: after
// each burst of new spans the LLM spans of the traces that changed are checked (core's
// tracing/guardrails.ts), flags are stored on them, and once an hour the flags of the
// complete hours are counted into the Monitoring run "trace guardrails". Trusted workspaces
// only (it writes to the store); model-graded checks need a judge endpoint.

import OpenAI from 'openai';
import * as vscode from 'vscode';
import { Judge } from '../core/evals/judge.ts';
import { PII_KINDS } from '../core/evals/pii.ts';
import type { PiiKind } from '../core/evals/pii.ts';
import {
  guardTraces,
  recordHourlyFlags,
  TRACE_GUARDRAIL_CHECKS,
} from '../core/tracing/guardrails.ts';
import type { TraceGuardrailCheck, TraceGuardrailConfig } from '../core/tracing/guardrails.ts';
import { Disposable } from './disposable.ts';
import { ApiKeys } from './evals/apiKeys.ts';
import type { WorkspaceStore } from './workspaceStore.ts';

const MAX_REMEMBERED = 200_000;

export function guardrailConfig(): TraceGuardrailConfig {
  const c = vscode.workspace.getConfiguration('mlops.traces.guardrails');
  const checks = (c.get<string[]>('checks') ?? []).filter((x): x is TraceGuardrailCheck =>
    (TRACE_GUARDRAIL_CHECKS as readonly string[]).includes(x),
  );
  const rate = c.get<number>('sampleRate') ?? 1;
  const kinds = (c.get<string[]>('piiKinds') ?? []).filter((k): k is PiiKind =>
    (PII_KINDS as readonly string[]).includes(k),
  );
  return {
    checks,
    sampleRate: Math.min(1, Math.max(0, rate)),
    policy: c.get<string>('policy') || undefined,
    topic: c.get<string>('topic') || undefined,
    ...(kinds.length ? { piiKinds: kinds } : {}),
  };
}

export class TraceGuardrails extends Disposable {
  private readonly pending = new Set<string>();
  private readonly checked = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private warnedJudge = false;
  private readonly keys: ApiKeys;
  /** Passes done and what they found (the in-host tests read it). */
  readonly stats = { passes: 0, checkedSpans: 0, flaggedSpans: 0 };

  constructor(
    private readonly store: WorkspaceStore,
    private readonly log: vscode.LogOutputChannel,
    secrets: vscode.SecretStorage,
  ) {
    super();
    this.keys = new ApiKeys(secrets);
    this.register({ dispose: () => clearTimeout(this.timer) });
    this.register(
      store.onDidChange((change) => {
        if (!change) {
          // The store was reopened (another folder, say): what was pending was the old one's.
          this.pending.clear();
          clearTimeout(this.timer);
          return;
        }
        if (change.traces.size === 0) return;
        for (const id of change.traces) this.pending.add(id);
        clearTimeout(this.timer);
        this.timer = setTimeout(() => void this.run(), 1000);
      }),
    );
    const hourly = setInterval(() => void this.recordHours(), 300_000);
    hourly.unref();
    this.register({ dispose: () => clearInterval(hourly) });
  }

  private async judge(config: TraceGuardrailConfig): Promise<Judge | undefined> {
    if (!config.checks.some((c) => c !== 'pii')) return undefined;
    const j = vscode.workspace.getConfiguration('mlops.traces.guardrails').get<{
      baseUrl?: string;
      model?: string;
      apiKeyEnv?: string;
    }>('judge');
    if (!j?.baseUrl || !j.model) {
      if (!this.warnedJudge) {
        this.warnedJudge = true;
        this.log.warn(
          '[traces] guardrails: toxicity, policy and off-topic need mlops.traces.guardrails.judge ({ baseUrl, model }); only PII is checked',
        );
      }
      return undefined;
    }
    const key = await this.keys.get(j.baseUrl, j.apiKeyEnv);
    const client = new OpenAI({ baseURL: j.baseUrl, apiKey: key?.key ?? 'none', maxRetries: 2 });
    return new Judge({ client, model: j.model, moderationClient: client });
  }

  /** Checks what arrived since the last pass (one pass at a time). */
  run(): Promise<void> {
    this.running ??= (async () => {
      try {
        while (this.pending.size > 0) {
          const config = guardrailConfig();
          const ids = [...this.pending];
          this.pending.clear();
          if (config.checks.length === 0 || this.store.readOnly) return;
          // A background pass never creates a store.
          const t = await this.store.getIfExists();
          if (!t) return;
          const pass = await guardTraces(t, ids, config, {
            judge: await this.judge(config),
            checked: this.checked,
          });
          this.stats.passes++;
          this.stats.checkedSpans += pass.checkedSpans;
          this.stats.flaggedSpans += pass.flaggedSpans;
          if (pass.flaggedSpans) {
            this.log.info(
              `[traces] guardrails flagged ${pass.flaggedSpans} of ${pass.checkedSpans} spans`,
            );
          }
          if (this.checked.size > MAX_REMEMBERED) this.checked.clear();
        }
        await this.recordHours();
      } catch (e) {
        this.log.error(e as Error);
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  private async recordHours(): Promise<void> {
    const config = guardrailConfig();
    if (config.checks.length === 0 || this.store.readOnly) return;
    const t = await this.store.getIfExists();
    if (!t || t.traces.count() === 0) return;
    try {
      await recordHourlyFlags(t, config.checks, Date.now());
    } catch (e) {
      this.log.error(e as Error);
    }
  }
}
