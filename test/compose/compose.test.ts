/**
 * Static checks of the container deployment: docker-compose.yml, the Dockerfile
 * and .dockerignore. They assert what a user relies on after `docker compose up`
 * (every service is health-checked and started in order, the ports, the wiring
 * between services, pinned images, the Temporal search attributes) without a
 * Docker engine. When a compose validator is installed (docker compose,
 * docker-compose or dclint) it runs too; otherwise that test is skipped.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { SEARCH_ATTRIBUTES } from '../../workflows/contracts';
import { TEMPORAL_SCHEMAS, TEMPORAL_SERVER_SETTINGS, TEMPORAL_SERVER_VERSION, temporalSchemaSteps } from '../../devstack/temporal-cluster';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const COMPOSE_FILE = path.join(ROOT, 'docker-compose.yml');

const SERVICES = ['postgres', 'temporal-schema', 'temporal', 'temporal-admin-tools', 'temporal-ui', 'api', 'worker'] as const;
const APP_SERVICES = ['api', 'worker'] as const;
/** Services that run to completion; every other one runs until stopped. */
const ONE_SHOT = new Set<string>(['temporal-schema', 'temporal-admin-tools']);

// ---------------------------------------------------------------------------
// Compose interpolation, evaluated as on a machine where no variable is set.

interface VariableUse {
  expression: string;
  name: string;
  /** `-`, `:-`, `?`, `:?`, `+`, `:+`, or null for a bare `${VAR}` / `$VAR`. */
  operator: string | null;
}

function closingBrace(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === '{') depth++;
    if (text[i] === '}' && --depth === 0) return i;
  }
  throw new Error(`unclosed "\${" in ${JSON.stringify(text)}`);
}

/** Expands `text` as Compose would with every variable unset; records each use in `uses`. */
function interpolate(text: string, uses: VariableUse[] = []): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const next = text[i + 1];
    if (text[i] !== '$') {
      out += text[i];
      i += 1;
    } else if (next === '$') {
      out += '$';
      i += 2;
    } else if (next === '{') {
      const end = closingBrace(text, i + 1);
      const expression = text.slice(i, end + 1);
      const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([\s\S]*))?$/.exec(text.slice(i + 2, end));
      if (!m) throw new Error(`invalid interpolation ${expression}`);
      const operator = m[2] ?? null;
      uses.push({ expression, name: m[1], operator });
      if (operator === '-' || operator === ':-') out += interpolate(m[3] ?? '', uses);
      i = end + 1;
    } else {
      const bare = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i + 1));
      if (bare) {
        uses.push({ expression: `$${bare[0]}`, name: bare[0], operator: null });
        i += 1 + bare[0].length;
      } else {
        out += '$';
        i += 1;
      }
    }
  }
  return out;
}

function mapStrings(value: unknown, f: (s: string) => string): unknown {
  if (typeof value === 'string') return f(value);
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, f));
  if (isMap(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v, f)]));
  return value;
}

// ---------------------------------------------------------------------------
// Reading the file.

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function mapAt(value: unknown, what: string): Record<string, unknown> {
  assert.ok(isMap(value), `${what} should be a mapping`);
  return value;
}

const rawText = readFileSync(COMPOSE_FILE, 'utf8');
// Compose resolves YAML merge keys (`<<: *anchor`); the api and worker use them.
const raw = mapAt(parse(rawText, { merge: true }), 'docker-compose.yml');
const variableUses: VariableUse[] = [];
mapStrings(raw, (s) => interpolate(s, variableUses));
const compose = mapAt(mapStrings(raw, (s) => interpolate(s)), 'docker-compose.yml');
const services = mapAt(compose.services, 'services');

function service(name: string): Record<string, unknown> {
  return mapAt(services[name], `services.${name}`);
}

function environment(name: string): Record<string, string> {
  const env = service(name).environment ?? {};
  const entries: Array<[string, string]> = Array.isArray(env)
    ? env.map((item): [string, string] => {
        const [key, ...rest] = String(item).split('=');
        return [key, rest.join('=')];
      })
    : Object.entries(mapAt(env, `services.${name}.environment`)).map(([k, v]) => [k, v == null ? '' : String(v)]);
  return Object.fromEntries(entries);
}

function envVar(name: string, key: string): string {
  const value = environment(name)[key];
  assert.ok(value !== undefined && value !== '', `services.${name}.environment.${key} should be set`);
  return value;
}

