// MLflow's model registry endpoints (model_registry.proto): registered models, their
// versions, tags and aliases, on the core Registry's models (prompts are not exposed
// here). Stages are an MLflow 1 notion: every version is in stage 'None'.

import { z } from 'zod';
import type { ModelVersion, Registry, RegisteredEntry } from '../core/registry/registry.ts';
import type { Tracking } from '../core/tracking/tracking.ts';
import { invalidParameter } from './errors.ts';
import { modelVersionJson, registeredModelJson, runArtifactUri, tagRecord } from './mlflowJson.ts';
import { route } from './route.ts';
import type { JsonRoute } from './route.ts';
import { idString, int64, keyValueList, list, present, required } from './schemas.ts';
import { checkMaxResults, compileFilter, page, sortByOrder } from './searchFilter.ts';
import type { SearchSpec } from './searchFilter.ts';

const MODEL = 'model' as const;

function versionNumber(value: string | undefined): number {
  const v = required(value, 'version');
  if (!/^\d+$/.test(v) || Number(v) < 1) {
    throw invalidParameter(
      `Invalid value "${v}" for parameter 'version' supplied: a version is a positive whole number.`,
    );
  }
  return Number(v);
}

function latestVersion(registry: Registry, entry: RegisteredEntry): ModelVersion | undefined {
  return entry.latestVersion === null
    ? undefined
    : registry.modelVersion(entry.name, entry.latestVersion);
}

function registeredModel(registry: Registry, name: string): Record<string, unknown> {
  const entry = registry.get(MODEL, name);
  return registeredModelJson(entry, latestVersion(registry, entry));
}

/** Where a version's files can be downloaded from: `runs:/` sources resolve to the proxy. */
function downloadUri(tracking: Tracking, source: string): string {
  const m = /^runs:\/([^/]+)(?:\/(.*))?$/.exec(source);
  if (!m) return source;
  const info = tracking.getRunInfo(m[1]!);
  return m[2] ? `${runArtifactUri(info)}/${m[2]}` : runArtifactUri(info);
}

const MODEL_SEARCH: SearchSpec<RegisteredEntry> = {
  what: 'registered models',
  attributes: {
    name: { kind: 'string', get: (e) => e.name },
    creation_timestamp: { kind: 'number', get: (e) => e.creationTime },
    last_updated_timestamp: { kind: 'number', get: (e) => e.lastUpdateTime },
    timestamp: { kind: 'number', get: (e) => e.lastUpdateTime },
  },
  tags: (e) => e.tags,
};

const VERSION_SEARCH: SearchSpec<ModelVersion> = {
  what: 'model versions',
  attributes: {
    name: { kind: 'string', get: (v) => v.name },
    version_number: { kind: 'number', get: (v) => v.version },
    run_id: { kind: 'string', get: (v) => v.runId },
    source_path: { kind: 'string', get: (v) => v.source },
    creation_timestamp: { kind: 'number', get: (v) => v.creationTime },
    last_updated_timestamp: { kind: 'number', get: (v) => v.lastUpdateTime },
  },
  tags: (v) => v.tags,
};

const name = { name: z.string().optional() };
const nameVersion = { name: z.string().optional(), version: idString.optional() };
const searchArgs = z.object({
  filter: z.string().optional(),
  max_results: int64.optional(),
  order_by: list(z.string()),
  page_token: z.string().optional(),
});

