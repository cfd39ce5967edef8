// Builds Temporal's server and SQL tool (the cluster tier's engine, devstack/temporal-cluster.ts)
// unless the machine's cache has them, and says how long it took. CI runs it before the tests so
// that the test run itself never waits for a cold build.
import { ensureTemporalServer, TEMPORAL_SERVER_VERSION } from '../devstack/temporal-cluster';

async function main() {
  const log = { info: (m: string) => console.log(m), warn: (m: string) => console.warn(m), error: (m: string) => console.error(m) };
  const built = await ensureTemporalServer({ log });
  const how = built.buildMs === 0 ? 'cached' : `built in ${(built.buildMs / 1000).toFixed(1)} s`;
  console.log(`Temporal server ${TEMPORAL_SERVER_VERSION}: ${built.server} and ${built.sqlTool} (${how})`);
}

main().catch((err) => {
  console.error((err as Error).message);
  process.exit(1);
});
