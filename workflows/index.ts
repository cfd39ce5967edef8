// Workflow entry point for the bundler: deterministic code only.
export { leanTaskWorkflow, taskWorkflow } from './task-workflow';
