// What both Coder compatibility test files stand on: a site owner and a member of the default
// organization, and three templates — one whose tasks really run (the process provisioner with the
// built-in AgentAPI agent, which answers and reports idle by itself), one whose tasks stay
// initializing (echo, waiting for an agent that never connects), and one without an AI task.
import fs from 'node:fs';
import path from 'node:path';
import type { TestStack } from '../helpers/stack';
import { createAiTemplate, createUserWithToken, setupOwner } from '../helpers/fixtures';
import { stopAllWorkspaces } from '../../provisioner/process';

const example = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'examples', 'builtin-agent-template.json'), 'utf8'));

export interface CompatTemplate {
  id: string;
  name: string;
  version_id: string;
  version_name: string;
  preset_id?: string;
  preset_name?: string;
}

/** The JSON the codersdk driver reads on stdin (compat/coder/sdkcheck/main.go's config). */
export interface CompatWorld {
  url: string;
  owner: { token: string; username: string; id: string };
  member: { token: string; username: string; id: string };
  organization_id: string;
  organization_name: string;
  running_template: CompatTemplate;
  stuck_template: CompatTemplate;
  plain_version_id: string;
  wait_seconds: number;
}

/** The stack env the running template needs: a stop that leaves time for the log snapshot. */
export const COMPAT_STACK_ENV = { TASKD_WORKSPACE_STOP_GRACE_MS: '8000' };

export async function compatWorld(stack: TestStack, url: string): Promise<CompatWorld> {
  const owner = await setupOwner(stack);
  const member = await createUserWithToken(stack, owner.token, { username: 'member' });
  const org = owner.org;
  const workspace = { ...example.workspace, env: { ...example.workspace.env, TASKD_AGENT_THINK_MS: '20', TASKD_AGENT_SETTLE_MS: '100' } };
  const running = await createAiTemplate(stack, owner.token, org.id, {
    name: 'builtin',
    workspace,
    presets: [{ name: 'Quick', parameters: {} }],
  });
  const stuck = await createAiTemplate(stack, owner.token, org.id, {
    name: 'no-agent',
    workspace: { echo: { agent_lifecycle: 'none' }, timeouts: { agent_ready_s: 3600 } },
  });
  const plain = await createAiTemplate(stack, owner.token, org.id, { name: 'plain', workspace: { ai_task: undefined } });
  const template = (t: typeof running): CompatTemplate => ({
    id: t.template.id,
    name: t.template.name,
    version_id: t.version.id,
    version_name: t.version.name,
    ...(t.version.presets[0] ? { preset_id: t.version.presets[0].ID, preset_name: t.version.presets[0].Name } : {}),
  });
  return {
    url,
    owner: { token: owner.token, username: owner.user.username, id: owner.user.id },
    member: { token: member.token, username: member.user.username, id: member.user.id },
    organization_id: org.id,
    organization_name: org.name,
    running_template: template(running),
    stuck_template: template(stuck),
    plain_version_id: plain.version.id,
    wait_seconds: Number(process.env.COMPAT_WAIT_S ?? 90),
  };
}

/** Process-driver workspaces outlive a worker by design: a failed run must not leave them behind. */
export async function stopCompatWorkspaces(stack: TestStack | undefined): Promise<void> {
  if (stack) await stopAllWorkspaces({ dataDir: stack.config.dataDir, log: stack.log, stopGraceMs: 2_000 });
}
