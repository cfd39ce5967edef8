import net from 'node:net';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Actor } from '../context';
import { ApiError, conflict, notFound } from '../errors';
import { orInternal } from './internal';
import { AgentApiClient } from '../../agent/agentapi-client';
import type { TaskRecord } from '../../db/tasks';
import { workspaceOwnerId } from '../../db/workspaces';
import { appUrlsOfAgent } from '../../db/workspace-agents';

// The task-app gate (spec §3.10) shared by send and live logs: the checks run in Coder's order so
// each failure gets Coder's status and message, then the app's AgentAPI is reached directly at its
// recorded URL (taskd has no agent tunnel; the dial check stands in for Coder's agent dial).

const DIAL_TIMEOUT_MS = 30_000;

function checkStatus(task: TaskRecord): void {
  switch (task.status) {
    case 'pending':
    case 'initializing':
      throw conflict(
        `Task is ${task.status}.`,
        'The task is resuming. Wait for the task to become active before sending messages.',
      );
    case 'paused':
      throw conflict('Task is paused.', 'Resume the task to send messages.');
    case 'error':
    case 'unknown':
      throw new ApiError(
        400,
        'Task must be active.',
        `Task status is "${task.status}", it must be "active" to interact with the task.`,
      );
    case 'active':
      return;
  }
}

/** Application connect: the workspace owner, or a site owner (org admins manage but do not connect). */
export async function connectableWorkspace(em: EntityManager, actor: Actor, workspaceId: string): Promise<void> {
  const ownerId = await orInternal('Internal error fetching workspace.', () => workspaceOwnerId(em, workspaceId));
  if (!ownerId) throw notFound();
  if (ownerId !== actor.userId && !actor.isSiteOwner) throw notFound();
}

async function appUrl(em: EntityManager, agentId: string | null, appId: string): Promise<string> {
  const apps = await orInternal('Internal error fetching workspace resources.', () => appUrlsOfAgent(em, agentId));
  const app = apps.find((a) => a.id === appId);
  // Coder dereferences the missing app and panics; an explicit 500 says what is wrong instead.
  if (!app) throw new ApiError(500, 'Internal error fetching workspace resources.', 'The task app is not among the agent\'s apps.');
  return app.url;
}

function dial(url: URL): Promise<void> {
  const port = Number(url.port || 80);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port, timeout: DIAL_TIMEOUT_MS });
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
    socket.once('timeout', () => {
      socket.destroy();
      reject(new Error(`no connection within ${DIAL_TIMEOUT_MS} ms`));
    });
    socket.once('error', reject);
  });
}

/** Runs every check of §3.10 and returns a client for the task app's AgentAPI. */
export async function taskAppClient(em: EntityManager, actor: Actor, task: TaskRecord): Promise<AgentApiClient> {
  checkStatus(task);
  if (!task.workspaceId) throw new ApiError(400, 'Task does not have a workspace.');
  if (!task.workspaceAppId) throw new ApiError(400, 'Task does not have a workspace app.');
  await connectableWorkspace(em, actor, task.workspaceId);
  const raw = await appUrl(em, task.workspaceAgentId, task.workspaceAppId);
  if (raw === '') throw new ApiError(500, 'Task app URL is not configured.');
  let url: URL;
  try {
    url = new URL(raw);
  } catch (err) {
    throw new ApiError(500, 'Internal error parsing task app URL.', (err as Error).message);
  }
  if (url.protocol !== 'http:') throw new ApiError(400, 'Only http scheme is supported for direct agent-dial.');
  try {
    await dial(url);
  } catch (err) {
    throw new ApiError(502, 'Failed to reach task app endpoint.', (err as Error).message);
  }
  return new AgentApiClient(url.toString());
}
