// The checks of the Coder compatibility tier (test/compat/) that fail today, each with why. The
// tier fails when a check not listed here fails, and when a listed one passes: delete its line as
// you close the gap. Names are exactly the check names the test output shows.

const BUILD_LOGS = 'no GET /workspacebuilds/{workspacebuild}/logs (JSON list, ?after, ?follow websocket)';
const FOLLOW = 'the CLI follows the build with WorkspaceBuildLogsAfter (websocket GET /workspacebuilds/{id}/logs?follow), which taskd lacks';

/** Checks of compat/coder/sdkcheck (Coder's Go SDK) and the routes it called. */
export const SDK_GAPS: Record<string, string> = {
  'WorkspaceBuildLogsAfter follows the pause build to its end': BUILD_LOGS,
  'WorkspaceBuildLogsAfter follows the resume build to its end': BUILD_LOGS,
  'workspace build logs as a JSON list (pause build)': BUILD_LOGS,
  'workspace build logs as a JSON list (resume build)': BUILD_LOGS,
  'workspace build logs refuse a non-integer after': BUILD_LOGS,
  'route GET /api/v2/workspacebuilds/{workspacebuild}/logs': BUILD_LOGS,
  'route GET /api/v2/workspacebuilds/{workspacebuild}/logs?after': BUILD_LOGS,
  'route GET /api/v2/workspacebuilds/{workspacebuild}/logs?follow (websocket)': BUILD_LOGS,
};

/** Checks of the real `coder` CLI and the routes it called. */
export const CLI_GAPS: Record<string, string> = {
  'coder task pause': `${FOLLOW}: it exits 1 although the task pauses`,
  'coder task resume': `${FOLLOW}: it exits 1 although the task resumes`,
  'coder task send to a paused task resumes it and sends': `${FOLLOW}: it exits 1 after resuming`,
  'the input sent to a paused task reaches the agent': `${FOLLOW}: the CLI gives up before it sends, so the input is lost`,
  'coder stop': `${FOLLOW}: it exits 1 although the workspace stops`,
  'coder start': `${FOLLOW}: the stop before it gave up early, so its build is still running`,
  "coder delete (a task's workspace)": `${FOLLOW}: it exits 1 although the workspace is deleted`,
  'route GET /api/v2/workspacebuilds/{workspacebuild}/logs?follow (websocket)': BUILD_LOGS,
};
