// Builds the Coder compatibility tier's programs (the codersdk driver and the real `coder` CLI)
// unless the machine's cache has them, and says how long each took. CI runs it before the tests so
// that the test run itself never waits for a cold build.
import { CODER_VERSION, ensureCoderCli, ensureSdkCheck } from '../compat/coder/binaries';

async function main() {
  const log = { info: (m: string) => console.log(m), warn: (m: string) => console.warn(m), error: (m: string) => console.error(m) };
  for (const [what, ensure] of [['codersdk driver', ensureSdkCheck], ['coder CLI', ensureCoderCli]] as const) {
    const built = await ensure({ log });
    const how = built.buildMs === 0 ? 'cached' : `built in ${(built.buildMs / 1000).toFixed(1)} s`;
    console.log(`${what} (Coder ${CODER_VERSION}): ${built.path} (${how})`);
  }
}

main().catch((err) => {
  console.error((err as Error).message);
  process.exit(1);
});
