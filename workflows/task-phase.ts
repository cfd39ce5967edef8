// Where a task's workflow run stands, and the only moves between phases. A run is in exactly one
// phase at a time; TaskRun.moveTo refuses any move this table does not list, so the table is the
// whole state machine of the run. (Whether an *operation* is allowed is task-state.ts's
// rejectOperation: that is about the task, this is about the run.)

export type Phase =
  /** the records are being written (create) or read (adopt); updates wait for them */
  | 'loading'
  /** the records could not be created (e.g. the name is taken): updates are refused and the run ends */
  | 'failed'
  /** nothing in progress: waiting for an update, an agent report or the idle timeout */
  | 'idle'
  /** an update (or the idle timeout) is writing the next build; the main loop waits for it */
  | 'reserving'
  /** the latest build's provisioner runs */
  | 'building'
  /** the build's outcome is being recorded; an update arriving now waits for it instead of being refused */
  | 'finishing'
  /** a start build succeeded: the agent and the task app still have to come up */
  | 'settling'
  /** waiting (bounded by agent_ready_s) for the agent to be ready */
  | 'awaitingAgent'
  /** waiting (bounded by app_healthy_s) for the task app to be healthy */
  | 'awaitingApp'
  /** a delete build failed: the task is gone but its workspace stands, and another delete may remove it */
  | 'deleteFailed'
  /** the workspace is gone: the run ends */
  | 'deleted';

export const TRANSITIONS: { readonly [P in Phase]: readonly Phase[] } = {
  loading: ['idle', 'settling', 'failed', 'deleted'],
  failed: [],
  idle: ['reserving', 'building'],
  // a reservation that fails goes back to where it came from (a start may still have to settle)
  reserving: ['idle', 'settling', 'deleteFailed'],
  building: ['finishing'],
  finishing: ['idle', 'settling', 'deleteFailed', 'deleted'],
  settling: ['awaitingAgent', 'awaitingApp', 'idle', 'reserving'],
  awaitingAgent: ['awaitingApp', 'idle', 'reserving'],
  awaitingApp: ['idle', 'reserving'],
  deleteFailed: ['reserving'],
  deleted: [],
};

/** How the Temporal UI and the taskView query name a phase. */
export const PHASE_LABELS: { readonly [P in Phase]: string } = {
  loading: 'creating',
  failed: 'failed',
  idle: 'idle',
  reserving: 'writing the next build',
  building: 'building',
  finishing: 'recording the build',
  settling: 'settling',
  awaitingAgent: 'awaiting agent',
  awaitingApp: 'awaiting app',
  deleteFailed: 'delete failed; waiting for another delete of the workspace',
  deleted: 'deleted',
};

/** Phases in which a start has yet to settle: a new build's reservation interrupts the wait. */
export const SETTLING: readonly Phase[] = ['settling', 'awaitingAgent', 'awaitingApp'];
