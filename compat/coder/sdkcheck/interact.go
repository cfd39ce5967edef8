// Talking to a task: its logs, input sent to its app, and its prompt, in the states where Coder
// allows each and where it refuses them.
package main

import (
	"encoding/json"
	"fmt"

	"github.com/coder/coder/v2/codersdk"
)

func jsonDecode(raw []byte, v any) error {
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("decoding %q: %w", raw, err)
	}
	return nil
}

// replied tells whether the logs hold `input` followed by the app's answer to it.
func replied(logs []codersdk.TaskLogEntry, input string) bool {
	for i, e := range logs {
		if e.Type == codersdk.TaskLogTypeInput && e.Content == input {
			return i+1 < len(logs) && logs[i+1].Type == codersdk.TaskLogTypeOutput
		}
	}
	return false
}

// idle waits until the task is active and its app has reported idle, as `coder task send` waits.
func (r *runner) idle(t codersdk.Task) (codersdk.Task, error) {
	return r.waitTask(t.ID, "became active and idle", func(t codersdk.Task) bool {
		return t.Status == codersdk.TaskStatusActive && t.CurrentState != nil && t.CurrentState.State == codersdk.TaskStateIdle
	})
}

func (r *runner) interact(ts *taskSet) {
	a, stuck := ts.a, ts.stuck
	r.check("task becomes active and idle, its app answering the prompt", func() error {
		if err := need(a); err != nil {
			return err
		}
		t, err := r.idle(a)
		if err != nil {
			return err
		}
		r.observe(t)
		if t.WorkspaceStatus != codersdk.WorkspaceStatusRunning || !t.WorkspaceAgentID.Valid || !t.WorkspaceAppID.Valid || t.WorkspaceBuildNumber != 1 {
			return fmt.Errorf("workspace %s agent %v app %v build %d", t.WorkspaceStatus, t.WorkspaceAgentID, t.WorkspaceAppID, t.WorkspaceBuildNumber)
		}
		if t.WorkspaceAgentLifecycle == nil || *t.WorkspaceAgentLifecycle != codersdk.WorkspaceAgentLifecycleReady ||
			t.WorkspaceAgentHealth == nil || !t.WorkspaceAgentHealth.Healthy {
			return fmt.Errorf("agent lifecycle %v health %+v", t.WorkspaceAgentLifecycle, t.WorkspaceAgentHealth)
		}
		return nil
	})
	r.check("TaskLogs of an active task are live", func() error {
		if err := need(a); err != nil {
			return err
		}
		logs, err := r.owner.TaskLogs(r.ctx, codersdk.Me, a.ID)
		if err != nil {
			return err
		}
		r.observe(logs)
		if logs.Snapshot || !replied(logs.Logs, a.InitialPrompt) {
			return fmt.Errorf("snapshot %v, %d entries without the prompt and its answer", logs.Snapshot, len(logs.Logs))
		}
		return nil
	})
	r.check("TaskSend to an idle task reaches its app", func() error {
		if err := need(a); err != nil {
			return err
		}
		if err := r.owner.TaskSend(r.ctx, codersdk.Me, a.ID, codersdk.TaskSendRequest{Input: "Now make it rhyme"}); err != nil {
			return err
		}
		_, err := r.waitTask(a.ID, "answered the input", func(codersdk.Task) bool {
			logs, err := r.owner.TaskLogs(r.ctx, codersdk.Me, a.ID)
			return err == nil && replied(logs.Logs, "Now make it rhyme")
		})
		return err
	})
	r.check("TaskSend refuses empty input", func() error {
		return wantError(r.owner.TaskSend(r.ctx, codersdk.Me, a.ID, codersdk.TaskSendRequest{}), 400, "Task input is required.")
	})
	r.check("UpdateTaskInput refuses an active task", func() error {
		return wantError(r.owner.UpdateTaskInput(r.ctx, codersdk.Me, a.ID, codersdk.UpdateTaskInputRequest{Input: "New prompt"}),
			409, "Unable to update task input, task must be paused.", "Please stop the task's workspace before updating the input.")
	})
	r.check("initializing task: no agent, state says so", func() error {
		if err := need(stuck); err != nil {
			return err
		}
		t, err := r.owner.TaskByID(r.ctx, stuck.ID)
		if err != nil {
			return err
		}
		if t.Status != codersdk.TaskStatusInitializing || t.CurrentState == nil || t.CurrentState.State != codersdk.TaskStateWorking || t.CurrentState.Message == "" {
			return fmt.Errorf("status %s, current state %+v", t.Status, t.CurrentState)
		}
		return nil
	})
	r.check("TaskLogs of an initializing task are an empty snapshot", func() error {
		logs, err := r.owner.TaskLogs(r.ctx, codersdk.Me, stuck.ID)
		if err != nil {
			return err
		}
		if !logs.Snapshot || len(logs.Logs) != 0 || logs.SnapshotAt != nil {
			return fmt.Errorf("got %+v, want {logs: [], snapshot: true}", logs)
		}
		return nil
	})
	r.check("TaskSend refuses an initializing task", func() error {
		return wantError(r.owner.TaskSend(r.ctx, codersdk.Me, stuck.ID, codersdk.TaskSendRequest{Input: "hello"}),
			409, "Task is initializing.", "The task is resuming. Wait for the task to become active before sending messages.")
	})
	r.check("UpdateTaskInput refuses an initializing task", func() error {
		return wantError(r.owner.UpdateTaskInput(r.ctx, codersdk.Me, stuck.ID, codersdk.UpdateTaskInputRequest{Input: "New prompt"}),
			409, "Unable to update task input, task must be paused.")
	})
}
