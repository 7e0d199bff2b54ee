// Artifact files of a run live under `<store>/artifacts/<run id>/`. Every path that
// comes from a user is checked so that it cannot reach outside that folder.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { ValidationError } from '../model/errors.ts';

export interface ArtifactEntry {
  path: string;
  isDir: boolean;
  sizeBytes: number | null;
}

/** Checks a relative artifact path ('' is the run folder itself). */
export function checkArtifactPath(artifactPath: string): string {
  const normalized = artifactPath.replace(/\\/g, '/').replace(/\/+$/, '');
  if (normalized === '' || normalized === '.') return '';
  if (
    path.isAbsolute(artifactPath) ||
    normalized.startsWith('/') ||
    /^[A-Za-z]:/.test(normalized)
  ) {
    throw new ValidationError(
      `The artifact path '${artifactPath}' is absolute; give a path relative to the run's artifacts.`,
    );
  }
  if (normalized.split('/').some((p) => p === '..')) {
    throw new ValidationError(
      `The artifact path '${artifactPath}' contains '..'; it may not leave the run's artifact folder.`,
    );
  }
  if (normalized.includes('\0'))
    throw new ValidationError(`The artifact path contains a NUL character.`);
  return normalized
    .split('/')
    .filter((p) => p !== '.' && p !== '')
    .join('/');
}

/**
 * Resolves a relative path inside `root`, refusing one that leaves it through a
 * symbolic link. Components that do not exist yet are fine.
 */
export function resolveInside(root: string, relative: string): string {
  const clean = checkArtifactPath(relative);
  const target = path.join(root, ...clean.split('/').filter(Boolean));
  let realRoot: string;
  try {
    realRoot = fs.realpathSync(root);
  } catch {
    return target; // nothing exists yet, so nothing can be a link
  }
  let probe = target;
  while (!fs.existsSync(probe) && probe !== root) probe = path.dirname(probe);
  const real = fs.realpathSync(probe);
  if (real !== realRoot && !real.startsWith(realRoot + path.sep)) {
    throw new ValidationError(
      `The artifact path '${relative}' goes through a symbolic link that leaves the run's artifact folder; it was refused.`,
    );
  }
  return target;
}

function copyFileAtomic(src: string, dest: string): void {
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  const tmp = `${dest}.tmp-${process.pid}-${Date.now()}`;
  fs.copyFileSync(src, tmp);
  fs.renameSync(tmp, dest);
}

/**
 * Copies a file into `<root>/<artifactPath>/<basename>`, or a folder's contents into
 * `<root>/<artifactPath>/`; each file lands
 * whole or not at all. Returns the artifact paths written.
 */
export function copyArtifact(root: string, localPath: string, artifactPath = ''): string[] {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(localPath);
  } catch {
    throw new ValidationError(`The artifact ${localPath} does not exist.`);
  }
  const base = checkArtifactPath(artifactPath);
  const written: string[] = [];
  const join = (...parts: string[]): string => parts.filter(Boolean).join('/');
  if (stat.isFile()) {
    const rel = join(base, path.basename(localPath));
    copyFileAtomic(localPath, resolveInside(root, rel));
    written.push(rel);
    return written;
  }
  const walk = (dir: string, relDir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      const rel = join(relDir, entry.name);
      const s = fs.statSync(full); // follows links: the content is what gets logged
      if (s.isDirectory()) walk(full, rel);
      else if (s.isFile()) {
        copyFileAtomic(full, resolveInside(root, rel));
        written.push(rel);
      }
    }
  };
  // As MLflow's log_artifacts: a folder's contents go under artifactPath.
  walk(localPath, base);
  return written;
}

export function listArtifactEntries(root: string, relative = ''): ArtifactEntry[] {
  const dir = resolveInside(root, relative);
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const clean = checkArtifactPath(relative);
  return entries
    .filter((e) => !/\.tmp-\d+-\d+$/.test(e.name))
    .map((e) => {
      const rel = clean ? `${clean}/${e.name}` : e.name;
      const isDir = e.isDirectory();
      return {
        path: rel,
        isDir,
        sizeBytes: isDir ? null : fs.statSync(path.join(dir, e.name)).size,
      };
    })
    .sort((a, b) => (a.path < b.path ? -1 : 1));
}