export const registryRoutes: JsonRoute[] = [
  // ------------------------------------------------------------ registered models
  route(
    ['POST'],
    'registered-models/create',
    z.object({ ...name, tags: keyValueList, description: z.string().optional() }),
    async (args, { registry }) => {
      const entry = await registry.create(MODEL, required(args.name, 'name'), {
        description: args.description || undefined,
        tags: tagRecord(args.tags),
      });
      return { registered_model: registeredModelJson(entry, undefined) };
    },
  ),
  route(['GET'], 'registered-models/get', z.object(name), (args, { registry }) => ({
    registered_model: registeredModel(registry, required(args.name, 'name')),
  })),
  route(['GET', 'POST'], 'registered-models/search', searchArgs, (args, { registry }) => {
    const max = checkMaxResults(args.max_results, 100, 1000);
    const matches = registry.list(MODEL).filter(compileFilter(args.filter, MODEL_SEARCH));
    const sorted = sortByOrder(matches, args.order_by, MODEL_SEARCH, ['name ASC']);
    const result = page(sorted, max, args.page_token);
    return {
      registered_models: result.items.map((e) =>
        registeredModelJson(e, latestVersion(registry, e)),
      ),
      ...(result.nextPageToken ? { next_page_token: result.nextPageToken } : {}),
    };
  }),
  route(
    ['PATCH'],
    'registered-models/update',
    z.object({ ...name, description: z.string().optional() }),
    async (args, { registry }) => {
      const modelName = required(args.name, 'name');
      if (args.description !== undefined) {
        await registry.updateDescription(MODEL, modelName, args.description || null);
      }
      return { registered_model: registeredModel(registry, modelName) };
    },
  ),
  route(
    ['POST'],
    'registered-models/rename',
    z.object({ ...name, new_name: z.string().optional() }),
    async (args, { registry }) => {
      const modelName = required(args.name, 'name');
      const newName = required(args.new_name, 'new_name');
      await registry.rename(MODEL, modelName, newName);
      return { registered_model: registeredModel(registry, newName) };
    },
  ),
  route(['DELETE'], 'registered-models/delete', z.object(name), async (args, { registry }) => {
    await registry.delete(MODEL, required(args.name, 'name'));
    return {};
  }),
  route(
    ['POST'],
    'registered-models/set-tag',
    z.object({ ...name, key: z.string().optional(), value: z.string().optional() }),
    async (args, { registry }) => {
      await registry.setTag(
        MODEL,
        required(args.name, 'name'),
        required(args.key, 'key'),
        present(args.value, 'value'),
      );
      return {};
    },
  ),
  route(
    ['DELETE'],
    'registered-models/delete-tag',
    z.object({ ...name, key: z.string().optional() }),
    async (args, { registry }) => {
      await registry.deleteTag(MODEL, required(args.name, 'name'), required(args.key, 'key'));
      return {};
    },
  ),
  route(
    ['POST'],
    'registered-models/alias',
    z.object({ ...nameVersion, alias: z.string().optional() }),
    async (args, { registry }) => {
      await registry.setAlias(
        MODEL,
        required(args.name, 'name'),
        required(args.alias, 'alias'),
        versionNumber(args.version),
      );
      return {};
    },
  ),
  route(
    ['DELETE'],
    'registered-models/alias',
    z.object({ ...name, alias: z.string().optional() }),
    async (args, { registry }) => {
      await registry.removeAlias(MODEL, required(args.name, 'name'), required(args.alias, 'alias'));
      return {};
    },
  ),
  route(
    ['GET'],
    'registered-models/alias',
    z.object({ ...name, alias: z.string().optional() }),
    (args, { registry }) => {
      const alias = required(args.alias, 'alias');
      return {
        model_version: modelVersionJson(
          registry.modelVersion(required(args.name, 'name'), `@${alias}`),
        ),
      };
    },
  ),
  route(
    ['GET', 'POST'],
    'registered-models/get-latest-versions',
    z.object({ ...name, stages: list(z.string()) }),
    (args, { registry }) => {
      const entry = registry.get(MODEL, required(args.name, 'name'));
      const latest = latestVersion(registry, entry);
      const stages = (args.stages ?? []).map((s) => s.toLowerCase());
      const wanted = stages.length === 0 || stages.includes('none');
      return { model_versions: latest && wanted ? [modelVersionJson(latest)] : [] };
    },
  ),

  // ------------------------------------------------------------ model versions
  route(
    ['POST'],
    'model-versions/create',
    z.object({
      ...name,
      source: z.string().optional(),
      run_id: z.string().optional(),
      tags: keyValueList,
      run_link: z.string().optional(),
      description: z.string().optional(),
    }),
    async (args, { registry }) => {
      const version = await registry.createModelVersion(required(args.name, 'name'), {
        source: required(args.source, 'source'),
        runId: args.run_id || null,
        description: args.description || undefined,
        tags: tagRecord(args.tags),
      });
      return { model_version: modelVersionJson(version) };
    },
  ),
  route(['GET'], 'model-versions/get', z.object(nameVersion), (args, { registry }) => ({
    model_version: modelVersionJson(
      registry.modelVersion(required(args.name, 'name'), versionNumber(args.version)),
    ),
  })),
  route(
    ['PATCH'],
    'model-versions/update',
    z.object({ ...nameVersion, description: z.string().optional() }),
    async (args, { registry }) => {
      const modelName = required(args.name, 'name');
      const version = versionNumber(args.version);
      if (args.description !== undefined) {
        await registry.updateVersionDescription(
          MODEL,
          modelName,
          version,
          args.description || null,
        );
      }
      return { model_version: modelVersionJson(registry.modelVersion(modelName, version)) };
    },
  ),
  route(['DELETE'], 'model-versions/delete', z.object(nameVersion), async (args, { registry }) => {
    // MLflow deletes the aliases that point at the version with it (VS Code asks first).
    await registry.deleteVersion(MODEL, required(args.name, 'name'), versionNumber(args.version), {
      dropAliases: true,
    });
    return {};
  }),
  route(['GET', 'POST'], 'model-versions/search', searchArgs, (args, { registry }) => {
    const max = checkMaxResults(args.max_results, 10_000, 200_000);
    const filter = compileFilter(args.filter, VERSION_SEARCH);
    const matches = registry
      .list(MODEL)
      .flatMap((e) => registry.modelVersions(e.name))
      .filter(filter);
    const sorted = sortByOrder(matches, args.order_by, VERSION_SEARCH, [
      'name ASC',
      'version_number DESC',
    ]);
    const result = page(sorted, max, args.page_token);
    return {
      model_versions: result.items.map(modelVersionJson),
      ...(result.nextPageToken ? { next_page_token: result.nextPageToken } : {}),
    };
  }),
  route(
    ['POST'],
    'model-versions/set-tag',
    z.object({ ...nameVersion, key: z.string().optional(), value: z.string().optional() }),
    async (args, { registry }) => {
      await registry.setTag(
        MODEL,
        required(args.name, 'name'),
        required(args.key, 'key'),
        present(args.value, 'value'),
        versionNumber(args.version),
      );
      return {};
    },
  ),
  route(
    ['DELETE'],
    'model-versions/delete-tag',
    z.object({ ...nameVersion, key: z.string().optional() }),
    async (args, { registry }) => {
      await registry.deleteTag(
        MODEL,
        required(args.name, 'name'),
        required(args.key, 'key'),
        versionNumber(args.version),
      );
      return {};
    },
  ),
  route(
    ['GET'],
    'model-versions/get-download-uri',
    z.object(nameVersion),
    (args, { registry, tracking }) => {
      const version = registry.modelVersion(
        required(args.name, 'name'),
        versionNumber(args.version),
      );
      return { artifact_uri: downloadUri(tracking, version.source) };
    },
  ),
];
