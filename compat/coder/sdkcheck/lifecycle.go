// Pause and resume, the builds they start, and those builds' logs as codersdk reads them: the
// JSON list, and the websocket WorkspaceBuildLogsAfter follows until the build ends.
package main

import (
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/google/uuid"

	"github.com/coder/coder/v2/codersdk"
)

func wantBuild(b *codersdk.WorkspaceBuild, transition codersdk.WorkspaceTransition, reason codersdk.BuildReason, number int32) error {
	if b == nil {
		return fmt.Errorf("no workspace_build in the answer")
	}
	if b.Transition != transition || b.Reason != reason || b.BuildNumber != number {
		return fmt.Errorf("build %d %s %s, want %d %s %s", b.BuildNumber, b.Transition, b.Reason, number, transition, reason)
	}
	return nil
}

// followLogs follows a build's logs over the websocket until the server ends the stream.
func (r *runner) followLogs(build uuid.UUID) error {
	ctx, cancel := context.WithTimeout(r.ctx, r.wait)
	defer cancel()
	logs, closer, err := r.owner.WorkspaceBuildLogsAfter(ctx, build, 0)
	if err != nil {
		return err
	}
	defer closer.Close()
	n := 0
	for {
		select {
		case _, open := <-logs:
			if !open {
				if n == 0 {
					return fmt.Errorf("the stream ended without a log line")
				}
				return nil
			}
			n++
		case <-ctx.Done():
			return fmt.Errorf("the stream did not end within %s of the build (%d lines)", r.wait, n)
		}
	}
}

func (r *runner) buildLogChecks(build uuid.UUID, what string) {
	r.check("WorkspaceBuildLogsAfter follows the "+what+" build to its end", func() error {
		if build == uuid.Nil {
			return fmt.Errorf("no build")
		}
		return r.followLogs(build)
	})
	r.check("workspace build logs as a JSON list ("+what+" build)", func() error {
		res, err := r.owner.Request(r.ctx, http.MethodGet, fmt.Sprintf("/api/v2/workspacebuilds/%s/logs", build), nil)
		if err != nil {
			return err
		}
		defer res.Body.Close()
		if res.StatusCode != http.StatusOK {
			return codersdk.ReadBodyAsError(res)
		}
		var logs []codersdk.ProvisionerJobLog
		if err := jsonDecodeReader(res, &logs); err != nil {
			return err
		}
		r.observe(logs)
		if len(logs) == 0 {
			return fmt.Errorf("no log lines")
		}
		return nil
	})
}

// checkBuild checks a call that starts a build of the task's workspace and returns the build's id.
func (r *runner) checkBuild(name string, t codersdk.Task, call func() (*codersdk.WorkspaceBuild, error),
	transition codersdk.WorkspaceTransition, reason codersdk.BuildReason, number int32,
) (id uuid.UUID) {
	r.check(name, func() error {
		if err := need(t); err != nil {
			return err
		}
		b, err := call()
		if err != nil {
			return err
		}
		if b != nil {
			id = b.ID
		}
		return wantBuild(b, transition, reason, number)
	})
	return id
}

func (r *runner) lifecycle(ts *taskSet) {
	a := ts.a
	pause := func() (*codersdk.WorkspaceBuild, error) {
		res, err := r.owner.PauseTask(r.ctx, codersdk.Me, a.ID)
		if err != nil {
			return nil, err
		}
		r.observe(res)
		return res.WorkspaceBuild, nil
	}
	pauseBuild := r.checkBuild("PauseTask", a, pause, codersdk.WorkspaceTransitionStop, codersdk.BuildReasonTaskManualPause, 2)
	r.buildLogChecks(pauseBuild, "pause")
	r.check("workspace build logs refuse a non-integer after", func() error {
		res, err := r.owner.Request(r.ctx, http.MethodGet, fmt.Sprintf("/api/v2/workspacebuilds/%s/logs?after=soon", pauseBuild), nil)
		if err != nil {
			return err
		}
		defer res.Body.Close()
		return wantError(codersdk.ReadBodyAsError(res), 400, `Query param "after" must be an integer.`)
	})
	r.check("paused task: status paused", func() error {
		_, err := r.waitTask(a.ID, "paused", func(t codersdk.Task) bool { return t.Status == codersdk.TaskStatusPaused })
		return err
	})
	r.check("TaskLogs of a paused task are the snapshot taken at pause", func() error {
		logs, err := r.owner.TaskLogs(r.ctx, codersdk.Me, a.ID)
		if err != nil {
			return err
		}
		r.observe(logs)
		if !logs.Snapshot || logs.SnapshotAt == nil || !replied(logs.Logs, "Now make it rhyme") {
			return fmt.Errorf("snapshot %v at %v, %d entries without the sent input and its answer", logs.Snapshot, logs.SnapshotAt, len(logs.Logs))
		}
		return nil
	})
	r.check("TaskSend refuses a paused task", func() error {
		return wantError(r.owner.TaskSend(r.ctx, codersdk.Me, a.ID, codersdk.TaskSendRequest{Input: "hello"}),
			409, "Task is paused.", "Resume the task to send messages.")
	})
	r.check("UpdateTaskInput refuses blank input", func() error {
		return wantError(r.owner.UpdateTaskInput(r.ctx, codersdk.Me, a.ID, codersdk.UpdateTaskInputRequest{Input: " \n\t"}), 400, "Task input is required.")
	})
	r.check("UpdateTaskInput of a paused task changes its prompt", func() error {
		if err := r.owner.UpdateTaskInput(r.ctx, codersdk.Me, a.ID, codersdk.UpdateTaskInputRequest{Input: "  A new prompt "}); err != nil {
			return err
		}
		t, err := r.owner.TaskByID(r.ctx, a.ID)
		if err != nil {
			return err
		}
		if t.InitialPrompt != "  A new prompt " {
			return fmt.Errorf("initial_prompt %q, want the input untrimmed", t.InitialPrompt)
		}
		return nil
	})
	r.checkBuild("PauseTask of a paused task queues another stop", a, pause, codersdk.WorkspaceTransitionStop, codersdk.BuildReasonTaskManualPause, 3)
	r.check("paused task: paused again after the second stop", func() error {
		_, err := r.waitTask(a.ID, "paused again", func(t codersdk.Task) bool {
			return t.Status == codersdk.TaskStatusPaused && t.WorkspaceBuildNumber == 3
		})
		return err
	})
	resumeBuild := r.checkBuild("ResumeTask", a, func() (*codersdk.WorkspaceBuild, error) {
		res, err := r.owner.ResumeTask(r.ctx, codersdk.Me, a.ID)
		if err != nil {
			return nil, err
		}
		r.observe(res)
		return res.WorkspaceBuild, nil
	}, codersdk.WorkspaceTransitionStart, codersdk.BuildReasonTaskResume, 4)
	r.buildLogChecks(resumeBuild, "resume")
	r.check("resumed task: active and idle again", func() error {
		_, err := r.idle(a)
		return err
	})
	r.check("ResumeTask refuses a running task", func() error {
		_, err := r.owner.ResumeTask(r.ctx, codersdk.Me, a.ID)
		return wantError(err, 409, "Task workspace is already running.", `Workspace status is "running".`)
	})
}

func jsonDecodeReader(res *http.Response, v any) error {
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	return jsonDecode(body, v)
}