/** depends_on as target → condition, whichever syntax the file uses. */
function dependsOn(name: string): Record<string, string> {
  const deps = service(name).depends_on ?? {};
  if (Array.isArray(deps)) return Object.fromEntries(deps.map((d) => [String(d), 'service_started']));
  return Object.fromEntries(
    Object.entries(mapAt(deps, `services.${name}.depends_on`)).map(([target, spec]) => [
      target,
      isMap(spec) && typeof spec.condition === 'string' ? spec.condition : 'service_started',
    ]),
  );
}

interface PortMapping {
  hostIp?: string;
  published?: string;
  target: string;
}

function ports(name: string): PortMapping[] {
  const list = service(name).ports ?? [];
  assert.ok(Array.isArray(list), `services.${name}.ports should be a list`);
  return list.map((p): PortMapping => {
    if (isMap(p)) {
      return {
        hostIp: p.host_ip == null ? undefined : String(p.host_ip),
        published: p.published == null ? undefined : String(p.published),
        target: String(p.target),
      };
    }
    const parts = String(p).replace(/\/(tcp|udp)$/, '').split(':');
    if (parts.length === 1) return { target: parts[0] };
    if (parts.length === 2) return { published: parts[0], target: parts[1] };
    return { hostIp: parts.slice(0, -2).join(':'), published: parts.at(-2), target: parts.at(-1) ?? '' };
  });
}

function stringList(value: unknown, what: string): string[] {
  if (typeof value === 'string') return value.split(/\s+/).filter(Boolean);
  assert.ok(Array.isArray(value), `${what} should be a list or a string`);
  return value.map(String);
}

function healthcheckTest(name: string): string[] | null {
  const hc = service(name).healthcheck;
  if (!isMap(hc) || hc.disable === true) return null;
  const t = hc.test;
  if (typeof t === 'string') return ['CMD-SHELL', t];
  if (!Array.isArray(t) || t.length === 0 || t[0] === 'NONE') return null;
  return t.map(String);
}

interface Mount {
  source: string;
  target: string;
  bind: boolean;
}

function mounts(name: string): Mount[] {
  const list = service(name).volumes ?? [];
  assert.ok(Array.isArray(list), `services.${name}.volumes should be a list`);
  return list.map((v): Mount => {
    if (isMap(v)) {
      return { source: String(v.source ?? ''), target: String(v.target), bind: v.type === 'bind' };
    }
    const [source, target] = String(v).split(':');
    return { source, target: target ?? source, bind: /^[./~]/.test(source) };
  });
}

function imageTag(image: string): string | null {
  if (image.includes('@sha256:')) return image.split('@')[1];
  const lastSegment = image.split('/').at(-1) ?? '';
  return lastSegment.includes(':') ? lastSegment.split(':').at(-1) ?? null : null;
}

