// MLflow's experiments endpoints: create, get, get-by-name, search, update (rename),
// delete, restore and experiment tags, on Tracking.

import { z } from 'zod';
import { NotFoundError } from '../core/model/errors.ts';
import { MAX_SEARCH_RESULTS } from '../core/tracking/limits.ts';
import type { Experiment, ViewType } from '../core/model/tracking.ts';
import { DEFAULT_EXPERIMENT_ID, DEFAULT_EXPERIMENT_NAME } from '../core/tracking/tracking.ts';
import type { Tracking } from '../core/tracking/tracking.ts';
import { MlflowError, notFound } from './errors.ts';
import { experimentJson, tagRecord } from './mlflowJson.ts';
import { route } from './route.ts';
import type { JsonRoute } from './route.ts';
import { idString, int64, keyValueList, list, required, viewType } from './schemas.ts';
import { checkMaxResults, compileFilter, page, sortByOrder } from './searchFilter.ts';
import type { SearchSpec } from './searchFilter.ts';

/**
 * MLflow servers always have experiment 0; the store creates it with its first write.
 * Until then it is shown as it will be, so that clients that start by reading it work.
 */
function defaultExperiment(): Experiment {
  return {
    experimentId: DEFAULT_EXPERIMENT_ID,
    name: DEFAULT_EXPERIMENT_NAME,
    artifactLocation: 'artifacts',
    lifecycleStage: 'active',
    creationTime: 0,
    lastUpdateTime: 0,
    tags: {},
  };
}

export function getExperiment(t: Tracking, id: string): Experiment {
  try {
    return t.getExperiment(id);
  } catch (e) {
    if (e instanceof NotFoundError && id === DEFAULT_EXPERIMENT_ID) return defaultExperiment();
    throw e;
  }
}

function listExperiments(t: Tracking, view: ViewType): Experiment[] {
  const list = t.listExperiments(view);
  const hasDefault = t.listExperiments('ALL').some((e) => e.experimentId === DEFAULT_EXPERIMENT_ID);
  if (!hasDefault && view !== 'DELETED_ONLY') list.unshift(defaultExperiment());
  return list;
}

const EXPERIMENT_SEARCH: SearchSpec<Experiment> = {
  what: 'experiments',
  attributes: {
    name: { kind: 'string', get: (e) => e.name },
    experiment_id: { kind: 'number', get: (e) => Number(e.experimentId) },
    creation_time: { kind: 'number', get: (e) => e.creationTime },
    last_update_time: { kind: 'number', get: (e) => e.lastUpdateTime },
    lifecycle_stage: { kind: 'string', get: (e) => e.lifecycleStage },
  },
  tags: (e) => e.tags,
};

const experimentId = { experiment_id: idString.optional() };

export const experimentRoutes: JsonRoute[] = [
  route(
    ['POST'],
    'experiments/create',
    z.object({
      name: z.string().optional(),
      artifact_location: z.string().optional(),
      tags: keyValueList,
    }),
    async (args, { tracking }) => {
      const name = required(args.name, 'name');
      if (name === DEFAULT_EXPERIMENT_NAME && getExperiment(tracking, '0').name === name) {
        // Experiment 0 exists for clients even before the store has written it.
        throw new MlflowError(
          'RESOURCE_ALREADY_EXISTS',
          `An experiment named '${name}' already exists (id 0).`,
        );
      }
      const id = await tracking.createExperiment(name, { tags: tagRecord(args.tags) });
      return { experiment_id: id };
    },
  ),
  route(['GET'], 'experiments/get', z.object(experimentId), (args, { tracking }) => ({
    experiment: experimentJson(
      getExperiment(tracking, required(args.experiment_id, 'experiment_id')),
    ),
  })),
  route(
    ['GET'],
    'experiments/get-by-name',
    z.object({ experiment_name: z.string().optional() }),
    (args, { tracking }) => {
      const name = required(args.experiment_name, 'experiment_name');
      let found = tracking.getExperimentByName(name);
      if (!found && name === DEFAULT_EXPERIMENT_NAME) {
        const fallback = getExperiment(tracking, DEFAULT_EXPERIMENT_ID);
        if (fallback.name === name) found = fallback;
      }
      if (!found) throw notFound(`Could not find experiment with name '${name}'.`);
      return { experiment: experimentJson(found) };
    },
  ),
  route(
    ['GET', 'POST'],
    'experiments/search',
    z.object({
      max_results: int64.optional(),
      page_token: z.string().optional(),
      filter: z.string().optional(),
      order_by: list(z.string()),
      view_type: viewType.optional(),
    }),
    (args, { tracking }) => {
      const max = checkMaxResults(args.max_results, 1000, MAX_SEARCH_RESULTS);
      const matches = listExperiments(tracking, args.view_type ?? 'ACTIVE_ONLY').filter(
        compileFilter(args.filter, EXPERIMENT_SEARCH),
      );
      const sorted = sortByOrder(matches, args.order_by, EXPERIMENT_SEARCH, [
        'creation_time DESC',
        'experiment_id ASC',
      ]);
      const result = page(sorted, max, args.page_token);
      return {
        experiments: result.items.map(experimentJson),
        ...(result.nextPageToken ? { next_page_token: result.nextPageToken } : {}),
      };
    },
  ),
  route(
    ['POST'],
    'experiments/update',
    z.object({ ...experimentId, new_name: z.string().optional() }),
    async (args, { tracking }) => {
      const id = required(args.experiment_id, 'experiment_id');
      // MLflow: without a new name there is nothing to change.
      if (args.new_name) await tracking.renameExperiment(id, args.new_name);
      else tracking.getExperiment(id);
      return {};
    },
  ),
  route(['POST'], 'experiments/delete', z.object(experimentId), async (args, { tracking }) => {
    await tracking.deleteExperiment(required(args.experiment_id, 'experiment_id'));
    return {};
  }),
  route(['POST'], 'experiments/restore', z.object(experimentId), async (args, { tracking }) => {
    await tracking.restoreExperiment(required(args.experiment_id, 'experiment_id'));
    return {};
  }),
  route(
    ['POST'],
    'experiments/set-experiment-tag',
    z.object({ ...experimentId, key: z.string().optional(), value: z.string().optional() }),
    async (args, { tracking }) => {
      await tracking.setExperimentTag(
        required(args.experiment_id, 'experiment_id'),
        required(args.key, 'key'),
        args.value ?? '',
      );
      return {};
    },
  ),
  route(
    ['POST'],
    'experiments/delete-experiment-tag',
    z.object({ ...experimentId, key: z.string().optional() }),
    async (args, { tracking }) => {
      await tracking.deleteExperimentTag(
        required(args.experiment_id, 'experiment_id'),
        required(args.key, 'key'),
      );
      return {};
    },
  ),
];
