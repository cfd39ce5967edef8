// The workspace behind a task as Coder's clients read it: by id, by owner and name, in the
// workspace list, and its latest build.
package main

import (
	"fmt"

	"github.com/coder/coder/v2/codersdk"
)

func (r *runner) workspaces(ts *taskSet) {
	a := ts.a
	var ws codersdk.Workspace
	r.check("Workspace by id", func() error {
		if err := need(a); err != nil {
			return err
		}
		w, err := r.owner.Workspace(r.ctx, a.WorkspaceID.UUID)
		if err != nil {
			return err
		}
		r.observe(w)
		ws = w
		if w.Name != a.Name || w.OwnerName != r.cfg.Owner.Username || w.TemplateID != r.cfg.Running.ID {
			return fmt.Errorf("workspace %q of %q on %s", w.Name, w.OwnerName, w.TemplateID)
		}
		if !w.TaskID.Valid || w.TaskID.UUID != a.ID {
			return fmt.Errorf("task_id %v, want %s", w.TaskID, a.ID)
		}
		if w.LatestBuild.Transition != codersdk.WorkspaceTransitionStart || w.LatestBuild.Status != codersdk.WorkspaceStatusRunning {
			return fmt.Errorf("latest build %s %s", w.LatestBuild.Transition, w.LatestBuild.Status)
		}
		return nil
	})
	r.check("WorkspaceBuild by id", func() error {
		if ws.LatestBuild.ID == [16]byte{} {
			return fmt.Errorf("no workspace was read")
		}
		b, err := r.owner.WorkspaceBuild(r.ctx, ws.LatestBuild.ID)
		if err != nil {
			return err
		}
		r.observe(b)
		if b.WorkspaceID != ws.ID || b.BuildNumber != ws.LatestBuild.BuildNumber || b.Job.Status != codersdk.ProvisionerJobSucceeded {
			return fmt.Errorf("build %d of %s, job %s", b.BuildNumber, b.WorkspaceID, b.Job.Status)
		}
		return nil
	})
	r.check("WorkspaceByOwnerAndName", func() error {
		if err := need(a); err != nil {
			return err
		}
		w, err := r.owner.WorkspaceByOwnerAndName(r.ctx, codersdk.Me, a.WorkspaceName, codersdk.WorkspaceOptions{})
		if err != nil {
			return err
		}
		r.observe(w)
		if w.ID != a.WorkspaceID.UUID {
			return fmt.Errorf("got %s, want %s", w.ID, a.WorkspaceID.UUID)
		}
		return nil
	})
	r.check("WorkspaceByOwnerAndName of an unknown name is 404", func() error {
		_, err := r.owner.WorkspaceByOwnerAndName(r.ctx, codersdk.Me, "no-such-workspace", codersdk.WorkspaceOptions{})
		return wantError(err, 404, notFound)
	})
	workspaceList := func(name string, filter codersdk.WorkspaceFilter, want int) {
		r.check(name, func() error {
			if err := need(a); err != nil {
				return err
			}
			res, err := r.owner.Workspaces(r.ctx, filter)
			if err != nil {
				return err
			}
			r.observe(res)
			found := false
			for _, w := range res.Workspaces {
				found = found || w.ID == a.WorkspaceID.UUID
			}
			if !found || len(res.Workspaces) != want || res.Count != want {
				return fmt.Errorf("%d workspaces (count %d), task workspace listed: %v; want %d", len(res.Workspaces), res.Count, found, want)
			}
			return nil
		})
	}
	workspaceList("Workspaces owner me", codersdk.WorkspaceFilter{Owner: codersdk.Me}, 4)
	workspaceList("Workspaces by name", codersdk.WorkspaceFilter{Owner: codersdk.Me, Name: a.WorkspaceName}, 1)
	workspaceList("Workspaces by template", codersdk.WorkspaceFilter{Template: r.cfg.Running.Name}, 3)
	workspaceList("Workspaces status running", codersdk.WorkspaceFilter{Owner: codersdk.Me, Status: "running", FilterQuery: "has-ai-task:true name:" + a.WorkspaceName}, 1)
}