function packageScripts(): Record<string, string> {
  const pkg = mapAt(JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')), 'package.json');
  return Object.fromEntries(Object.entries(mapAt(pkg.scripts, 'package.json scripts')).map(([k, v]) => [k, String(v)]));
}

// ---------------------------------------------------------------------------
// The compose file.

test('is a Compose-spec file with its seven services', () => {
  assert.equal('version' in raw, false, 'the Compose spec has no top-level `version:` key');
  for (const name of SERVICES) assert.ok(isMap(services[name]), `service "${name}" should exist`);
});

test('every variable referenced with ${...} has a default', () => {
  assert.ok(variableUses.length > 0, 'expected passwords and ports to be overridable');
  const withoutDefault = variableUses.filter((u) => u.operator !== '-' && u.operator !== ':-');
  assert.deepEqual(
    withoutDefault.map((u) => u.expression),
    [],
    'use ${VAR:-default} so that `docker compose up` works on a clean machine',
  );
});

test('every long-running service has a healthcheck and a restart policy', () => {
  for (const name of Object.keys(services)) {
    if (ONE_SHOT.has(name)) continue;
    const t = healthcheckTest(name);
    assert.ok(t !== null, `service "${name}" should have a healthcheck`);
    assert.ok(['CMD', 'CMD-SHELL'].includes(t[0]) && t.length > 1, `service "${name}": malformed healthcheck test`);
    assert.ok(
      ['always', 'unless-stopped'].includes(String(service(name).restart)),
      `service "${name}" should restart unless stopped`,
    );
  }
});

test('one-shot services run once and are not restarted', () => {
  for (const name of ONE_SHOT) {
    // Quoted in the file: an unquoted `no` is a boolean to YAML 1.1 parsers.
    assert.equal(service(name).restart, 'no', `service "${name}" should have restart: "no"`);
  }
});

test('every depends_on target exists and its condition can be met, without cycles', () => {
  for (const name of Object.keys(services)) {
    for (const [target, condition] of Object.entries(dependsOn(name))) {
      assert.ok(target in services, `service "${name}" depends on unknown service "${target}"`);
      if (condition === 'service_healthy') {
        assert.ok(healthcheckTest(target) !== null, `"${name}" waits for "${target}" to be healthy, but it has no healthcheck`);
      } else if (condition === 'service_completed_successfully') {
        assert.ok(ONE_SHOT.has(target), `"${name}" waits for "${target}" to complete, but it is not a one-shot service`);
      } else {
        assert.equal(condition, 'service_started', `service "${name}": unknown depends_on condition`);
      }
    }
  }
  const visiting = new Set<string>();
  const done = new Set<string>();
  const visit = (name: string, trail: string[]): void => {
    if (done.has(name)) return;
    assert.ok(!visiting.has(name), `depends_on cycle: ${[...trail, name].join(' -> ')}`);
    visiting.add(name);
    for (const target of Object.keys(dependsOn(name))) visit(target, [...trail, name]);
    visiting.delete(name);
    done.add(name);
  };
  for (const name of Object.keys(services)) visit(name, []);
});

test('api and worker start after postgres and temporal are healthy and the search attributes exist', () => {
  for (const name of APP_SERVICES) {
    const deps = dependsOn(name);
    assert.equal(deps.postgres, 'service_healthy', `${name} -> postgres`);
    assert.equal(deps.temporal, 'service_healthy', `${name} -> temporal`);
    assert.equal(deps['temporal-admin-tools'], 'service_completed_successfully', `${name} -> temporal-admin-tools`);
  }
  assert.equal(dependsOn('temporal').postgres, 'service_healthy', 'temporal -> postgres');
  assert.equal(dependsOn('temporal')['temporal-schema'], 'service_completed_successfully', 'temporal -> temporal-schema');
  assert.equal(dependsOn('temporal-schema').postgres, 'service_healthy', 'temporal-schema -> postgres');
  assert.equal(dependsOn('temporal-admin-tools').temporal, 'service_healthy', 'temporal-admin-tools -> temporal');
  assert.equal(dependsOn('temporal-ui').temporal, 'service_healthy', 'temporal-ui -> temporal');
});

test('only the api applies migrations, and the worker starts after it has', () => {
  assert.equal(envVar('api', 'TASKD_MIGRATE'), '1');
  assert.ok(!['1', 'true'].includes(environment('worker').TASKD_MIGRATE ?? ''), 'the worker must not migrate');
  assert.equal(dependsOn('worker').api, 'service_healthy', 'worker -> api (healthy means migrations applied)');
});

test('the Temporal Web UI is published on 8233', () => {
  assert.ok(
    ports('temporal-ui').some((p) => p.published === '8233' && p.target === '8080'),
    `expected 8233:8080, got ${JSON.stringify(ports('temporal-ui'))}`,
  );
});

test('the api is published on 3000, listens there, and its healthcheck asks /readyz', () => {
  assert.ok(
    ports('api').some((p) => p.published === '3000' && p.target === '3000'),
    `expected 3000:3000, got ${JSON.stringify(ports('api'))}`,
  );
  assert.equal(envVar('api', 'PORT'), '3000');
  assert.equal(envVar('api', 'HOST'), '0.0.0.0', 'the api must listen on every interface inside its container');
  assert.match(healthcheckTest('api')?.join(' ') ?? '', /127\.0\.0\.1:3000\/readyz/);
});

test('the worker serves /healthz on WORKER_HEALTH_PORT and its healthcheck asks there', () => {
  const port = envVar('worker', 'WORKER_HEALTH_PORT');
  assert.equal(port, '3001');
  assert.ok(
    (healthcheckTest('worker')?.join(' ') ?? '').includes(`127.0.0.1:${port}/healthz`),
    'the worker healthcheck should call its health endpoint',
  );
});

test('api and worker run the same image, with the commands package.json defines', () => {
  const [api, worker] = APP_SERVICES.map(service);
  assert.ok(api.build !== undefined, 'the api is built from this repository');
  assert.deepEqual(worker.build, api.build, 'api and worker share one build');
  assert.equal(typeof api.image, 'string', 'name the image so both services use the same one');
  assert.equal(worker.image, api.image);
  const scripts = packageScripts();
  assert.deepEqual(stringList(api.command, 'api.command'), scripts.api.split(/\s+/));
  assert.deepEqual(stringList(worker.command, 'worker.command'), scripts.worker.split(/\s+/));
});

test('api and worker reach postgres and temporal by their service names', () => {
  const pg = environment('postgres');
  for (const name of APP_SERVICES) {
    const url = new URL(envVar(name, 'DATABASE_URL'));
    assert.ok(['postgres:', 'postgresql:'].includes(url.protocol), `${name}: DATABASE_URL should be a postgres URL`);
    assert.equal(url.hostname, 'postgres', `${name}: DATABASE_URL should point at the postgres service`);
    assert.ok(['', '5432'].includes(url.port), `${name}: DATABASE_URL port`);
    assert.equal(decodeURIComponent(url.username), pg.POSTGRES_USER, `${name}: DATABASE_URL user`);
    assert.equal(decodeURIComponent(url.password), pg.POSTGRES_PASSWORD, `${name}: DATABASE_URL password`);
    assert.equal(url.pathname.slice(1), pg.POSTGRES_DB, `${name}: DATABASE_URL should name the database postgres creates`);
  }
  for (const name of [...APP_SERVICES, 'temporal-ui', 'temporal-admin-tools']) {
    const [host, port] = envVar(name, 'TEMPORAL_ADDRESS').split(':');
    assert.equal(host, 'temporal', `${name}: TEMPORAL_ADDRESS should point at the temporal service`);
    assert.equal(port, '7233', `${name}: TEMPORAL_ADDRESS port`);
  }
  for (const key of ['TEMPORAL_NAMESPACE', 'TEMPORAL_TASK_QUEUE', 'TASKD_DATA_DIR', 'TASKD_ACCESS_URL', 'LOG_LEVEL']) {
    assert.equal(envVar('worker', key), envVar('api', key), `api and worker should agree on ${key}`);
  }
});

test('workspace agents started by the worker reach the api', () => {
  // The process provisioner runs agents inside the worker container, where the
  // api is reachable by its service name only.
  const url = new URL(envVar('worker', 'TASKD_ACCESS_URL'));
  assert.equal(url.hostname, 'api');
  assert.equal(url.port || '80', envVar('api', 'PORT'));
});

test('Temporal keeps its data in its own databases on the postgres service', () => {
  const pg = environment('postgres');
  const t = environment('temporal');
  assert.equal(t.DB, 'postgres12');
  assert.equal(t.POSTGRES_SEEDS, 'postgres');
  assert.equal(t.DB_PORT, '5432');
  assert.equal(t.POSTGRES_USER, pg.POSTGRES_USER);
  assert.equal(t.POSTGRES_PWD, pg.POSTGRES_PASSWORD);
  const temporalDbs = [t.DBNAME || 'temporal', t.VISIBILITY_DBNAME || 'temporal_visibility'];
  assert.equal(new Set(temporalDbs).size, 2, 'history and visibility need separate databases');
  assert.ok(!temporalDbs.includes(pg.POSTGRES_DB), 'taskd and Temporal must not share a database');
});

test('every part of the stack uses the same Temporal namespace', () => {
  const namespace = envVar('api', 'TEMPORAL_NAMESPACE');
  assert.equal(envVar('temporal-admin-tools', 'TEMPORAL_NAMESPACE'), namespace, 'search attributes go to this namespace');
  assert.equal(envVar('temporal-ui', 'TEMPORAL_DEFAULT_NAMESPACE'), namespace, 'the UI opens this namespace');
});

test('registers exactly the search attributes the workflows use', () => {
  const attributes: Record<string, string> = { ...SEARCH_ATTRIBUTES };
  assert.ok(Object.keys(attributes).length > 0);
  const registered = Object.fromEntries(
    envVar('temporal-admin-tools', 'TASKD_SEARCH_ATTRIBUTES')
      .split(/\s+/)
      .filter(Boolean)
      .map((pair) => {
        const [name, type] = pair.split('=');
        assert.ok(name && type, `"${pair}" should be Name=Type`);
        return [name, type];
      }),
  );
  assert.deepEqual(registered, attributes);

  const setup = service('temporal-admin-tools');
  const script = mounts('temporal-admin-tools').find((m) => m.bind && m.source.endsWith('.sh'));
  assert.ok(script, 'temporal-admin-tools should mount its setup script');
  assert.ok(stringList(setup.entrypoint, 'entrypoint').includes(script.target), 'temporal-admin-tools should run the mounted script');
  const body = readFileSync(path.resolve(ROOT, script.source), 'utf8');
  assert.match(body, /TASKD_SEARCH_ATTRIBUTES/);
  assert.match(body, /search-attribute create/);
  assert.match(body, /namespace create/, 'temporalio/server creates no namespace: the setup job does');
});

test('the Temporal server runs with the settings the tests give the one they run', () => {
  const t = environment('temporal');
  for (const [key, value] of Object.entries(TEMPORAL_SERVER_SETTINGS)) assert.equal(t[key], value, `temporal: ${key}`);
});

test("the schema job runs the tests' SQL tool steps on both of Temporal's databases", () => {
  const t = environment('temporal');
  const job = environment('temporal-schema');
  for (const key of ['DB', 'DB_PORT', 'POSTGRES_SEEDS', 'POSTGRES_USER', 'DBNAME', 'VISIBILITY_DBNAME']) {
    assert.equal(job[key], t[key], `temporal-schema and temporal should agree on ${key}`);
  }
  assert.equal(job.SQL_PASSWORD, t.POSTGRES_PWD, 'the SQL tool reads the password from SQL_PASSWORD');
  const script = mounts('temporal-schema').find((m) => m.bind && m.source.endsWith('.sh'));
  assert.ok(script, 'temporal-schema should mount its script');
  assert.ok(stringList(service('temporal-schema').entrypoint, 'entrypoint').includes(script.target), 'temporal-schema should run the mounted script');
  const body = readFileSync(path.resolve(ROOT, script.source), 'utf8');
  assert.match(body, /--plugin "\$plugin"/);
  assert.match(body, /--db "\$db"/);
  for (const schema of Object.values(TEMPORAL_SCHEMAS)) {
    assert.match(body, new RegExp(`^schema \\S+ ${schema}$`, 'm'), `the script sets up ${schema}`);
    for (const step of temporalSchemaSteps(schema)) {
      const words = step.args.map((a) => (a === schema ? '"$name"' : a)).join(' ');
      assert.ok(body.includes(`"\${tool[@]}" ${words}`) || body.includes(`$("\${tool[@]}" ${words}`), `the script runs: ${words}`);
    }
  }
});

test('the Temporal server enables update-with-start and updates', () => {
  const configPath = envVar('temporal', 'DYNAMIC_CONFIG_FILE_PATH');
  const mount = mounts('temporal').find((m) => m.bind && m.target === configPath);
  assert.ok(mount, 'DYNAMIC_CONFIG_FILE_PATH should be a file mounted from this repository');
  const config = mapAt(parse(readFileSync(path.resolve(ROOT, mount.source), 'utf8')), mount.source);
  for (const key of ['frontend.enableExecuteMultiOperation', 'frontend.enableUpdateWorkflowExecution']) {
    const values = config[key];
    assert.ok(Array.isArray(values) && isMap(values[0]) && values[0].value === true, `${key} should be true`);
  }
});

test('bind mounts exist and named volumes are declared', () => {
  const declared = isMap(compose.volumes) ? Object.keys(compose.volumes) : [];
  for (const name of Object.keys(services)) {
    for (const m of mounts(name)) {
      if (m.bind) assert.ok(existsSync(path.resolve(ROOT, m.source)), `${name}: ${m.source} does not exist`);
      else if (m.source) assert.ok(declared.includes(m.source), `${name}: volume "${m.source}" is not declared`);
    }
  }
  for (const name of APP_SERVICES) {
    assert.ok(
      mounts(name).some((m) => !m.bind && m.target === envVar(name, 'TASKD_DATA_DIR')),
      `${name}: TASKD_DATA_DIR should be on a volume`,
    );
  }
  assert.ok(mounts('postgres').some((m) => !m.bind && m.target === '/var/lib/postgresql/data'), 'postgres data on a volume');
});

test('every image is pinned to a tag other than latest', () => {
  for (const name of Object.keys(services)) {
    const image = service(name).image;
    if (image === undefined) {
      assert.ok(service(name).build !== undefined, `service "${name}" has neither image nor build`);
      continue;
    }
    const tag = imageTag(String(image));
    assert.ok(tag, `service "${name}": image ${String(image)} has no tag`);
    assert.notEqual(tag, 'latest', `service "${name}": image ${String(image)} is not pinned`);
  }
  // the server the tests run (devstack/temporal-cluster.ts builds this version), not the retired auto-setup
  assert.equal(String(service('temporal').image), `temporalio/server:${TEMPORAL_SERVER_VERSION}`);
  for (const name of ['temporal-schema', 'temporal-admin-tools']) {
    assert.equal(String(service(name).image), `temporalio/admin-tools:${TEMPORAL_SERVER_VERSION}`, `${name} should match the server version`);
  }
});

// ---------------------------------------------------------------------------
// The image.

/** Dockerfile instructions with continuation lines joined and comments dropped. */
function dockerfileInstructions(): Array<{ keyword: string; args: string }> {
  const text = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8').replace(/\\\r?\n/g, ' ');
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const [keyword, ...rest] = line.split(/\s+/);
      return { keyword: keyword.toUpperCase(), args: rest.join(' ') };
    });
}

