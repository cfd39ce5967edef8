// The baseline worker's workflows (bench/baseline/minimal-worker.ts bundles this file).
export { minimalTaskWorkflow } from './minimal-workflow';
export { floorTaskWorkflow } from './floor-workflow';
