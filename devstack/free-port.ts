// The dev stack's port helpers are the production ones (lib/net.ts): launcher, tests and benchmarks
// pick and wait for ports exactly as the process driver and the workspace agent do.
export { assertPortFree, freePort, waitForPort } from '../lib/net';