test('the Dockerfile installs production dependencies only and runs the api as a non-root user', () => {
  const instructions = dockerfileInstructions();
  const from = instructions.filter((i) => i.keyword === 'FROM').map((i) => i.args.split(/\s+/)[0]);
  assert.ok(from.length > 0);
  assert.equal(from.at(-1), 'node:20-bookworm-slim');
  for (const image of from) assert.notEqual(imageTag(image) ?? 'latest', 'latest', `FROM ${image} is not pinned`);

  assert.ok(
    instructions.some((i) => i.keyword === 'RUN' && /\bnpm ci\b/.test(i.args) && i.args.includes('--omit=dev')),
    'dependencies come from `npm ci --omit=dev`',
  );
  const pkg = mapAt(JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')), 'package.json');
  assert.ok(isMap(pkg.dependencies) && 'tsx' in pkg.dependencies, 'tsx runs the source, so it must be a runtime dependency');

  const user = instructions.filter((i) => i.keyword === 'USER').at(-1)?.args.split(':')[0];
  assert.ok(user && !['root', '0'].includes(user), 'the final USER should not be root');

  const cmd = instructions.filter((i) => i.keyword === 'CMD').at(-1);
  assert.ok(cmd, 'the image needs a default CMD');
  assert.deepEqual(JSON.parse(cmd.args), packageScripts().api.split(/\s+/), 'the default CMD runs the api');
});

test('.dockerignore keeps the host node_modules and VCS data out of the build context', () => {
  const entries = readFileSync(path.join(ROOT, '.dockerignore'), 'utf8')
    .split(/\r?\n/)
    .map((line) => line.trim().replace(/^\/|\/$/g, ''));
  for (const entry of ['node_modules', '.git', '.env']) assert.ok(entries.includes(entry), `.dockerignore should list ${entry}`);
});

// ---------------------------------------------------------------------------
// External validators, when installed.

function runs(command: string, args: string[]): boolean {
  const r = spawnSync(command, args, { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
  return !r.error && r.status === 0;
}

function assertRuns(command: string, args: string[]): void {
  const r = spawnSync(command, args, { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  assert.ifError(r.error);
  assert.equal(r.status, 0, `${command} ${args.join(' ')} failed:\n${r.stdout}\n${r.stderr}`);
}

test('`docker compose config` accepts the file', (t) => {
  if (!runs('docker', ['compose', 'version'])) {
    t.skip('the docker compose plugin is not installed');
    return;
  }
  assertRuns('docker', ['compose', '-f', COMPOSE_FILE, 'config', '--quiet']);
});

test('`docker-compose config` accepts the file', (t) => {
  if (!runs('docker-compose', ['version'])) {
    t.skip('docker-compose is not installed');
    return;
  }
  assertRuns('docker-compose', ['-f', COMPOSE_FILE, 'config', '--quiet']);
});

test('dclint finds no errors', (t) => {
  const local = path.join(ROOT, 'node_modules', '.bin', 'dclint');
  const dclint = existsSync(local) ? local : 'dclint';
  if (!runs(dclint, ['--version'])) {
    t.skip('dclint is not installed');
    return;
  }
  // Schema and YAML errors always fail. Two rules contradict deliberate choices:
  // the api is published on every interface (and the rule cannot read an
  // interpolated host IP), and api/worker both name the image they build so
  // that they share it.
  assertRuns(dclint, [
    COMPOSE_FILE,
    '--quiet',
    '--color',
    'false',
    '--disable-rule',
    'no-unbound-port-interfaces',
    '--disable-rule',
    'no-build-and-image',
  ]);
});
