// Workflow entry point for the bundler: deterministic code only.
export { taskWorkflow } from './task-workflow';
