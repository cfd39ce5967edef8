// Preloaded (node --import) into the worker and API processes the launcher starts. A launcher
// killed outright (SIGKILL) cannot stop its children; this makes them notice that their parent is
// gone and stop themselves the ordinary way (SIGTERM), instead of keeping the API's port taken.
// Plain JavaScript: node also preloads it into the worker's threads, where tsx does not load TypeScript.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.kill(process.pid, 'SIGTERM');
}, 1_000).unref();
