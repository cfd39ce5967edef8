// `taskd agent --url … --token …`: the workspace agent (agent/workspace-agent-main.ts), for
// workspaces of the `external` provisioner that run on another machine. It owns its flags and
// signals; this module only adds --help and hands over.

const HELP = `Usage: taskd agent --url <taskd URL> --token <agent token> [--dir <workspace folder>]

Run the taskd workspace agent: it fetches the workspace manifest with the agent token, starts the
template's apps, reports their health and the AI app's state, and uploads the conversation when it
is stopped (SIGTERM/SIGINT). Get the URL and token of an external workspace's agent from
GET /api/v2/workspaces/{workspace}/external-agent/{agent}/credentials.

Flags:
  --url string     taskd server URL ($TASKD_URL)
  --token string   the agent token ($TASKD_AGENT_TOKEN)
  --dir string     workspace folder the apps run in ($TASKD_WORKSPACE_DIR; default: the current folder)
  -h, --help       Show this help.
`;

export async function runAgentCommand(argv: string[]): Promise<void> {
  if (argv.includes('-h') || argv.includes('--help')) {
    process.stdout.write(HELP);
    return;
  }
  const { runAgentCli } = require('../agent/workspace-agent-main') as typeof import('../agent/workspace-agent-main');
  const code = await runAgentCli(argv, process.env);
  // the agent decides when it is done; timers of its apps must not keep the process alive
  process.exit(code);
}
