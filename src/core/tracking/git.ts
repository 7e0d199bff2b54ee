// Captures the code version of a run: the commit, branch, remote and whether the
// working tree has uncommitted changes, as MLflow's `mlflow.source.git.*` tags.

import { execFile } from 'node:child_process';

export interface CodeVersion {
  commit: string;
  branch: string | null;
  repoUrl: string | null;
  dirty: boolean;
}

function git(cwd: string, args: string[]): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile('git', args, { cwd, timeout: 5000, windowsHide: true }, (err, stdout) =>
      resolve(err ? undefined : stdout.trim()),
    );
  });
}

/** Returns undefined when `cwd` is not inside a git repository (or git is missing). */
export async function captureCodeVersion(cwd: string): Promise<CodeVersion | undefined> {
  const commit = await git(cwd, ['rev-parse', 'HEAD']);
  if (!commit) return undefined;
  const [branch, repoUrl, status] = await Promise.all([
    git(cwd, ['rev-parse', '--abbrev-ref', 'HEAD']),
    git(cwd, ['config', '--get', 'remote.origin.url']),
    git(cwd, ['status', '--porcelain', '--untracked-files=no']),
  ]);
  return {
    commit,
    branch: branch && branch !== 'HEAD' ? branch : null,
    repoUrl: repoUrl || null,
    dirty: (status ?? '').length > 0,
  };
}

export function codeVersionTags(v: CodeVersion): { key: string; value: string }[] {
  const tags = [
    { key: 'mlflow.source.git.commit', value: v.commit },
    { key: 'mlops.source.git.dirty', value: String(v.dirty) },
  ];
  if (v.branch) tags.push({ key: 'mlflow.source.git.branch', value: v.branch });
  if (v.repoUrl) tags.push({ key: 'mlflow.source.git.repoURL', value: v.repoUrl });
  return tags;
}
